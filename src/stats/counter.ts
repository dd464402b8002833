// In-memory delivery counts on the hot path: per minute bucket, per campaign id. O(1) per served ad,
// no I/O; the flusher takes what accumulated and writes it out in batches.
import { MINUTE_MS, minuteOf } from "./minutes.ts";

/** Counts per minute bucket, then per campaign id. */
export type MinuteCounts = Map<number, Map<string, number>>;

export class DeliveryCounter {
  private pending: MinuteCounts = new Map();
  private minute = -1;
  private minuteEnd = 0;
  private current: Map<string, number> = new Map();

  /** Called once per delivery response with the campaign ids it served. */
  count(campaignIds: readonly string[], now = Date.now()): void {
    if (campaignIds.length === 0) return;
    if (now >= this.minuteEnd || now < this.minuteEnd - MINUTE_MS) this.enterMinute(now);
    const current = this.current;
    for (const id of campaignIds) current.set(id, (current.get(id) ?? 0) + 1);
  }

  /** Everything counted since the last take; the counter starts empty again. */
  take(): MinuteCounts {
    const taken = this.pending;
    this.pending = new Map();
    this.minute = -1;
    this.minuteEnd = 0;
    return taken;
  }

  /** Puts counts back (a flush failed): they are written with the next flush. */
  restore(counts: MinuteCounts): void {
    for (const [minute, byId] of counts) {
      let into = this.pending.get(minute);
      if (!into) {
        into = new Map();
        this.pending.set(minute, into);
        if (minute === this.minute) this.current = into;
      }
      for (const [id, n] of byId) into.set(id, (into.get(id) ?? 0) + n);
    }
  }

  /** Drops buckets older than `oldestMinute` (kept back by a long outage; Redis would expire them anyway). */
  prune(oldestMinute: number): void {
    for (const minute of this.pending.keys()) if (minute < oldestMinute) this.pending.delete(minute);
  }

  private enterMinute(now: number): void {
    this.minute = minuteOf(now);
    this.minuteEnd = (this.minute + 1) * MINUTE_MS;
    let bucket = this.pending.get(this.minute);
    if (!bucket) {
      bucket = new Map();
      this.pending.set(this.minute, bucket);
    }
    this.current = bucket;
  }
}
