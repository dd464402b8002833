// Which database a GraphQL read goes to. With DATABASE_REPLICA_URL, a query reads the read replica when
// it has replayed at least the version this replica already serves or knows of (so a client that saw
// its mutation propagated reads it back through any replica); otherwise, or when the read replica is
// unreachable, it reads the primary. Versions commit in order (one row lock), so a read replica whose
// change_counter shows v holds every change up to v.
import type { Logger } from "../logger.ts";
import type { Db } from "./client.ts";

export type ReadTarget = "primary" | "replica";

export interface ReadRouterOptions {
  /** A replay check older than this is repeated before the next read, so a dead replica is noticed. */
  recheckAfterMs?: number;
  /** A replay check slower than this counts as the replica being unreachable. */
  checkTimeoutMs?: number;
  /** After a failed check, read the primary this long before asking the read replica again. */
  retryAfterMs?: number;
  onRoute?: (target: ReadTarget) => void;
}

export class ReadRouter {
  /** Highest version seen replayed on the read replica; replay only moves forward. */
  private replayed = 0;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private downUntil = 0;
  private check: Promise<void> | null = null;

  constructor(
    private readonly primary: Db,
    private readonly replica: Db | undefined,
    private readonly log: Logger,
    private readonly options: ReadRouterOptions = {},
  ) {}

  /** The client for a read that must reflect at least `version`. */
  async forRead(version: number): Promise<Db> {
    const target = await this.targetFor(version);
    this.options.onRoute?.(target);
    return target === "replica" && this.replica ? this.replica : this.primary;
  }

  private async targetFor(version: number): Promise<ReadTarget> {
    if (!this.replica) return "primary";
    const now = Date.now();
    if (now < this.downUntil) return "primary";
    const fresh = now - this.checkedAt < (this.options.recheckAfterMs ?? 250);
    if (fresh && version <= this.replayed) return "replica";
    // One check at a time: concurrent reads share it.
    this.check ??= this.checkReplica(this.replica).finally(() => {
      this.check = null;
    });
    await this.check;
    return Date.now() >= this.downUntil && version <= this.replayed ? "replica" : "primary";
  }

  private async checkReplica(replica: Db): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.checkTimeoutMs ?? 500;
    try {
      const counter = await Promise.race([
        replica.changeCounter.findUnique({ where: { id: 1 }, select: { version: true } }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.replayed = Math.max(this.replayed, counter?.version ?? 0);
      this.checkedAt = Date.now();
      if (this.downUntil) this.log.info("read replica reachable again; GraphQL queries read it");
      this.downUntil = 0;
    } catch (error) {
      if (!this.downUntil) {
        this.log.warn({ err: error }, "read replica unavailable; GraphQL queries read the primary meanwhile");
      }
      this.downUntil = Date.now() + (this.options.retryAfterMs ?? 1_000);
    } finally {
      clearTimeout(timer);
    }
  }
}
