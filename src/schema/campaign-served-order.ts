// The SERVED_LAST_HOUR order of campaignsPage. Served counts live in the stats store, not in Postgres,
// so the filtered ids come from Postgres (id order, an index-only read) and are ordered here by the
// hour's totals, read for all campaigns at once (stats/hour-totals.ts; ~1 s fresh, shared by requests).
// Measured at 50k campaigns in the README's Dashboard section.
import type { Prisma } from "../generated/prisma/client.ts";
import type { Position } from "./campaign-order.ts";
import type { Context } from "./context.ts";
import { unavailable } from "./errors.ts";

/** Served-last-hour count by id: every campaign's at once from the stats store. */
async function hourTotals(ctx: Context): Promise<(id: string) => number> {
  try {
    const counts = await ctx.stats.hourTotals();
    return (id) => counts.get(id);
  } catch {
    throw unavailable("delivery stats are unavailable (Redis); order by another field or try again");
  }
}

export interface ServedPage {
  ids: string[];
  positions: Position[];
  hasNextPage: boolean;
  totalCount: number;
}

export async function servedPage(
  ctx: Context,
  where: Prisma.CampaignWhereInput,
  first: number,
  after: Position | undefined,
): Promise<ServedPage> {
  const rows = await ctx.db.campaign.findMany({ where, select: { id: true }, orderBy: { id: "asc" } });
  const ids = rows.map((row) => row.id);
  const served = await hourTotals(ctx);
  // Served ones first by count (a stable sort keeps the database's id order among equal counts), then
  // the rest in id order: the total order this page walks.
  const withCounts: Position[] = [];
  const unserved: Position[] = [];
  for (const id of ids) {
    const key = served(id);
    (key > 0 ? withCounts : unserved).push({ key, id });
  }
  withCounts.sort((a, b) => b.key - a.key);
  const ordered = withCounts.concat(unserved);
  const start = after ? startAfter(ordered, after) : 0;
  const positions = ordered.slice(start, start + first);
  return {
    ids: positions.map((p) => p.id),
    positions,
    hasNextPage: start + first < ordered.length,
    totalCount: ordered.length,
  };
}

/** The index just after the cursor's campaign; if it moved or went away, after where it was. */
function startAfter(ordered: readonly Position[], after: Position): number {
  const at = ordered.findIndex((p) => p.id === after.id);
  if (at !== -1 && ordered[at]?.key === after.key) return at + 1;
  const next = ordered.findIndex((p) => p.key < after.key || (p.key === after.key && p.id > after.id));
  return next === -1 ? ordered.length : next;
}
