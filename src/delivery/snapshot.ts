// The in-memory targeting index as delivery sees it: an immutable snapshot that answers "which ads
// match this device now". A change produces a new snapshot sharing whatever it did not touch
// (index-draft.ts); readers holding the old one never see a half-applied change. Pure data structure,
// no I/O; large changes are applied in steps that the caller can spread over event-loop turns.
import { type Answer, AnswerTable } from "./answers.ts";
import { type CompiledCampaign, compileCampaign } from "./compiled-campaign.ts";
import { DeviceCache, NOT_KEPT } from "./device-cache.ts";
import { compacted, EMPTY_LIST, emptyIndex, type IndexData } from "./index-data.ts";
import { IndexDraft } from "./index-draft.ts";
import { findMatches, type Matches, newMatches } from "./matcher.ts";
import { ShardedMap } from "./sharded-map.ts";
import { DEFAULT_SLICE_MS, drain, runInSlices, type Steps } from "./steps.ts";
import type { CampaignDef, CategoryDef, DeviceRequest, IndexChange } from "./types.ts";

/** ANSWER_CACHE_MB's default, also written in config.ts (tests/unit/answer-cache.test.ts keeps them equal). */
export const DEFAULT_ANSWER_CACHE_BYTES = 40 * 1024 * 1024;

export interface SnapshotOptions {
  /** Byte budget of the interned answers and the device cache together (ANSWER_CACHE_MB). */
  answerCacheBytes?: number;
  /** Remember answers per device (default true; false measures the match itself). */
  deviceCache?: boolean;
}

/** What every snapshot of one lineage shares: interned answers, the device cache, scratch space. */
class SharedAnswers {
  readonly answers: AnswerTable;
  readonly devices: DeviceCache | null;
  readonly matches: Matches = newMatches();

  constructor(bytes: number, deviceCache: boolean) {
    // Devices get most of the budget (an entry pays for its compact answer); the table holds only the
    // large shared answers.
    this.answers = new AnswerTable(deviceCache ? bytes / 4 : bytes);
    this.devices = deviceCache && bytes > 0 ? new DeviceCache((bytes * 3) / 4) : null;
  }
}

export interface AnswerCacheUsage {
  answers: number;
  answerBytes: number;
  devices: number;
  deviceBytes: number;
}

let lastStamp = 0;

export class TargetingSnapshot {
  readonly versionHeader: string;

  private constructor(
    readonly version: number,
    private readonly index: IndexData,
    private readonly shared: SharedAnswers,
    /** Tags device-cache entries: an entry computed by another snapshot (another catalog) is stale. */
    private readonly stamp = ++lastStamp,
    readonly builtAt = new Date(),
  ) {
    this.versionHeader = String(version);
  }

  static empty(options: SnapshotOptions = {}): TargetingSnapshot {
    return new TargetingSnapshot(
      0,
      emptyIndex(),
      new SharedAnswers(options.answerCacheBytes ?? DEFAULT_ANSWER_CACHE_BYTES, options.deviceCache ?? true),
    );
  }

  /** A snapshot of exactly this catalog (tests, benches; replicas build in slices). */
  static build(
    version: number,
    campaigns: Iterable<CampaignDef>,
    categories: Iterable<CategoryDef>,
    options: SnapshotOptions = {},
  ): TargetingSnapshot {
    return TargetingSnapshot.empty(options).apply(fullChange(version, campaigns, categories));
  }

  /** Campaigns that can serve (ACTIVE); paused ones are not indexed. */
  get campaignCount(): number {
    return this.index.campaigns.size;
  }

  get answerCacheUsage(): AnswerCacheUsage {
    const { answers, devices } = this.shared;
    return {
      answers: answers.size,
      answerBytes: answers.bytes,
      devices: devices?.size ?? 0,
      deviceBytes: devices?.bytes ?? 0,
    };
  }

  /** A new snapshot with the change applied, at once; this one is left untouched. */
  apply(change: IndexChange): TargetingSnapshot {
    return this.successor(change.version, drain(applySteps(this.index, change)));
  }

  /** The same as apply(), in slices of about `sliceMs` with the event loop free between them. */
  async applyInSlices(change: IndexChange, sliceMs = DEFAULT_SLICE_MS): Promise<TargetingSnapshot> {
    return this.successor(change.version, await runInSlices(applySteps(this.index, change), sliceMs));
  }

  /**
   * The same catalog with the maps a bulk change left with large overlays folded (layered-map.ts), in
   * slices: run once the change serves. It answers exactly as this one, so the device cache stays valid.
   * This snapshot itself when nothing needs folding.
   */
  async compacted(sliceMs = DEFAULT_SLICE_MS): Promise<TargetingSnapshot> {
    const index = await runInSlices(compacted(this.index), sliceMs);
    if (index === this.index) return this;
    return new TargetingSnapshot(this.version, index, this.shared, this.stamp, this.builtAt);
  }

