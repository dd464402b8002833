// "How much traffic would this targeting reach?": forecast answers for a draft (nothing is saved) from
// the traffic samples of every replica (src/sync/forecasts.ts; docs/CONTRACT.md §5, forecast).
import type { Forecast as ForecastResult } from "../delivery/forecast.ts";
import type { DimensionValues } from "../delivery/types.ts";
import { builder } from "./builder.ts";
import { unavailable } from "./errors.ts";
import { TargetingInput } from "./targeting.ts";
import { type RuleData, validateTargetingDraft } from "./validation.ts";

const DIMENSION_OF = { APP: "app", COUNTRY: "country", OS: "os", CATEGORY: "category" } as const;

function toDimensionValues(rules: readonly RuleData[], mode: RuleData["mode"]): DimensionValues {
  const values: Record<keyof DimensionValues, string[]> = { app: [], country: [], os: [], category: [] };
  for (const rule of rules) if (rule.mode === mode) values[DIMENSION_OF[rule.dimension]].push(rule.value);
  return values;
}

const Overlap = builder.objectRef<{ campaignId: string; share: number }>("Overlap").implement({
  fields: (t) => ({
    campaign: t.prismaField({
      type: "Campaign",
      resolve: (query, overlap, _args, ctx) =>
        ctx.db.campaign.findUniqueOrThrow({ ...query, where: { id: overlap.campaignId } }),
    }),
    share: t.exposeFloat("share", { description: "Share of the draft's matching requests this campaign matches too" }),
  }),
});

const Forecast = builder.objectRef<ForecastResult>("Forecast").implement({
  fields: (t) => ({
    sampledRequests: t.exposeInt("sampledRequests", { description: "Sampled requests the estimate rests on" }),
    matchingShare: t.exposeFloat("matchingShare", { description: "Share of recent requests the draft would match" }),
    requestsPerHour: t.exposeFloat("requestsPerHour", {
      description: "Requests per hour that share represents, from the replicas' delivery counts (last hour)",
    }),
    replicasAnswered: t.exposeInt("replicasAnswered", { description: "Replicas whose sample is included" }),
    overlaps: t.field({
      type: [Overlap],
      description: "ACTIVE campaigns flying during the draft's window that match the most of its requests (≤ 10)",
      extensions: { listSize: 10 },
      resolve: (forecast) => forecast.overlaps,
    }),
  }),
});

builder.queryFields((t) => ({
  forecast: t.field({
    type: Forecast,
    description:
      "Reach of draft targeting over the last hour's traffic, from every live replica's sample (each answers " +
      "within a bounded wait); nothing is saved",
    args: {
      targeting: t.arg({ type: TargetingInput, required: true }),
      startsAt: t.arg({ type: "DateTime" }),
      endsAt: t.arg({ type: "DateTime" }),
    },
    resolve: async (_root, args, ctx) => {
      const { rules, startsAt, endsAt } = validateTargetingDraft(args);
      if (!ctx.forecasts) throw unavailable("forecasts are not available on this replica");
      const others = (await ctx.liveReplicas()).filter((replica) => replica.id !== ctx.config.REPLICA_ID).length;
      const forecast = await ctx.forecasts.forecast(
        {
          include: toDimensionValues(rules, "INCLUDE"),
          exclude: toDimensionValues(rules, "EXCLUDE"),
          startsAt: startsAt?.getTime() ?? null,
          endsAt: endsAt?.getTime() ?? null,
        },
        others,
      );
      // A campaign deleted since is not shown.
      const ids = forecast.overlaps.map((overlap) => overlap.campaignId);
      const rows = await ctx.db.campaign.findMany({ where: { id: { in: ids } }, select: { id: true } });
      const existing = new Set(rows.map((row) => row.id));
      return { ...forecast, overlaps: forecast.overlaps.filter((overlap) => existing.has(overlap.campaignId)) };
    },
  }),
}));
