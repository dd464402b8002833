// Campaign.stats: deliveries counted by every replica, per minute (src/stats/). Read through a
// request-scoped DataLoader, so any number of campaigns in one request costs one Redis round trip.
import { LAST_HOUR_BUCKETS, LAST_MINUTE_BUCKETS, RETENTION_MINUTES, sumNewest } from "../stats/minutes.ts";
import { builder } from "./builder.ts";
import type { Context } from "./context.ts";
import { unavailable } from "./errors.ts";
import { validateIntArgs } from "./validation.ts";

/** What the CampaignStats fields resolve from: the campaign, and the loader of its counts. */
interface StatsShape {
  campaignId: string;
}

/** Redis down: UNAVAILABLE on this field (null), the rest of the campaign still answers. */
async function load(ctx: Context, campaignId: string, minutes: number): Promise<number[]> {
  try {
    return await ctx.statsLoader.load({ campaignId, minutes });
  } catch {
    throw unavailable("delivery stats are unavailable (Redis); try again");
  }
}

const CampaignStats = builder.objectRef<StatsShape>("CampaignStats").implement({
  description:
    "Deliveries of a campaign (responses that served it), summed over every replica; flushed every 0.5 s, so " +
    "up to about a second behind. Buckets are whole UTC minutes; the newest one is the current, partial minute.",
  fields: (t) => ({
    servedLastMinute: t.int({
      description: "The current minute bucket plus the previous one: at least the last 60 s, at most 120 s",
      resolve: async ({ campaignId }, _args, ctx) =>
        sumNewest(await load(ctx, campaignId, LAST_HOUR_BUCKETS), LAST_MINUTE_BUCKETS),
    }),
    servedLastHour: t.int({
      description: "The current minute bucket plus the 60 before it: at least the last 60 minutes",
      resolve: async ({ campaignId }, _args, ctx) =>
        sumNewest(await load(ctx, campaignId, LAST_HOUR_BUCKETS), LAST_HOUR_BUCKETS),
    }),
    series: t.intList({
      description: `Deliveries per minute, oldest first, ending with the current minute; at most ${RETENTION_MINUTES}`,
      args: { minutes: t.arg.int({ defaultValue: 60 }) },
      resolve: ({ campaignId }, args, ctx) => {
        const { minutes } = validateIntArgs({ minutes: [args.minutes ?? 60, 1, RETENTION_MINUTES] });
        return load(ctx, campaignId, minutes);
      },
    }),
  }),
});

builder.prismaObjectField("Campaign", "stats", (t) =>
  t.field({
    type: CampaignStats,
    nullable: true,
    description: "Null (with an UNAVAILABLE error) while the stats store cannot be read",
    select: { id: true },
    resolve: (campaign) => ({ campaignId: campaign.id }),
  }),
);