  /** A snapshot of exactly this catalog (a change from nothing), built in slices: its maps by id too. */
  async rebuildInSlices(
    version: number,
    campaigns: Iterable<CampaignDef>,
    categories: Iterable<CategoryDef>,
    sliceMs = DEFAULT_SLICE_MS,
  ): Promise<TargetingSnapshot> {
    const steps = rebuildSteps(version, campaigns, categories);
    return this.successor(version, await runInSlices(steps, sliceMs));
  }

  /**
   * The answer the device cache holds under `key` while still valid for this snapshot, else undefined.
   * The delivery handler's key is the request's own text (body or query), so a device asking again is
   * answered without parsing, validating or matching.
   */
  cached(key: string, now: number): Answer | undefined {
    return this.shared.devices?.get(key, this.stamp, now);
  }

  /** The answer for a valid, normalised request: the device cache's under `key`, else matched. */
  match(request: DeviceRequest, now = Date.now(), key = `${request.app}\n${request.os}\n${request.country}`): Answer {
    return this.cached(key, now) ?? this.matchUncached(request, now, key);
  }

  /**
   * The answer matched now (the caller found nothing under `key`), kept in the device cache under `key`
   * — whatever names this device's request exactly: its text, or its normalised fields — when the device
   * cache offers it a place (DeviceCache.offer).
   */
  matchUncached(request: DeviceRequest, now: number, key: string): Answer {
    const { devices, answers, matches } = this.shared;
    findMatches(this.index, request, now, matches);
    if (devices === null) return answers.answerFor(matches.campaigns, false);
    const hash = devices.offer(key, matches.campaigns.length);
    const answer = answers.answerFor(matches.campaigns, hash !== NOT_KEPT);
    if (hash !== NOT_KEPT) devices.set(key, hash, this.stamp, answer, matches.from, matches.until);
    return answer;
  }

  /** A campaign as the index holds it, and whether it is ACTIVE (else PAUSED); undefined: unknown. */
  campaign(id: string): { compiled: CompiledCampaign; active: boolean } | undefined {
    const active = this.index.campaigns.get(id);
    if (active) return { compiled: active, active: true };
    const paused = this.index.paused.get(id);
    return paused ? { compiled: paused, active: false } : undefined;
  }

  /** Every campaign id the index knows (ACTIVE and PAUSED), unordered. */
  *campaignIds(): IterableIterator<string> {
    for (const [id] of this.index.campaigns.entries()) yield id;
    for (const [id] of this.index.paused.entries()) yield id;
  }

  /** The structures, for the pure functions that read a whole snapshot (explanations, forecasts). */
  get data(): IndexData {
    return this.index;
  }

  /** The categories that contain `app`. */
  categoriesOf(app: string): readonly string[] {
    return this.index.appCategories.get(app) ?? EMPTY_LIST;
  }

  private successor(version: number, index: IndexData): TargetingSnapshot {
    return new TargetingSnapshot(version, index, this.shared);
  }
}

export function fullChange(
  version: number,
  campaigns: Iterable<CampaignDef>,
  categories: Iterable<CategoryDef>,
): IndexChange {
  return drain(fullChangeSteps(version, campaigns, categories));
}

/** The change from nothing to this catalog, in steps: the map of 50,000 campaigns took ~10–15 ms at once. */
function* fullChangeSteps(
  version: number,
  campaigns: Iterable<CampaignDef>,
  categories: Iterable<CategoryDef>,
): Steps<IndexChange> {
  const byId = new ShardedMap<CampaignDef>();
  let added = 0;
  for (const campaign of campaigns) {
    byId.set(campaign.id, campaign);
    if (++added % 1_024 === 0) yield;
  }
  return { version, campaigns: byId, categories: new Map(Array.from(categories, (c) => [c.id, c])) };
}

function* rebuildSteps(
  version: number,
  campaigns: Iterable<CampaignDef>,
  categories: Iterable<CategoryDef>,
): Steps<IndexData> {
  return yield* applySteps(emptyIndex(), yield* fullChangeSteps(version, campaigns, categories));
}

/** Categories first: anchors are chosen with the catalog as it will be. */
function* applySteps(base: IndexData, change: IndexChange): Steps<IndexData> {
  // From folded maps: an edit copies its map's overlay, and a large one is folded in steps instead.
  const draft = new IndexDraft(yield* compacted(base));
  for (const [id, def] of change.categories) yield* draft.setCategory(id, def ? def.apps : null);
  let done = 0;
  for (const [id, def] of change.campaigns) {
    if (!def) draft.removeCampaign(id);
    else if (def.status === "ACTIVE") draft.addCampaign(compileCampaign(def, draft));
    else draft.addPausedCampaign(compileCampaign(def, draft));
    if (++done % 32 === 0) yield;
  }
  return yield* draft.finish();
}
