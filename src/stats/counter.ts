// In-memory delivery counts on the hot path: per minute bucket, per campaign id, no I/O. A response
// costs one Map update whatever the number of ads: it is counted under its list of served ids (cached
// answers share that array), and the lists are expanded into per-campaign counts only when the
// flusher takes them.
import { MINUTE_MS, minuteOf } from "./minutes.ts";

/** Counts per minute bucket, then per campaign id. */
export type MinuteCounts = Map<number, Map<string, number>>;

type ResponseCounts = Map<readonly string[], number>;

export class DeliveryCounter {
  /** Counts put back by a failed flush, already per campaign. */
  private restored: MinuteCounts = new Map();
  private responses = new Map<number, ResponseCounts>();
  private minuteEnd = 0;
  private current: ResponseCounts = new Map();

  /** Called once per delivery response with the campaign ids it served. */
  count(campaignIds: readonly string[], now = Date.now()): void {
    if (campaignIds.length === 0) return;
    if (now >= this.minuteEnd || now < this.minuteEnd - MINUTE_MS) this.enterMinute(now);
    this.current.set(campaignIds, (this.current.get(campaignIds) ?? 0) + 1);
  }

  /**
   * Everything counted since the last take; the counter starts empty again at once. The lists are
   * expanded `sliceSize` at a time, yielding to the event loop between slices: ~10k distinct answers
   * × ~9 ids per flush would otherwise hold the loop for several milliseconds.
   */
  async take(sliceSize = 1_000): Promise<MinuteCounts> {
    const taken = this.restored;
    const responses = this.responses;
    this.restored = new Map();
    this.responses = new Map();
    this.minuteEnd = 0;
    let inSlice = 0;
    for (const [minute, lists] of responses) {
      let byId = taken.get(minute);
      if (!byId) {
        byId = new Map();
        taken.set(minute, byId);
      }
      for (const [ids, n] of lists) {
        for (const id of ids) byId.set(id, (byId.get(id) ?? 0) + n);
        if (++inSlice === sliceSize) {
          inSlice = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
    return taken;
  }

  /** Puts counts back (a flush failed): they are written with the next flush. */
  restore(counts: MinuteCounts): void {
    for (const [minute, byId] of counts) {
      let into = this.restored.get(minute);
      if (!into) {
        into = new Map();
        this.restored.set(minute, into);
      }
      for (const [id, n] of byId) into.set(id, (into.get(id) ?? 0) + n);
    }
  }

  /** Drops buckets older than `oldestMinute` (kept back by a long outage; Redis would expire them anyway). */
  prune(oldestMinute: number): void {
    for (const minute of this.restored.keys()) if (minute < oldestMinute) this.restored.delete(minute);
    for (const minute of this.responses.keys()) if (minute < oldestMinute) this.responses.delete(minute);
  }

  private enterMinute(now: number): void {
    const minute = minuteOf(now);
    this.minuteEnd = (minute + 1) * MINUTE_MS;
    let bucket = this.responses.get(minute);
    if (!bucket) {
      bucket = new Map();
      this.responses.set(minute, bucket);
    }
    this.current = bucket;
  }
}
