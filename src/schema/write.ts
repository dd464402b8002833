// How every mutation writes: its turn at the write gate (bounded concurrency, queued), one transaction,
// the version it allocated read inside it (the triggers allocate exactly one per transaction) in the same
// statement that names the actor and reason on its change_log row, then the commit hook, which says
// whether it propagated.
//
// A write statement may legitimately wait a while for the change counter's lock when many writers
// contend, so write statements have no short bound. Whether the database still answers is asked
// separately: once a write has taken LIVENESS_AFTER_MS, a probe (`SELECT 1`, bounded like every GraphQL
// read) runs beside it; if the probe fails, the mutation (and every queued one) is UNAVAILABLE at once,
// and the transaction, should it ever get an answer, is rolled back instead of committed.
import type { Prisma } from "../generated/prisma/client.ts";
import type { CarriedChange } from "../sync/carried-change.ts";
import type { PreparedChange } from "../sync/propagation.ts";
import type { Context } from "./context.ts";
import { fromDatabaseError, unavailable } from "./errors.ts";

export type Tx = Prisma.TransactionClient;

export interface Committed<T> {
  value: T;
  version: number;
  propagated: boolean;
}

/** A write still running after this long makes the database prove it is alive. */
const LIVENESS_AFTER_MS = 250;
/** Then again this often while the write runs. */
const LIVENESS_EVERY_MS = 1_000;

class Abandoned extends Error {}

export interface CommitOptions {
  timeoutMs?: number;
  /** Why, as the caller said (the mutation's `reason` argument, validated). */
  reason?: string | null;
  /**
   * The whole state the write leaves these campaigns and categories in, when the mutation knows it (or
   * will, while the transaction runs): carried to the replicas ahead of the commit (Context.prepareChange).
   */
  carries?: Promise<CarriedChange>;
}

export async function commitChange<T>(
  ctx: Context,
  work: (tx: Tx) => Promise<T>,
  options: CommitOptions = {},
): Promise<Committed<T>> {
  const actor = ctx.principal.name;
  const reason = options.reason ?? null;
  let abandoned = false;
  // Only a running write is watched: queued ones are refused by failQueued when a running one finds out.
  const watchdog = livenessWatch(ctx);
  let prepared: PreparedChange | undefined;
  const transaction = ctx.writes.run(() => {
    watchdog.start();
    options.carries?.then(
      (change) => {
        if (!abandoned) prepared = ctx.prepareChange?.(change);
      },
      () => undefined,
    );
    return ctx.writeDb.$transaction(
      async (tx) => {
        const value = await work(tx);
        // A change carried ahead: the commit waits (at most PROPAGATION_TIMEOUT_MS) until every replica
        // has built the snapshot it makes, so they serve it at the commit rather than after it. Pausing
        // 5,000 campaigns of 50,000 otherwise committed before the builds were done, and propagated
        // 0.5–0.7 s later: false.
        if (options.carries) {
          // Settled, it has run the callback above that set `prepared` (registered first, run first).
          await options.carries.catch(() => undefined);
          await prepared?.built();
        }
        // The triggers wrote the row as `sql:<user>`; the API names the key instead (no extra round trip).
        const [row] = await tx.$queryRaw<{ version: number }[]>`
          UPDATE change_log SET actor = ${actor}, reason = ${reason}
          WHERE version = bullseye_allocated_version() RETURNING version`;
        // Every mutation writes at least one row, so a missing version is a bug, not a user error.
        if (!row) throw new Error("mutation committed no change: no version allocated");
        // The client was already told UNAVAILABLE: this write must not land after all.
        if (abandoned) throw new Abandoned("the database stopped answering; rolled back");
        return { value, version: row.version };
      },
      // How long it may wait to start is the write client's (src/db/client.ts: transactionWaitMs).
      { timeout: options.timeoutMs ?? 15_000 },
    );
  });
  try {
    const { value, version } = await Promise.race([transaction, watchdog.dead]);
    await options.carries;
    return { value, version, propagated: await ctx.afterCommit(version, prepared) };
  } catch (error) {
    abandoned = true;
    prepared?.abandon();
    transaction.catch(() => undefined);
    const mapped = fromDatabaseError(error);
    if (mapped?.extensions.code === "UNAVAILABLE") {
      ctx.log.warn({ err: error, queued: ctx.writes.queued }, "write failed: the database is unavailable");
      ctx.writes.failQueued(mapped);
      throw mapped;
    }
    throw error;
  } finally {
    watchdog.stop();
  }
}

/** Rejects with UNAVAILABLE if the database stops answering a bounded probe while a write runs. */
function livenessWatch(ctx: Context) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let start = () => {};
  const dead = new Promise<never>((_, reject) => {
    const probe = () => {
      ctx.db.$queryRaw`SELECT 1`.then(
        () => {
          if (!stopped) timer = setTimeout(probe, LIVENESS_EVERY_MS);
        },
        (error: unknown) => {
          if (stopped) return;
          const mapped = fromDatabaseError(error);
          reject(mapped?.extensions.code === "UNAVAILABLE" ? mapped : unavailable());
        },
      );
    };
    start = () => {
      if (!stopped) timer = setTimeout(probe, LIVENESS_AFTER_MS);
    };
  });
  dead.catch(() => undefined);
  return {
    dead,
    start: () => start(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
