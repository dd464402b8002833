// Answers: the ads that match, in answer order, and how their body is written.
//
// A small answer (the usual handful of ads) is kept compact — the ordered campaigns —
// and its body is joined from the campaigns' pre-serialised fragments when it is written: a few
// hundred bytes, cheaper to join than to keep (a cached device then costs ~300 bytes, not ~1.5 KB;
// interning these too gained no throughput, and device entries were lost whenever the table evicted
// their sets: README, Benchmarks). A large answer (hundreds of ads, tens of KB) is interned: a set of
// matching campaigns asked again gets one, encoded once and shared by every device that gets it, so a
// response's cost does not grow with its size (while the table's budget holds it: sets beyond it are
// kept by how often they are asked, clock-cache.ts). Either way the stats counter counts a kept
// answer once per response (a tally on the answer), not once per ad; an answer nothing keeps
// (`oneOff`) is counted per ad at once — it cost that much to build, and a tally would have kept
// every one-off answer alive until the flush.
//
// A large answer's identity is the sorted serials of its compiled campaigns (compiled-campaign.ts):
// immutable objects, so an answer stays valid across snapshots for as long as it is held.

import { ClockCache } from "./clock-cache.ts";
import { byPriorityThenId, type CompiledCampaign } from "./compiled-campaign.ts";
import { EMPTY_LIST } from "./index-data.ts";
import { SeenFilter } from "./seen-filter.ts";

export class Answer {
  /** The stats counter's slot (its running count of this answer's responses): never read here. */
  tally: unknown = null;

  constructor(
    /** The ads in answer order (empty: 204). */
    readonly campaigns: readonly CompiledCampaign[],
    /** The body's length in UTF-8 bytes (0 for 204). */
    readonly bytes: number,
    /** A large kept answer's body, encoded once (else null: joined from the fragments when written). */
    readonly encoded: Buffer | null,
    /** Made for one response and kept nowhere (not interned, not in the device cache). */
    readonly oneOff: boolean,
  ) {}

  /**
   * The ads' ids in answer order, made when asked: nothing on the hot path reads them (the stats
   * counter reads `campaigns`), so a cached device does not hold a second array.
   */
  get campaignIds(): string[] {
    return this.campaigns.map((campaign) => campaign.id);
  }
}

export const NO_ADS: Answer = Object.freeze(new Answer(EMPTY_LIST, 0, null, false));

/** From this size a body is worth encoding once and sharing. */
export const LARGE_ANSWER_BYTES = 4096;
/** An encoded body's buffer beyond its bytes: the Buffer and its ArrayBuffer objects, the allocation. */
const BUFFER_OVERHEAD = 160;
/** An interned answer's own objects beyond its arrays and body: its table entry, and its Map slot. */
const KEPT_OVERHEAD = 180;

/** What an answer holds in memory, roughly: the body when encoded, its campaigns and itself (compactAnswerSize). */
export function answerSize(answer: Answer): number {
  const encoded = answer.encoded === null ? 0 : answer.encoded.length + BUFFER_OVERHEAD;
  return encoded + compactAnswerSize(answer.campaigns.length);
}

/** What the table holds for an interned answer of `bytes` bytes and `ads` ads, its entry included. */
function internedSize(bytes: number, ads: number): number {
  return bytes + BUFFER_OVERHEAD + compactAnswerSize(ads) + KEPT_OVERHEAD;
}

/**
 * What a compact answer of `ads` ads holds: its campaigns array and itself, and the array of the stats
 * counter's cells its tally resolves on the first flush (stats/counter.ts).
 */
export function compactAnswerSize(ads: number): number {
  return 16 * ads + 80;
}

/** The 200 body, or null for 204. */
export function bodyOf(answer: Answer): Buffer | string | null {
  if (answer.encoded) return answer.encoded;
  return answer.campaigns.length === 0 ? null : joinedBody(answer.campaigns);
}

/** The JSON array of these campaigns' fragments, in their order. */
function joinedBody(campaigns: readonly CompiledCampaign[]): string {
  let text = "[";
  for (let i = 0; i < campaigns.length; i++) {
    if (i > 0) text += ",";
    text += (campaigns[i] as CompiledCampaign).fragment;
  }
  return `${text}]`;
}

