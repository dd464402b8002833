// How every mutation writes: its turn at the write gate (bounded concurrency, queued), one transaction,
// the version it allocated read inside it (the triggers allocate exactly one per transaction), then the
// commit hook, which says whether it propagated.
import type { Prisma } from "../generated/prisma/client.ts";
import type { Context } from "./context.ts";
import { fromDatabaseError } from "./errors.ts";

export type Tx = Prisma.TransactionClient;

export interface Committed<T> {
  value: T;
  version: number;
  propagated: boolean;
}

export async function commitChange<T>(
  ctx: Context,
  work: (tx: Tx) => Promise<T>,
  options: { timeoutMs?: number; bulk?: boolean } = {},
): Promise<Committed<T>> {
  const db = options.bulk ? ctx.bulkDb : ctx.db;
  const { value, version } = await ctx.writes.run(() =>
    db
      .$transaction(
        async (tx) => {
          const value = await work(tx);
          const [row] = await tx.$queryRaw<
            { version: number | null }[]
          >`SELECT bullseye_allocated_version() AS version`;
          // Every mutation writes at least one row, so a missing version is a bug, not a user error.
          if (row?.version == null) throw new Error("mutation committed no change: no version allocated");
          return { value, version: row.version };
        },
        // A free gate slot means a free pool connection: a long wait for one means the pool is broken.
        { maxWait: 2_000, timeout: options.timeoutMs ?? 15_000 },
      )
      .catch((error: unknown) => {
        const mapped = fromDatabaseError(error);
        if (mapped?.extensions.code === "UNAVAILABLE") {
          ctx.log.warn({ err: error, queued: ctx.writes.queued }, "write failed: the database is unavailable");
          ctx.writes.failQueued(mapped);
        }
        throw error;
      }),
  );
  return { value, version, propagated: await ctx.afterCommit(version) };
}
