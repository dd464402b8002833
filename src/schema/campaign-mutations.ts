// Campaign mutations: create, update (optimistic concurrency via expectedRevision), delete, import.
// Each is one transaction with one change-log version naming who made it and why, then the commit hook
// (write.ts).
import { PassThrough } from "node:stream";
import { runInSlices } from "../delivery/steps.ts";
import { upsertCampaigns } from "../store/campaign-writes.ts";
import { carriedState } from "../sync/carried-change.ts";
import { builder } from "./builder.ts";
import { CampaignStatus } from "./campaign.ts";
import { badUserInput, conflict, isUniqueViolation, notFound } from "./errors.ts";
import { slicedArgument } from "./sliced-variables.ts";
import { TargetingInput } from "./targeting.ts";
import {
  type CampaignData,
  REASON_DESCRIPTION,
  validateCreateCampaign,
  validateId,
  validateImport,
  validateReason,
  validateUpdateCampaign,
} from "./validation.ts";
import { commitChange } from "./write.ts";

export interface CampaignChangeShape {
  version: number;
  propagated: boolean;
  /** The campaign to show; null after a delete. */
  campaignId: string | null;
}

export const CampaignChange = builder.objectRef<CampaignChangeShape>("CampaignChange").implement({
  fields: (t) => ({
    version: t.exposeInt("version", { description: "The change-log version this mutation committed as" }),
    propagated: t.exposeBoolean("propagated", {
      description: "Whether live replicas serve this version (or a later one) already",
    }),
    campaign: t.prismaField({
      type: "Campaign",
      nullable: true,
      description: "The campaign as stored now; null after deleteCampaign",
      resolve: (query, change, _args, ctx) =>
        change.campaignId === null ? null : ctx.db.campaign.findUnique({ ...query, where: { id: change.campaignId } }),
    }),
  }),
});

const ImportResult = builder
  .objectRef<{ version: number; propagated: boolean; count: number }>("ImportResult")
  .implement({
    fields: (t) => ({
      version: t.exposeInt("version"),
      propagated: t.exposeBoolean("propagated"),
      count: t.exposeInt("count", { description: "Campaigns created or replaced" }),
    }),
  });

const CreateCampaignInput = builder.inputType("CreateCampaignInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ required: true }),
    imageUrl: t.string({ required: true }),
    cta: t.string({ required: true }),
    status: t.field({ type: CampaignStatus }),
    priority: t.int(),
    startsAt: t.field({ type: "DateTime" }),
    endsAt: t.field({ type: "DateTime" }),
    targeting: t.field({ type: TargetingInput }),
  }),
});

const UpdateCampaignInput = builder.inputType("UpdateCampaignInput", {
  description: "Absent fields are kept; startsAt/endsAt null clears them; targeting given replaces all rules",
  fields: (t) => ({
    name: t.string(),
    imageUrl: t.string(),
    cta: t.string(),
    status: t.field({ type: CampaignStatus }),
    priority: t.int(),
    startsAt: t.field({ type: "DateTime" }),
    endsAt: t.field({ type: "DateTime" }),
    targeting: t.field({ type: TargetingInput }),
    expectedRevision: t.int({ description: "Fail with CONFLICT (writing nothing) unless this is the stored revision" }),
  }),
});

