// Open ruleChanges subscriptions, bounded per token and per replica (SUBSCRIPTIONS_PER_TOKEN_MAX,
// SUBSCRIPTIONS_MAX). Idle subscriptions cost no database work (one shared change-log tail), but each
// holds a socket and some memory: a viewer token must not be able to take a replica's capacity.
import { createGraphQLError } from "graphql-yoga";
import { unavailable } from "./errors.ts";
import { RETRY_AFTER_MS } from "./write-gate.ts";

export class SubscriptionLimits {
  private total = 0;
  private readonly byToken = new Map<string, number>();

  constructor(
    private readonly perToken: number,
    private readonly perReplica: number,
  ) {}

  get open(): number {
    return this.total;
  }

  /** Takes a slot for `token` (a stable, non-secret name of the credential); returns its release. */
  acquire(token: string): () => void {
    const mine = this.byToken.get(token) ?? 0;
    if (mine >= this.perToken) {
      throw createGraphQLError(`this token already has ${mine} open subscriptions (at most ${this.perToken})`, {
        extensions: { code: "TOO_MANY_SUBSCRIPTIONS", limit: this.perToken },
      });
    }
    if (this.total >= this.perReplica) {
      throw unavailable(`this replica serves ${this.total} subscriptions (at most ${this.perReplica}); retry later`, {
        retryAfterMs: RETRY_AFTER_MS,
      });
    }
    this.byToken.set(token, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byToken.get(token) ?? 1) - 1;
      if (left > 0) this.byToken.set(token, left);
      else this.byToken.delete(token);
    };
  }
}
