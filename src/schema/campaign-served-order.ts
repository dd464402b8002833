// The SERVED_LAST_HOUR order of campaignsPage. Served counts live in the stats store, not in Postgres,
// so the filtered ids come from Postgres (id order, an index-only read) and are ordered here by the
// hour's totals, read for all campaigns at once (stats/hour-totals.ts; ~1 s fresh, shared by requests).
// Measured at 50k campaigns in the README's Dashboard section.
import type { Config } from "../config.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { createRedisHourTotals, type HourTotals } from "../stats/hour-totals.ts";
import { LAST_HOUR_BUCKETS, sumNewest } from "../stats/minutes.ts";
import type { Position } from "./campaign-order.ts";
import type { Context } from "./context.ts";
import { unavailable } from "./errors.ts";

/** One Redis reader per replica, made on first use (the GraphQL context has no slot for it). */
const readers = new WeakMap<Config, HourTotals>();

function redisReader(ctx: Context): HourTotals {
  let reader = readers.get(ctx.config);
  if (!reader) {
    const made = createRedisHourTotals({
      url: ctx.config.REDIS_URL as string,
      cluster: ctx.config.REDIS_CLUSTER,
      prefix: ctx.config.REDIS_PREFIX,
    });
    readers.set(ctx.config, made);
    ctx.shutdown?.addEventListener("abort", () => made.close(), { once: true });
    reader = made;
  }
  return reader;
}

/** Served-last-hour count by id, for the given ids. */
async function hourTotals(ctx: Context, ids: readonly string[]): Promise<(id: string) => number> {
  try {
    if (ctx.config.REDIS_URL) {
      const counts = await redisReader(ctx).read();
      return (id) => counts.get(id);
    }
    // The in-process store (no REDIS_URL, one replica) is only readable by id: one batch for all.
    const series = await ctx.statsLoader.loadMany(
      ids.map((campaignId) => ({ campaignId, minutes: LAST_HOUR_BUCKETS })),
    );
    const totals = new Map<string, number>();
    series.forEach((s, i) => {
      if (s instanceof Error) throw s;
      const n = sumNewest(s, LAST_HOUR_BUCKETS);
      if (n > 0) totals.set(ids[i] as string, n);
    });
    return (id) => totals.get(id) ?? 0;
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
  const served = await hourTotals(ctx, ids);
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
