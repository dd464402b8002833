// History retention (HISTORY_DAYS): revisions older than that are deleted in the background, in small
// batches (each its own short transaction, so writers never wait behind a long delete), by one replica
// at a time (a transaction-scoped advisory lock per batch; a replica that does not get it leaves the run
// to the one that has it). The newest revision of a campaign or category that still exists is kept
// however old — it is its current state, and the revision a deletion or the next change counts from.
import type { Db } from "../db/client.ts";
import { Prisma } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";

/** pg advisory lock keys: "BULL", 2 (the migration runner holds another). */
const LOCK = [0x42554c4c, 2] as const;
const BATCH = 1_000;
const FIRST_RUN_MS = 60_000;
const EVERY_MS = 10 * 60_000;

const TABLES = [
  { revisions: Prisma.raw('"campaign_revision"'), key: Prisma.raw('"campaign_id"'), live: Prisma.raw('"campaign"') },
  { revisions: Prisma.raw('"category_revision"'), key: Prisma.raw('"category_id"'), live: Prisma.raw('"category"') },
];

export interface PruneResult {
  /** Revisions deleted; null when another replica held the lock. */
  deleted: number | null;
}

/** Deletes revisions older than `days`, `batch` at a time, until none is left or another replica prunes. */
export async function pruneHistory(db: Db, days: number, batch = BATCH): Promise<PruneResult> {
  let deleted = 0;
  for (const { revisions, key, live } of TABLES) {
    for (;;) {
      const count = await db.$transaction(async (tx) => {
        const [lock] = await tx.$queryRaw<
          { ok: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(${LOCK[0]}, ${LOCK[1]}) AS ok`;
        if (!lock?.ok) return null;
        return tx.$executeRaw`
          DELETE FROM ${revisions} WHERE (${key}, revision) IN (
            SELECT r.${key}, r.revision FROM ${revisions} r
            WHERE r.at < now() - make_interval(days => ${days})
              AND (EXISTS (SELECT 1 FROM ${revisions} n WHERE n.${key} = r.${key} AND n.revision > r.revision)
                   OR NOT EXISTS (SELECT 1 FROM ${live} e WHERE e.id = r.${key}))
            LIMIT ${batch})`;
      });
      if (count === null) return { deleted: deleted || null };
      deleted += count;
      if (count < batch) break;
    }
  }
  return { deleted };
}

export interface HistoryRetention {
  stop(): Promise<void>;
}

/** Prunes a minute after start, then every ten minutes. */
export function startHistoryRetention(db: Db, days: number, log: Logger): HistoryRetention {
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout;
  let stopped = false;
  const run = () => {
    running = pruneHistory(db, days).then(
      ({ deleted }) => {
        if (deleted) log.info({ deleted, days }, "pruned history older than HISTORY_DAYS");
      },
      (error: unknown) => log.warn({ err: error }, "cannot prune history; retrying later"),
    );
    running.finally(() => {
      if (!stopped) timer = setTimeout(run, EVERY_MS).unref();
    });
  };
  timer = setTimeout(run, FIRST_RUN_MS).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
