// "Why is my campaign not serving?": explainDelivery reads this replica's index (the snapshot delivery
// answers from, PAUSED campaigns included) and gives, per campaign, whether it matches the device now
// and every reason it does not (docs/CONTRACT.md §5, explanations).
import { explainCampaign, type MatchReason as MatchReasonCode, type ReasonDetail } from "../delivery/explain.ts";
import { parseDeviceFields } from "../delivery/request.ts";
import { builder } from "./builder.ts";
import { currentSnapshot } from "./delivery.ts";
import { badUserInput } from "./errors.ts";
import { normalizeId, validateCursor, validateIntArgs } from "./validation.ts";

export const MAX_EXPLAINED = 500;

const REASONS: MatchReasonCode[] = [
  "PAUSED",
  "NOT_STARTED",
  "ENDED",
  "APP_NOT_INCLUDED",
  "APP_EXCLUDED",
  "COUNTRY_NOT_INCLUDED",
  "COUNTRY_EXCLUDED",
  "OS_NOT_INCLUDED",
  "OS_EXCLUDED",
  "CATEGORY_NOT_INCLUDED",
  "CATEGORY_EXCLUDED",
];

const MatchReason = builder.enumType("MatchReason", { values: REASONS });

const ReasonDetailType = builder.objectRef<ReasonDetail>("ReasonDetail").implement({
  fields: (t) => ({
    reason: t.field({ type: MatchReason, resolve: (detail) => detail.reason }),
    values: t.stringList({
      description: "The rule values involved (at most 100 of an include list), or the flight bound (ISO 8601)",
      resolve: (detail) => [...detail.values],
    }),
  }),
});

interface ExplanationShape {
  campaignId: string;
  matched: boolean;
  reasons: ReasonDetail[];
}

const CampaignExplanation = builder.objectRef<ExplanationShape>("CampaignExplanation").implement({
  fields: (t) => ({
    campaign: t.prismaField({
      type: "Campaign",
      // Prisma batches the findUnique calls of one tick into one query.
      resolve: (query, explanation, _args, ctx) =>
        ctx.db.campaign.findUniqueOrThrow({ ...query, where: { id: explanation.campaignId } }),
    }),
    matched: t.exposeBoolean("matched", { description: "Whether /v1/delivery on this replica serves it now" }),
    reasons: t.field({
      type: [ReasonDetailType],
      // Computed in memory, at most one per code: priced accordingly by the cost limit.
      extensions: { cost: 0, listSize: REASONS.length },
      resolve: (explanation) => explanation.reasons,
    }),
  }),
});

const DeviceEcho = builder
  .objectRef<{ app: string; os: string; country: string; categories: readonly string[] }>("DeviceEcho")
  .implement({
    description: "The device as delivery sees it: normalised values and the categories that contain its app",
    fields: (t) => ({
      app: t.exposeString("app"),
      os: t.exposeString("os"),
      country: t.exposeString("country"),
      categories: t.stringList({ resolve: (device) => [...device.categories] }),
    }),
  });

interface ExplanationPage {
  version: number;
  request: { app: string; os: string; country: string; categories: readonly string[] };
  campaigns: ExplanationShape[];
  nextCursor: string | null;
}

const Explanation = builder.objectRef<ExplanationPage>("Explanation").implement({
  fields: (t) => ({
    version: t.exposeInt("version", { description: "The index version that was read (X-Index-Version)" }),
    request: t.field({ type: DeviceEcho, extensions: { cost: 0 }, resolve: (page) => page.request }),
    campaigns: t.field({ type: [CampaignExplanation], resolve: (page) => page.campaigns }),
    nextCursor: t.string({
      nullable: true,
      description: "Without campaignIds: pass as `after` for the next page (ordered by id); null on the last page",
      resolve: (page) => page.nextCursor,
    }),
  }),
});

builder.queryFields((t) => ({
  explainDelivery: t.field({
    type: Explanation,
    description:
      "Per campaign (the given ids, or every ACTIVE and PAUSED campaign by id, paged): whether it matches this " +
      `device on this replica now and every reason it does not. \`first\` at most ${MAX_EXPLAINED}.`,
    args: {
      app: t.arg.string({ required: true }),
      os: t.arg.string({ required: true }),
      country: t.arg.string({ required: true }),
      campaignIds: t.arg.idList(),
      first: t.arg.int({ defaultValue: 100 }),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const parsed = parseDeviceFields(args);
      if (!parsed.ok) throw badUserInput(parsed.fields);
      const { first } = validateIntArgs({ first: [args.first ?? 100, 1, MAX_EXPLAINED] });
      const after = args.after == null ? null : validateCursor(args.after, "after");
      const snapshot = currentSnapshot(ctx);
      const now = Date.now();
      const request = parsed.request;
      const categories = snapshot.categoriesOf(request.app);

      let ids: string[];
      let nextCursor: string | null = null;
      if (args.campaignIds) {
        if (args.campaignIds.length > MAX_EXPLAINED) {
          throw badUserInput({ campaignIds: `at most ${MAX_EXPLAINED} ids` });
        }
        ids = [...new Set(args.campaignIds.map((id) => normalizeId(String(id)) ?? String(id)))];
      } else {
        const all = [...snapshot.campaignIds()].filter((id) => after === null || id > after).sort();
        ids = all.slice(0, first);
        if (all.length > first) nextCursor = ids.at(-1) ?? null;
      }
      const known = ids.flatMap((id) => {
        const entry = snapshot.campaign(id);
        return entry ? [{ id, ...entry }] : [];
      });
      // A campaign deleted since the snapshot was built has no row left to show.
      const rows = await ctx.db.campaign.findMany({
        where: { id: { in: known.map((c) => c.id) } },
        select: { id: true },
      });
      const existing = new Set(rows.map((row) => row.id));
      const campaigns = known
        .filter((c) => existing.has(c.id))
        .map(({ id, compiled, active }) => {
          const reasons = explainCampaign(compiled, active, request, categories, now);
          return { campaignId: id, matched: reasons.length === 0, reasons };
        });
      return { version: snapshot.version, request: { ...request, categories }, campaigns, nextCursor };
    },
  }),
}));
