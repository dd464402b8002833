// The change log as GraphQL shows it: one RuleChange per change_log_item, with its version's time.
import { RuleChangeKind as RuleChangeKindValues } from "../generated/prisma/enums.ts";
import { builder } from "./builder.ts";
import { currentVersion, streamRuleChanges } from "./rule-change-stream.ts";
import { validateIntArgs } from "./validation.ts";

export const MAX_CHANGES_PAGE = 500;

export const RuleChangeKind = builder.enumType(RuleChangeKindValues, { name: "RuleChangeKind" });

/** What every item shows of its version (the change feed selects the same). */
const VERSION_FIELDS = { at: true, actor: true, reason: true } as const;

const RuleChange = builder.prismaObject("ChangeLogItem", {
  name: "RuleChange",
  fields: (t) => ({
    version: t.exposeInt("version"),
    kind: t.expose("kind", { type: RuleChangeKind }),
    campaignId: t.exposeID("campaignId", { nullable: true }),
    categoryId: t.exposeID("categoryId", { nullable: true }),
    at: t.field({
      type: "DateTime",
      description: "When the version committed",
      select: { change: { select: VERSION_FIELDS } },
      resolve: (item) => item.change.at,
    }),
    actor: t.string({
      description:
        "Who made the version: an API key's name (env-admin, env-viewer for the env tokens), or sql:<database user>",
      select: { change: { select: VERSION_FIELDS } },
      resolve: (item) => item.change.actor,
    }),
    reason: t.string({
      nullable: true,
      description: "Why, as the actor said (a mutation's reason; SET LOCAL bullseye.reason in SQL)",
      select: { change: { select: VERSION_FIELDS } },
      resolve: (item) => item.change.reason,
    }),
  }),
});

builder.queryFields((t) => ({
  ruleChanges: t.prismaField({
    type: ["ChangeLogItem"],
    description: `Changes after sinceVersion, ordered by version; \`first\` at most ${MAX_CHANGES_PAGE}`,
    args: {
      sinceVersion: t.arg.int({ required: true }),
      first: t.arg.int({ defaultValue: 100 }),
    },
    resolve: (query, _root, args, ctx) => {
      const { first, sinceVersion } = validateIntArgs({
        first: [args.first ?? 100, 1, MAX_CHANGES_PAGE],
        sinceVersion: [args.sinceVersion, 0, 2 ** 31 - 1],
      });
      return ctx.db.changeLogItem.findMany({
        ...query,
        where: { version: { gt: sinceVersion } },
        orderBy: [{ version: "asc" }, { id: "asc" }],
        take: first,
      });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  ruleChanges: t.field({
    type: RuleChange,
    description: "Replays the log after sinceVersion (default: now), then streams live; no gap, no duplicate",
    args: { sinceVersion: t.arg.int() },
    subscribe: async (_root, args, ctx) => {
      // Without sinceVersion the start is fixed here, before the subscription is answered (SSE headers),
      // not when the stream is first read: a change committed after that answer is always streamed.
      const since =
        args.sinceVersion === null || args.sinceVersion === undefined
          ? await currentVersion(ctx)
          : validateIntArgs({ sinceVersion: [args.sinceVersion, 0, 2 ** 31 - 1] }).sinceVersion;
      return streamRuleChanges(ctx, since);
    },
    resolve: (item) => item,
  }),
}));
