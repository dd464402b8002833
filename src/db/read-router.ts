// Which database a GraphQL read goes to. With DATABASE_REPLICA_URL, a query reads the read replica when
// it has replayed at least the version this replica already serves or knows of (so a client that saw
// its mutation propagated reads it back through any replica); otherwise, or when the read replica is
// unreachable, it reads the primary. Versions commit in order (one row lock), so a read replica whose
// change_counter shows v holds every change up to v.
import type { Logger } from "../logger.ts";
import type { Db } from "./client.ts";

export type ReadTarget = "primary" | "replica";

export interface ReadRouterOptions {
  /** After a failed check, read the primary this long before asking the read replica again. */
  retryAfterMs?: number;
  onRoute?: (target: ReadTarget) => void;
}

export class ReadRouter {
  /** Highest version seen replayed on the read replica; replay only moves forward. */
  private replayed = 0;
  private check: Promise<void> | null = null;
  private downUntil = 0;

  constructor(
    readonly primary: Db,
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
    if (version <= this.replayed) return "replica";
    if (Date.now() < this.downUntil) return "primary";
    // One check at a time: concurrent reads share it.
    this.check ??= this.readReplayedVersion(this.replica).finally(() => {
      this.check = null;
    });
    await this.check;
    return version <= this.replayed ? "replica" : "primary";
  }

  private async readReplayedVersion(replica: Db): Promise<void> {
    try {
      const counter = await replica.changeCounter.findUnique({ where: { id: 1 }, select: { version: true } });
      this.replayed = Math.max(this.replayed, counter?.version ?? 0);
    } catch (error) {
      this.downUntil = Date.now() + (this.options.retryAfterMs ?? 1_000);
      this.log.warn({ err: error }, "read replica unavailable; GraphQL reads go to the primary for now");
    }
  }
}
