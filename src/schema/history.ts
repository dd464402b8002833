// Campaign and category history: every revision, newest first, with who made it, why, and the whole
// state after it (deletions included). `Campaign.history` / `Category.history` for what exists;
// `campaignHistory(id)` / `categoryHistory(id)` reach the history of a deleted one too. Pages continue
// with `after` = the last revision seen. Reads go through request-scoped loaders: one query per page
// size for every campaign or category in the response.
import type { CampaignStateJson, CategoryStateJson, Revision } from "../store/history.ts";
import { builder } from "./builder.ts";
import { CampaignStatus } from "./campaign.ts";
import type { Context } from "./context.ts";
import { badUserInput } from "./errors.ts";
import { Targeting, type TargetingShape } from "./targeting.ts";
import { normalizeId, validateIntArgs } from "./validation.ts";

export const MAX_HISTORY_PAGE = 500;
const DEFAULT_HISTORY_PAGE = 20;

const instant = (iso: string | null) => (iso === null ? null : new Date(iso));

/** Lists sorted like Campaign.targeting (code-unit order), whatever the database collation sorted by. */
function sortedTargeting(targeting: CampaignStateJson["targeting"]): TargetingShape {
  const sorted = (values: TargetingShape["include"]) => ({
    apps: [...values.apps].sort(),
    countries: [...values.countries].sort(),
    os: [...values.os].sort(),
    categories: [...values.categories].sort(),
  });
  return { include: sorted(targeting.include), exclude: sorted(targeting.exclude) };
}

const CampaignState = builder.objectRef<Revision<CampaignStateJson>>("CampaignState").implement({
  description: "A campaign's fields and targeting as they were at a revision",
  fields: (t) => ({
    id: t.id({ resolve: (r) => r.id }),
    name: t.string({ resolve: (r) => r.state.name }),
    imageUrl: t.string({ resolve: (r) => r.state.imageUrl }),
    cta: t.string({ resolve: (r) => r.state.cta }),
    status: t.field({ type: CampaignStatus, resolve: (r) => r.state.status }),
    priority: t.int({ resolve: (r) => r.state.priority }),
    startsAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => instant(r.state.startsAt) }),
    endsAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => instant(r.state.endsAt) }),
    targeting: t.field({ type: Targeting, resolve: (r) => sortedTargeting(r.state.targeting) }),
  }),
});

const CategoryState = builder.objectRef<Revision<CategoryStateJson>>("CategoryState").implement({
  description: "A category's name and apps as they were at a revision",
  fields: (t) => ({
    id: t.id({ resolve: (r) => r.id }),
    name: t.string({ resolve: (r) => r.state.name }),
    apps: t.stringList({ resolve: (r) => [...r.state.apps].sort() }),
  }),
});

const revisionFields = {
  revision: "1 on create, +1 on every change (a deletion too); a campaign created again continues the count",
  version: "The change-log version that made it",
  actor: "Who: an API key's name (env-admin / env-viewer for the env tokens), or sql:<database user>",
  reason: "Why, as the actor said",
  at: "When the version committed",
  deleted: "This revision deleted it (its state is the one deleted)",
};

const CampaignRevision = builder.objectRef<Revision<CampaignStateJson>>("CampaignRevision").implement({
  fields: (t) => ({
    revision: t.exposeInt("revision", { description: revisionFields.revision }),
    version: t.exposeInt("version", { description: revisionFields.version }),
    actor: t.exposeString("actor", { description: revisionFields.actor }),
    reason: t.exposeString("reason", { nullable: true, description: revisionFields.reason }),
    at: t.expose("at", { type: "DateTime", description: revisionFields.at }),
    deleted: t.exposeBoolean("deleted", { description: revisionFields.deleted }),
    campaign: t.field({ type: CampaignState, description: "The whole state at this revision", resolve: (r) => r }),
  }),
});

const CategoryRevision = builder.objectRef<Revision<CategoryStateJson>>("CategoryRevision").implement({
  fields: (t) => ({
    revision: t.exposeInt("revision", { description: "1 on create, +1 on every change (a deletion too)" }),
    version: t.exposeInt("version", { description: revisionFields.version }),
    actor: t.exposeString("actor", { description: revisionFields.actor }),
    reason: t.exposeString("reason", { nullable: true, description: revisionFields.reason }),
    at: t.expose("at", { type: "DateTime", description: revisionFields.at }),
    deleted: t.exposeBoolean("deleted", { description: revisionFields.deleted }),
    category: t.field({ type: CategoryState, description: "The whole state at this revision", resolve: (r) => r }),
  }),
});

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** `first` within bounds; `after` a revision number (the last one of the previous page). */
function page(args: PageArgs): { first: number; before: number | null } {
  const { first } = validateIntArgs({ first: [args.first ?? DEFAULT_HISTORY_PAGE, 1, MAX_HISTORY_PAGE] });
  if (args.after == null) return { first, before: null };
  const before = /^\d{1,10}$/.test(args.after) ? Number(args.after) : Number.NaN;
  if (!(before <= 2 ** 31 - 1)) throw badUserInput({ after: "must be a revision number from a previous page" });
  return { first, before };
}

const FIRST = { defaultValue: DEFAULT_HISTORY_PAGE, description: `At most ${MAX_HISTORY_PAGE}` };
const AFTER = { description: "The revision (as a string) the previous page ended with" };

const campaignHistory = (ctx: Context, id: string, args: PageArgs) => {
  const { first, before } = page(args);
  return ctx.loaders.history<CampaignStateJson>("campaign", first, before).load(id);
};

const categoryHistory = (ctx: Context, id: string, args: PageArgs) => {
  const { first, before } = page(args);
  return ctx.loaders.history<CategoryStateJson>("category", first, before).load(id);
};

builder.prismaObjectField("Campaign", "history", (t) =>
  t.field({
    type: [CampaignRevision],
    description: "Revisions, newest first; see campaignHistory for a deleted campaign's",
    args: { first: t.arg.int(FIRST), after: t.arg.string(AFTER) },
    resolve: (campaign, args, ctx) => campaignHistory(ctx, campaign.id, args),
  }),
);

builder.prismaObjectField("Category", "history", (t) =>
  t.field({
    type: [CategoryRevision],
    description: "Revisions, newest first; see categoryHistory for a deleted category's",
    args: { first: t.arg.int(FIRST), after: t.arg.string(AFTER) },
    resolve: (category, args, ctx) => categoryHistory(ctx, category.id, args),
  }),
);

builder.queryFields((t) => ({
  campaignHistory: t.field({
    type: [CampaignRevision],
    description: `A campaign's revisions by id, newest first — also once it is deleted (kept HISTORY_DAYS)`,
    args: { id: t.arg.id({ required: true }), first: t.arg.int(FIRST), after: t.arg.string(AFTER) },
    resolve: async (_root, args, ctx) => {
      const id = normalizeId(args.id);
      return id === undefined ? [] : campaignHistory(ctx, id, args);
    },
  }),
  categoryHistory: t.field({
    type: [CategoryRevision],
    description: `A category's revisions by id, newest first — also once it is deleted (kept HISTORY_DAYS)`,
    args: { id: t.arg.id({ required: true }), first: t.arg.int(FIRST), after: t.arg.string(AFTER) },
    resolve: async (_root, args, ctx) => {
      const id = normalizeId(args.id);
      return id === undefined ? [] : categoryHistory(ctx, id, args);
    },
  }),
}));