builder.mutationFields((t) => ({
  createCampaign: t.field({
    type: CampaignChange,
    args: {
      input: t.arg({ type: CreateCampaignInput, required: true }),
      reason: t.arg.string({ description: REASON_DESCRIPTION }),
    },
    resolve: async (_root, args, ctx) => {
      const { rules, ...campaign } = validateCreateCampaign(args.input);
      const reason = validateReason(args.reason);
      const committed = await commitChange(
        ctx,
        async (tx) => {
          try {
            await tx.campaign.create({
              data: { ...campaign, rules: rules.length ? { createMany: { data: rules } } : undefined },
              select: { id: true },
            });
          } catch (error) {
            if (isUniqueViolation(error)) throw conflict(`campaign ${campaign.id} already exists`);
            throw error;
          }
        },
        { reason },
      );
      return { ...committed, campaignId: campaign.id };
    },
  }),

  updateCampaign: t.field({
    type: CampaignChange,
    description: "Targeting given = replaced whole. Always bumps the revision.",
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateCampaignInput, required: true }),
      reason: t.arg.string({ description: REASON_DESCRIPTION }),
    },
    resolve: async (_root, args, ctx) => {
      const { id, patch } = validateUpdateCampaign(args.id, args.input);
      const reason = validateReason(args.reason);
      const { rules, expectedRevision, ...fields } = patch;
      const committed = await commitChange(
        ctx,
        async (tx) => {
          // The revision check is part of the UPDATE's WHERE: of two concurrent updates expecting the same
          // revision, the second re-checks it after the first commits, matches no row, and fails.
          const updated = await tx.campaign.updateManyAndReturn({
            where: { id, ...(expectedRevision !== undefined ? { revision: expectedRevision } : {}) },
            data: { ...fields, revision: { increment: 1 } },
            select: { startsAt: true, endsAt: true },
          });
          const row = updated[0];
          if (!row) {
            const current = await tx.campaign.findUnique({ where: { id }, select: { revision: true } });
            if (!current) throw notFound(`campaign ${id} does not exist`);
            throw conflict(`campaign ${id} is at revision ${current.revision}, not ${expectedRevision}`, {
              revision: current.revision,
            });
          }
          if (row.startsAt && row.endsAt && row.endsAt <= row.startsAt) {
            throw badUserInput(
              fields.endsAt !== undefined
                ? { "input.endsAt": "must be after startsAt" }
                : { "input.startsAt": "must be before endsAt" },
            );
          }
          if (rules) {
            await tx.targetingRule.deleteMany({ where: { campaignId: id } });
            if (rules.length) {
              await tx.targetingRule.createMany({ data: rules.map((rule) => ({ ...rule, campaignId: id })) });
            }
          }
        },
        { reason },
      );
      return { ...committed, campaignId: id };
    },
  }),

  deleteCampaign: t.field({
    type: CampaignChange,
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ description: REASON_DESCRIPTION }) },
    resolve: async (_root, args, ctx) => {
      const id = validateId(args.id);
      const reason = validateReason(args.reason);
      const committed = await commitChange(
        ctx,
        async (tx) => {
          const { count } = await tx.campaign.deleteMany({ where: { id } });
          if (count === 0) throw notFound(`campaign ${id} does not exist`);
        },
        { reason },
      );
      return { ...committed, campaignId: null };
    },
  }),

  importCampaigns: t.field({
    type: ImportResult,
    description:
      "Creates or replaces every campaign given (absent fields take their defaults; absent targeting = no rules), " +
      "in one transaction with one version. Any invalid item fails the whole batch, naming item and field.",
    args: {
      campaigns: t.arg({ type: [CreateCampaignInput], required: true }),
      reason: t.arg.string({ description: REASON_DESCRIPTION }),
    },
    resolve: async (_root, args, ctx, info) => {
      const reason = validateReason(args.reason);
      // The campaigns are written batch by batch as they pass validation (the writing waits for
      // Postgres most of the time, the validation for the CPU); any invalid item fails the transaction.
      const batches = new PassThrough({ objectMode: true });
      const validated = validateImport(slicedArgument(ctx, info, "campaigns", args.campaigns), (batch) =>
        batches.write(batch),
      );
      // Ended either way: a failed validation is thrown by `await validated` below, in the transaction.
      validated.then(
        () => batches.end(),
        () => batches.end(),
      );
      const carries = validated.then((campaigns) => runInSlices(carriedState(campaigns)));
      carries.catch(() => undefined);
      const committed = await commitChange(
        ctx,
        async (tx) => {
          for await (const batch of batches) await upsertCampaigns(tx, batch as CampaignData[]);
          return (await validated).length;
        },
        { timeoutMs: 120_000, reason, carries },
      );
      return { version: committed.version, propagated: committed.propagated, count: committed.value };
    },
  }),
}));
