// revertCampaign: writes the state a campaign had at an earlier revision as a new revision (fields and
// the whole targeting), restoring it if it was deleted since — one transaction, one version, propagated
// like any mutation.
import type { CampaignRow, RuleRow } from "../store/campaign-writes.ts";
import { upsertCampaigns } from "../store/campaign-writes.ts";
import { type CampaignStateJson, findCampaignRevision, latestCampaignRevision } from "../store/history.ts";
import { builder } from "./builder.ts";
import { CampaignChange } from "./campaign-mutations.ts";
import { badUserInput, conflict, notFound } from "./errors.ts";
import { REASON_DESCRIPTION, validateId, validateIntArgs, validateReason } from "./validation.ts";
import { commitChange } from "./write.ts";

const DIMENSIONS = [
  ["apps", "APP"],
  ["countries", "COUNTRY"],
  ["os", "OS"],
  ["categories", "CATEGORY"],
] as const;

/** A revision's state as the row upsertCampaigns writes (the values were normalised when first written). */
function rowOf(id: string, state: CampaignStateJson): CampaignRow {
  const rules: RuleRow[] = [];
  for (const [mode, values] of [
    ["INCLUDE", state.targeting.include],
    ["EXCLUDE", state.targeting.exclude],
  ] as const) {
    for (const [field, dimension] of DIMENSIONS)
      for (const value of values[field]) rules.push({ dimension, mode, value });
  }
  return {
    id,
    name: state.name,
    imageUrl: state.imageUrl,
    cta: state.cta,
    status: state.status,
    priority: state.priority,
    startsAt: state.startsAt === null ? null : new Date(state.startsAt),
    endsAt: state.endsAt === null ? null : new Date(state.endsAt),
    rules,
  };
}

builder.mutationField("revertCampaign", (t) =>
  t.field({
    type: CampaignChange,
    description:
      "Writes the campaign's state at `toRevision` as a new revision (restores a deleted campaign). `expectedRevision`: " +
      "the current revision — for a deleted campaign, the revision of its deletion — else CONFLICT, nothing written.",
    args: {
      id: t.arg.id({ required: true }),
      toRevision: t.arg.int({ required: true }),
      expectedRevision: t.arg.int(),
      reason: t.arg.string({ description: REASON_DESCRIPTION }),
    },
    resolve: async (_root, args, ctx) => {
      const id = validateId(args.id);
      const { toRevision } = validateIntArgs({ toRevision: [args.toRevision, 1, 2 ** 31 - 1] });
      const expected = args.expectedRevision ?? undefined;
      const reason = validateReason(args.reason);
      const committed = await commitChange(
        ctx,
        async (tx) => {
          // The campaign row first (every writer locks campaigns before anything else: no lock cycles).
          const [current] = await tx.$queryRaw<{ revision: number }[]>`
            SELECT revision FROM campaign WHERE id = ${id} FOR UPDATE`;
          const target = await findCampaignRevision(tx, id, toRevision);
          if (!target)
            throw notFound(`campaign ${id} has no revision ${toRevision} (or it is older than HISTORY_DAYS)`);
          if (target.deleted) {
            throw badUserInput({ toRevision: `revision ${toRevision} is a deletion; deleteCampaign deletes` });
          }
          const latest = current?.revision ?? (await latestCampaignRevision(tx, id));
          if (expected !== undefined && latest !== expected) {
            throw conflict(`campaign ${id} is at revision ${latest}, not ${expected}`, { revision: latest });
          }
          // Existing: fields and rules replaced, revision + 1. Deleted: inserted again; the commit trigger
          // moves its revision past the deletion's.
          await upsertCampaigns(tx, [rowOf(id, target.state)]);
        },
        { reason },
      );
      return { ...committed, campaignId: id };
    },
  }),
);
