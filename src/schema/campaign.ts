// Campaign: the object type (targeting planned into the same SQL query by the Prisma plugin) and the
// campaigns/campaign queries. Mutations are in campaign-mutations.ts.
import { CampaignStatus as CampaignStatusValues } from "../generated/prisma/enums.ts";
import { builder } from "./builder.ts";
import { Targeting, toTargeting } from "./targeting.ts";
import { normalizeId, validateCursor, validateIntArgs } from "./validation.ts";

export const MAX_PAGE = 500;

export const CampaignStatus = builder.enumType(CampaignStatusValues, { name: "CampaignStatus" });

builder.prismaObject("Campaign", {
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    imageUrl: t.exposeString("imageUrl"),
    cta: t.exposeString("cta"),
    status: t.expose("status", { type: CampaignStatus }),
    priority: t.exposeInt("priority"),
    startsAt: t.expose("startsAt", { type: "DateTime", nullable: true }),
    endsAt: t.expose("endsAt", { type: "DateTime", nullable: true }),
    targeting: t.field({
      type: Targeting,
      select: { rules: { select: { dimension: true, mode: true, value: true } } },
      resolve: (campaign) => toTargeting(campaign.rules),
    }),
    revision: t.exposeInt("revision"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

builder.queryFields((t) => ({
  campaigns: t.prismaField({
    type: ["Campaign"],
    description: `Campaigns ordered by id; page with \`after\` (the last id seen). \`first\` at most ${MAX_PAGE}.`,
    args: {
      status: t.arg({ type: CampaignStatus }),
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
    },
    resolve: (query, _root, args, ctx) => {
      const { first } = validateIntArgs({ first: [args.first ?? 50, 1, MAX_PAGE] });
      const after = args.after == null ? undefined : validateCursor(args.after, "after");
      return ctx.db.campaign.findMany({
        ...query,
        where: {
          ...(args.status ? { status: args.status } : {}),
          ...(after !== undefined ? { id: { gt: after } } : {}),
        },
        orderBy: { id: "asc" },
        take: first,
      });
    },
  }),
  campaign: t.prismaField({
    type: "Campaign",
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = normalizeId(args.id);
      return id === undefined ? null : ctx.db.campaign.findUnique({ ...query, where: { id } });
    },
  }),
}));