/** An interned answer under its hash, and the next one under the same hash (a collision), if any. */
interface Kept {
  used: boolean;
  readonly hash: number;
  readonly answer: Answer;
  readonly next: Kept | null;
}

function keptSize(kept: Kept | null): number {
  let bytes = 0;
  for (let k = kept; k !== null; k = k.next) bytes += internedSize(k.answer.bytes, k.answer.campaigns.length);
  return bytes;
}

export class AnswerTable {
  private readonly table: ClockCache<number, Kept>;
  private readonly seen = new SeenFilter();
  private keys = new Float64Array(64);

  constructor(maxBytes: number) {
    this.table = new ClockCache(maxBytes, (_hash, kept) => keptSize(kept), 2 * LARGE_ANSWER_BYTES);
  }

  get bytes(): number {
    return this.table.bytes;
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * The answer for exactly these campaigns (any order, no duplicates). A large one is the one kept for
   * this set — kept once the set has been seen before, so sets asked once leave nothing behind.
   * `cached`: the caller keeps the answer (the device cache); otherwise a small one is one-off.
   */
  answerFor(campaigns: readonly CompiledCampaign[], cached: boolean): Answer {
    const n = campaigns.length;
    if (n === 0) return NO_ADS;
    let bytes = 1 + n;
    for (let i = 0; i < n; i++) bytes += (campaigns[i] as CompiledCampaign).fragmentBytes;
    if (bytes < LARGE_ANSWER_BYTES) return compact(campaigns, bytes, false, !cached);

    if (this.keys.length < n) this.keys = new Float64Array(Math.max(n, this.keys.length * 2));
    const keys = this.keys;
    for (let i = 0; i < n; i++) keys[i] = (campaigns[i] as CompiledCampaign).serial;
    keys.subarray(0, n).sort();
    const hash = hashSerials(keys, n);
    const kept = this.table.get(hash);
    for (let k = kept ?? null; k !== null; k = k.next) if (sameSet(k.answer.campaigns, keys, n)) return k.answer;
    // A set seen for the first time gets an answer of its own; from the second time on it is kept, once
    // it earns a place (more asked than the set it would evict). A kept answer is encoded once.
    if (!this.seen.check(hash)) return compact(campaigns, bytes, false, !cached);
    if (kept === undefined) {
      this.table.count(hash);
      if (!this.table.admits(hash, internedSize(bytes, n))) return compact(campaigns, bytes, false, !cached);
    }
    const answer = compact(campaigns, bytes, true, false);
    // A hash collision keeps both answers under the hash.
    this.table.set(hash, { used: false, hash, answer, next: kept ?? null });
    return answer;
  }
}

function compact(campaigns: readonly CompiledCampaign[], bytes: number, encode: boolean, oneOff: boolean): Answer {
  const ordered = campaigns.length > 1 ? campaigns.slice().sort(byPriorityThenId) : campaigns.slice();
  if (!encode) return new Answer(ordered, bytes, null, oneOff);
  const encoded = Buffer.allocUnsafeSlow(bytes);
  encoded.write(joinedBody(ordered));
  return new Answer(ordered, bytes, encoded, oneOff);
}

/**
 * MurmurHash3 (32-bit) of the first `n` serials, as 32-bit words. The mix used before collided for ~3%
 * of 4,095 sets of a dozen small serials: harmless for answers (a hash holds a chain), but each
 * collision also shares a seen-filter and a frequency-sketch slot.
 */
function hashSerials(keys: Float64Array, n: number): number {
  let hash = n;
  for (let i = 0; i < n; i++) {
    const serial = keys[i] as number;
    hash = mixWord(hash, serial | 0);
    hash = mixWord(hash, (serial / 4294967296) | 0);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  let h = hash ^ Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Whether `campaigns` (no duplicates) are exactly those whose serials are the `n` sorted `keys`. */
function sameSet(campaigns: readonly CompiledCampaign[], keys: Float64Array, n: number): boolean {
  if (campaigns.length !== n) return false;
  for (const campaign of campaigns) {
    const serial = campaign.serial;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((keys[middle] as number) < serial) low = middle + 1;
      else high = middle;
    }
    if (keys[low] !== serial) return false;
  }
  return true;
}
