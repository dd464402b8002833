// What changed between two states of a campaign, in words: the feed's "what changed", the conflict
// view's "their changes / your changes", a revision in the campaign's history.
import { DIMENSIONS, flight } from "./format.ts";
import type { RevisionState } from "./queries.ts";

const short = (text: string, max = 40) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function listChanges(label: string, before: readonly string[], after: readonly string[]): string[] {
  const was = new Set(before);
  const now = new Set(after);
  const added = after.filter((v) => !was.has(v));
  const removed = before.filter((v) => !now.has(v));
  const out: string[] = [];
  const few = (values: string[]) =>
    values.length <= 3 ? values.join(", ") : `${values.slice(0, 3).join(", ")} +${values.length - 3}`;
  if (added.length) out.push(`+${label} ${few(added)}`);
  if (removed.length) out.push(`−${label} ${few(removed)}`);
  return out;
}

/** One phrase per changed field or rule list; empty when nothing editable changed. */
export function describeChanges(before: RevisionState, after: RevisionState): string[] {
  const out: string[] = [];
  if (before.name !== after.name) out.push(`name “${short(before.name)}” → “${short(after.name)}”`);
  if (before.status !== after.status) out.push(`status ${before.status} → ${after.status}`);
  if (before.priority !== after.priority) out.push(`priority ${before.priority} → ${after.priority}`);
  if (before.startsAt !== after.startsAt || before.endsAt !== after.endsAt) out.push(`flight ${flight(after)}`);
  if (before.cta !== after.cta) out.push(`cta “${short(after.cta)}”`);
  if (before.imageUrl !== after.imageUrl) out.push("image");
  for (const mode of ["include", "exclude"] as const) {
    for (const [key, label] of DIMENSIONS) {
      const prefix = mode === "include" ? label : `not ${label}`;
      out.push(...listChanges(prefix, before.targeting[mode][key], after.targeting[mode][key]));
    }
  }
  return out;
}

/** A new campaign in a few words: "ACTIVE · priority 7 · country FR". */
export function describeNew(c: RevisionState): string[] {
  const out = [c.status, `priority ${c.priority}`];
  for (const [key, label] of DIMENSIONS) {
    const values = c.targeting.include[key];
    if (values.length) out.push(`${label} ${values.length <= 3 ? values.join(", ") : `${values.length} values`}`);
  }
  return out;
}
