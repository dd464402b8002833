// Answers are interned: every set of matching campaigns has one Answer, whose response body is built
// once and then shared by every device that gets the same ads. A response therefore costs the match
// plus a lookup, never a body copy, whatever the number of ads; and the delivery stats count an answer
// once per response (its `campaignIds` array is the key), not once per ad.
//
// The identity of a set is the sorted serials of its compiled campaigns (compiled-campaign.ts):
// immutable objects, so an answer stays valid across snapshots for as long as it is held.
import { byPriorityThenId, type CompiledCampaign } from "./compiled-campaign.ts";
import { EMPTY_LIST } from "./index-data.ts";
import { SeenFilter } from "./seen-filter.ts";
import { TwoGenerationCache } from "./two-generation-cache.ts";

export interface Answer {
  /**
   * The 200 body (`[{"cid","img","cta"},…]`), or null for 204. A string unless the answer is large and
   * kept: node writes a small string together with the headers, and allocating a buffer per answer
   * measured dearer than encoding a few hundred bytes at each write; a large answer written many times
   * (hundreds of ads) is encoded once.
   */
  readonly body: Buffer | string | null;
  /** The body's length in bytes. */
  readonly bytes: number;
  /** Served campaign ids, in answer order. */
  readonly campaignIds: readonly string[];
  /** Sorted serials of the campaigns: a kept answer's identity (empty for a one-off answer). */
  readonly serials: readonly number[];
}

export const NO_ADS: Answer = Object.freeze({ body: null, bytes: 0, campaignIds: EMPTY_LIST, serials: EMPTY_LIST });

/** A kept answer at least this large is held encoded. */
const BUFFER_FROM_BYTES = 4096;

/** Rough bytes an answer holds beyond its body: objects, arrays (ids, serials), the table entry. */
const ANSWER_OVERHEAD = 200;

export const answerBytes = (answer: Answer): number =>
  answer.bytes + (answer.campaignIds.length + answer.serials.length) * 8 + ANSWER_OVERHEAD;

const entryBytes = (_hash: number, entry: Answer | Answer[]): number =>
  Array.isArray(entry) ? entry.reduce((sum, answer) => sum + answerBytes(answer), 0) : answerBytes(entry);

export class AnswerTable {
  private readonly table: TwoGenerationCache<number, Answer | Answer[]>;
  private readonly seen = new SeenFilter();
  private keys = new Float64Array(64);
  /** Whether the last answerFor() built its answer (rather than finding it). */
  built = false;

  constructor(maxBytes: number) {
    this.table = new TwoGenerationCache(maxBytes, entryBytes);
  }

  get bytes(): number {
    return this.table.bytes;
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * The Answer for exactly these campaigns (any order, no duplicates): the one held for this set, or
   * a new one — kept only once the set has been seen before, so sets asked once leave nothing behind.
   */
  answerFor(campaigns: readonly CompiledCampaign[]): Answer {
    const n = campaigns.length;
    this.built = false;
    if (n === 0) return NO_ADS;
    if (this.keys.length < n) this.keys = new Float64Array(Math.max(n, this.keys.length * 2));
    const keys = this.keys;
    for (let i = 0; i < n; i++) keys[i] = (campaigns[i] as CompiledCampaign).serial;
    sortPrefix(keys, n);
    let hash = n;
    for (let i = 0; i < n; i++) {
      const serial = keys[i] as number;
      hash = Math.imul(hash ^ (serial | 0), 0x9e3779b1);
      hash = Math.imul(hash ^ ((serial / 4294967296) | 0) ^ (hash >>> 15), 0x85ebca77);
    }
    const entry = this.table.get(hash);
    if (entry !== undefined) {
      if (!Array.isArray(entry)) {
        if (sameSerials(entry, keys, n)) return entry;
      } else {
        for (const answer of entry) if (sameSerials(answer, keys, n)) return answer;
      }
    }
    this.built = true;
    // A set seen for the first time gets a one-off answer; from the second time on it is kept.
    if (!this.seen.check(hash)) return buildAnswer(campaigns, null, n);
    const answer = buildAnswer(campaigns, keys, n);
    // A hash collision keeps both answers under the hash.
    this.table.set(hash, entry === undefined ? answer : [...(Array.isArray(entry) ? entry : [entry]), answer]);
    return answer;
  }
}

function sortPrefix(keys: Float64Array, n: number): void {
  if (n > 24) {
    keys.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const key = keys[i] as number;
    let j = i - 1;
    while (j >= 0 && (keys[j] as number) > key) {
      keys[j + 1] = keys[j] as number;
      j--;
    }
    keys[j + 1] = key;
  }
}

function sameSerials(answer: Answer, keys: Float64Array, n: number): boolean {
  const serials = answer.serials;
  if (serials.length !== n) return false;
  for (let i = 0; i < n; i++) if (serials[i] !== keys[i]) return false;
  return true;
}

/** A kept answer when `keys` (the sorted serials) are given, else a one-off one. */
function buildAnswer(campaigns: readonly CompiledCampaign[], keys: Float64Array | null, n: number): Answer {
  const ordered = campaigns.slice().sort(byPriorityThenId);
  let text = "[";
  let bytes = 1 + n;
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const campaign = ordered[i] as CompiledCampaign;
    if (i > 0) text += ",";
    text += campaign.fragment;
    bytes += campaign.fragmentBytes;
    ids[i] = campaign.id;
  }
  text += "]";
  if (!keys) return { body: text, bytes, campaignIds: ids, serials: EMPTY_LIST };
  const body = bytes >= BUFFER_FROM_BYTES ? Buffer.from(text) : text;
  return { body, bytes, campaignIds: ids, serials: Array.from(keys.subarray(0, n)) };
}
