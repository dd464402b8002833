// Answers: the ads that match, in answer order, and how their body is written.
//
// A small answer (the usual handful of ads) is kept compact — the ordered campaigns and their ids —
// and its body is joined from the campaigns' pre-serialised fragments when it is written: a few
// hundred bytes, cheaper to join than to keep (a cached device then costs ~300 bytes, not ~1.5 KB).
// A large answer (hundreds of ads, tens of KB) is interned: a set of matching campaigns asked again
// gets one, encoded once and shared by every device that gets it, so a response's cost does not grow
// with its size (while the table's budget holds it: sets beyond it are kept by how often they are
// asked, clock-cache.ts). Either way the stats counter counts a kept answer once per response (a tally on the answer),
// not once per ad; an answer nothing keeps (`oneOff`) is counted per ad at once — it cost that much to
// build, and a tally would have kept every one-off answer alive until the flush.
//
// A large answer's identity is the sorted serials of its compiled campaigns (compiled-campaign.ts):
// immutable objects, so an answer stays valid across snapshots for as long as it is held.

import { ClockCache } from "./clock-cache.ts";
import { byPriorityThenId, type CompiledCampaign } from "./compiled-campaign.ts";
import { EMPTY_LIST } from "./index-data.ts";
import { SeenFilter } from "./seen-filter.ts";

export interface Answer {
  /** The ads in answer order (empty: 204). */
  readonly campaigns: readonly CompiledCampaign[];
  readonly campaignIds: readonly string[];
  /** The body's length in UTF-8 bytes (0 for 204). */
  readonly bytes: number;
  /** A large kept answer's body, encoded once (else null: joined from the fragments when written). */
  readonly encoded: Buffer | null;
  /** Made for one response and kept nowhere (not interned, not in the device cache). */
  readonly oneOff: boolean;
  /** The stats counter's slot (its running count of this answer's responses): never read here. */
  tally: unknown;
}

export const NO_ADS: Answer = Object.freeze({
  campaigns: EMPTY_LIST,
  campaignIds: EMPTY_LIST,
  bytes: 0,
  encoded: null,
  oneOff: false,
  tally: null,
});

/** From this size a body is worth encoding once and sharing. */
export const LARGE_ANSWER_BYTES = 4096;

/** What an answer holds in memory, roughly: the body when encoded, else its two arrays and itself. */
export function answerSize(answer: Answer): number {
  return (answer.encoded?.length ?? 0) + compactAnswerSize(answer.campaigns.length);
}

/** What a compact answer of `ads` ads holds: its two arrays and itself. */
export function compactAnswerSize(ads: number): number {
  return 16 * ads + 80;
}

/** The 200 body, or null for 204. */
export function bodyOf(answer: Answer): Buffer | string | null {
  if (answer.encoded) return answer.encoded;
  const campaigns = answer.campaigns;
  if (campaigns.length === 0) return null;
  let text = "[";
  for (let i = 0; i < campaigns.length; i++) {
    if (i > 0) text += ",";
    text += (campaigns[i] as CompiledCampaign).fragment;
  }
  return `${text}]`;
}

interface Kept {
  used: boolean;
  readonly hash: number;
  readonly answers: { readonly answer: Answer; readonly serials: Float64Array }[];
}

export class AnswerTable {
  private readonly table: ClockCache<number, Kept>;
  private readonly seen = new SeenFilter();
  private keys = new Float64Array(64);

  constructor(maxBytes: number) {
    this.table = new ClockCache(
      maxBytes,
      (_hash, kept) => kept.answers.reduce((sum, { answer }) => sum + answerSize(answer), 0),
      2 * LARGE_ANSWER_BYTES,
    );
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
    let hash = n;
    for (let i = 0; i < n; i++) {
      const serial = keys[i] as number;
      hash = Math.imul(hash ^ (serial | 0), 0x9e3779b1);
      hash = Math.imul(hash ^ ((serial / 4294967296) | 0) ^ (hash >>> 15), 0x85ebca77);
    }
    const kept = this.table.get(hash);
    if (kept !== undefined) {
      for (const { answer, serials } of kept.answers) if (sameSerials(serials, keys, n)) return answer;
    }
    // A set seen for the first time gets an answer of its own; from the second time on it is kept, once
    // it earns a place (more asked than the set it would evict). A kept answer is encoded once.
    if (!this.seen.check(hash)) return compact(campaigns, bytes, false, !cached);
    if (kept === undefined) {
      this.table.count(hash);
      if (!this.table.admits(hash, bytes + compactAnswerSize(n))) return compact(campaigns, bytes, false, !cached);
    }
    const answer = compact(campaigns, bytes, true, false);
    // A hash collision keeps both answers under the hash.
    const answers = [...(kept?.answers ?? []), { answer, serials: keys.slice(0, n) }];
    this.table.set(hash, { used: false, hash, answers });
    return answer;
  }
}

function compact(campaigns: readonly CompiledCampaign[], bytes: number, encode: boolean, oneOff: boolean): Answer {
  const ordered = campaigns.length > 1 ? campaigns.slice().sort(byPriorityThenId) : campaigns.slice();
  const answer: Answer = {
    campaigns: ordered,
    campaignIds: ordered.map((c) => c.id),
    bytes,
    encoded: null,
    oneOff,
    tally: null,
  };
  if (!encode) return answer;
  return { ...answer, encoded: Buffer.from(bodyOf(answer) as string) };
}

function sameSerials(serials: Float64Array, keys: Float64Array, n: number): boolean {
  if (serials.length !== n) return false;
  for (let i = 0; i < n; i++) if (serials[i] !== keys[i]) return false;
  return true;
}
