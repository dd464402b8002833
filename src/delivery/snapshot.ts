// The in-memory targeting index: an immutable snapshot that answers "which ads match this device".
// Pure data structure, no I/O.
//
// Each campaign is filed once, under its "anchor": the include dimension a request is least likely to
// hit (estimated from the catalog: how many apps its categories hold, how many countries it names…),
// one posting per included value; campaigns without
// any include rule go to one "matches everything" list. A matching campaign must include the request's
// value in its anchor dimension, so the candidates of a request are just the postings of its app, its
// categories, its country and its os, plus that list: the work is proportional to those candidates, not
// to the size of the catalog.
//
// A change produces a new snapshot that shares every posting it did not touch (copy-on-write), so
// applying one campaign or category costs what that campaign touches, and readers holding the old
// snapshot never see a half-applied change.

import { AnswerCache } from "./answer-cache.ts";
import { LayeredMap, type LayeredMapDraft } from "./layered-map.ts";

export const DIMENSIONS = ["app", "os", "country", "category"] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type DimensionValues = Record<Dimension, readonly string[]>;

/** A campaign as the index needs it; values already normalised. */
export interface CampaignDef {
  id: string;
  imageUrl: string;
  cta: string;
  status: "ACTIVE" | "PAUSED";
  priority: number;
  startsAt: Date | null;
  endsAt: Date | null;
  include: DimensionValues;
  exclude: DimensionValues;
}

export interface CategoryDef {
  id: string;
  apps: readonly string[];
}

/** Changed entities: a definition replaces, null removes. */
export interface IndexChange {
  version: number;
  campaigns: ReadonlyMap<string, CampaignDef | null>;
  categories: ReadonlyMap<string, CategoryDef | null>;
}

export interface DeviceRequest {
  app: string;
  os: string;
  country: string;
}

export interface MatchResult {
  /** The 200 body (`[{"cid",…}]`), or null for 204. */
  body: Buffer | null;
  campaignIds: readonly string[];
  /** The time span (ms since epoch, [from, until)) in which flight dates leave this answer unchanged. */
  validFrom: number;
  validUntil: number;
}

interface CompiledCampaign {
  readonly id: string;
  readonly priority: number;
  readonly startsAt: number;
  readonly endsAt: number;
  /** Pre-serialised `{"cid","img","cta"}`, so a response is a join of fragments. */
  readonly fragment: string;
  readonly include: Readonly<Record<Dimension, ReadonlySet<string> | null>>;
  readonly exclude: Readonly<Record<Dimension, ReadonlySet<string> | null>>;
  /** The dimension it is filed under; null when it has no include rule at all. */
  readonly anchor: Dimension | null;
  /** Last evaluation that visited it: de-duplicates candidates reached through several categories. */
  visit: number;
}

type Postings = LayeredMap<readonly CompiledCampaign[]>;

// Rough share of traffic one value of a dimension receives, for choosing anchors. Any anchor gives
// correct answers; a better guess only means fewer candidates to check per request.
const COUNTRY_SHARE = 1 / 50;
const OS_SHARE = 1 / 3;
const MIN_APP_UNIVERSE = 10_000;
const EMPTY: readonly never[] = Object.freeze([]);
const DEFAULT_CACHE_ENTRIES = 100_000;
/** Above this many changed entities the previous answers are not worth checking: start cold. */
const MAX_INHERITED_CHANGES = 32;
/** How many earlier snapshots' answers a snapshot may reuse. */
const MAX_INHERITED_DEPTH = 8;

interface Inheritance {
  cache: AnswerCache<MatchResult>;
  touched: readonly CompiledCampaign[];
  appsInChangedCategories: ReadonlySet<string>;
  parent: Inheritance | null;
}
let visitCounter = 0;

export interface SnapshotOptions {
  /** Bound on remembered (app, os, country) answers per snapshot. 0 disables the cache. */
  maxCacheEntries?: number;
}

export class TargetingSnapshot {
  readonly builtAt = new Date();
  readonly versionHeader: string;
  private readonly cache: AnswerCache<MatchResult> | null;
  /** Earlier snapshots' answers and what changed since each, newest first, for fromPrevious(). */
  private inherited: Inheritance | null = null;

  private constructor(
    readonly version: number,
    private readonly campaigns: LayeredMap<CompiledCampaign>,
    private readonly anchored: Readonly<Record<Dimension, Postings>>,
    private readonly unanchored: readonly CompiledCampaign[],
    private readonly categoryApps: ReadonlyMap<string, readonly string[]>,
    private readonly appCategories: LayeredMap<readonly string[]>,
    private readonly options: SnapshotOptions,
  ) {
    this.versionHeader = String(version);
    const max = options.maxCacheEntries ?? DEFAULT_CACHE_ENTRIES;
    this.cache = max > 0 ? new AnswerCache(max) : null;
  }

  static empty(options: SnapshotOptions = {}): TargetingSnapshot {
    const postings = () => LayeredMap.empty<readonly CompiledCampaign[]>();
    return new TargetingSnapshot(
      0,
      LayeredMap.empty(),
      { app: postings(), os: postings(), country: postings(), category: postings() },
      EMPTY,
      new Map(),
      LayeredMap.empty(),
      options,
    );
  }

  static build(
    version: number,
    campaigns: Iterable<CampaignDef>,
    categories: Iterable<CategoryDef>,
    options: SnapshotOptions = {},
  ): TargetingSnapshot {
    return TargetingSnapshot.empty(options).apply({
      version,
      campaigns: new Map(Array.from(campaigns, (c) => [c.id, c])),
      categories: new Map(Array.from(categories, (c) => [c.id, c])),
    });
  }

  /** Campaigns that can serve (ACTIVE); paused ones are not indexed. */
  get campaignCount(): number {
    return this.campaigns.size;
  }

  /** A new snapshot with the change applied; this one is left untouched. */
  apply(change: IndexChange): TargetingSnapshot {
    const writer = new SnapshotWriter(this.anchored, this.unanchored, this.categoryApps, this.appCategories);
    // Categories first: anchors are chosen with the catalog as it will be.
    for (const [id, def] of change.categories) writer.setCategory(id, def ? def.apps : null);
    const stats = { categoryApps: writer.categoryApps, appCount: writer.appCategories.size };
    const campaigns = this.campaigns.edit();
    const touched: CompiledCampaign[] = [];
    for (const [id, def] of change.campaigns) {
      const previous = campaigns.get(id);
      if (previous) {
        writer.removeCampaign(previous);
        campaigns.delete(id);
        touched.push(previous);
      }
      if (def && def.status === "ACTIVE") {
        const compiled = compile(def, stats);
        writer.addCampaign(compiled);
        campaigns.set(id, compiled);
        touched.push(compiled);
      }
    }
    const next = new TargetingSnapshot(
      change.version,
      campaigns.finish(),
      writer.finishAnchored(),
      writer.unanchored,
      writer.categoryApps,
      writer.finishAppCategories(),
      this.options,
    );
    if (this.cache && next.cache && touched.length + change.categories.size <= MAX_INHERITED_CHANGES) {
      const apps = new Set<string>();
      for (const id of change.categories.keys()) {
        for (const app of this.categoryApps.get(id) ?? EMPTY) apps.add(app);
        for (const app of next.categoryApps.get(id) ?? EMPTY) apps.add(app);
      }
      next.inherited = { cache: this.cache, touched, appsInChangedCategories: apps, parent: this.inherited };
      // Keep a bounded chain: older answers are rarely worth the checks.
      let level: Inheritance | null = next.inherited;
      for (let depth = 1; level && depth < MAX_INHERITED_DEPTH; depth++) level = level.parent;
      if (level) level.parent = null;
    }
    return next;
  }

  match(request: DeviceRequest, now = Date.now()): MatchResult {
    if (!this.cache) return this.evaluate(request, now);
    const key = `${request.app}\n${request.os}\n${request.country}`;
    const cached = this.cache.get(key) ?? this.fromPrevious(key, request);
    if (cached && cached.validFrom <= now && now < cached.validUntil) return cached;
    const result = this.evaluate(request, now);
    this.cache.set(key, result);
    return result;
  }

  /**
   * An earlier snapshot's answer, when no change since that snapshot can affect this request: its app
   * is in no changed category and no changed campaign (before or after) matches it. Keeps answers warm
   * across mutations instead of recomputing every request after each one; several snapshots back,
   * because in a second of traffic only part of the key space is asked again.
   */
  private fromPrevious(key: string, request: DeviceRequest): MatchResult | undefined {
    let level = this.inherited;
    if (!level) return undefined;
    const categories = this.appCategories.get(request.app) ?? EMPTY;
    while (level) {
      if (level.appsInChangedCategories.has(request.app)) return undefined;
      for (const campaign of level.touched) if (matchesRules(campaign, request, categories)) return undefined;
      const previous = level.cache.peek(key);
      if (previous) {
        this.cache?.set(key, previous);
        return previous;
      }
      level = level.parent;
    }
    return undefined;
  }

  private evaluate(request: DeviceRequest, now: number): MatchResult {
    const categories = this.appCategories.get(request.app) ?? EMPTY;
    const visit = ++visitCounter;
    const matched: CompiledCampaign[] = [];
    collect(this.anchored.app.get(request.app), visit, request, categories, matched);
    for (const category of categories)
      collect(this.anchored.category.get(category), visit, request, categories, matched);
    collect(this.anchored.country.get(request.country), visit, request, categories, matched);
    collect(this.anchored.os.get(request.os), visit, request, categories, matched);
    collect(this.unanchored, visit, request, categories, matched);
    matched.sort(byPriorityThenId);

    let validFrom = Number.NEGATIVE_INFINITY;
    let validUntil = Number.POSITIVE_INFINITY;
    const serving: CompiledCampaign[] = [];
    for (const campaign of matched) {
      if (campaign.startsAt > now) {
        validUntil = Math.min(validUntil, campaign.startsAt);
      } else if (campaign.endsAt > now) {
        serving.push(campaign);
        validFrom = Math.max(validFrom, campaign.startsAt);
        validUntil = Math.min(validUntil, campaign.endsAt);
      } else {
        validFrom = Math.max(validFrom, campaign.endsAt);
      }
    }
    if (serving.length === 0) return { body: null, campaignIds: EMPTY, validFrom, validUntil };
    return {
      body: Buffer.from(`[${serving.map((c) => c.fragment).join(",")}]`),
      campaignIds: serving.map((c) => c.id),
      validFrom,
      validUntil,
    };
  }
}

function collect(
  candidates: readonly CompiledCampaign[] | undefined,
  visit: number,
  request: DeviceRequest,
  categories: readonly string[],
  matched: CompiledCampaign[],
): void {
  if (candidates === undefined) return;
  for (let i = 0; i < candidates.length; i++) {
    const campaign = candidates[i] as CompiledCampaign;
    if (campaign.visit === visit) continue;
    campaign.visit = visit;
    if (matchesRules(campaign, request, categories)) matched.push(campaign);
  }
}

function matchesValue(
  include: ReadonlySet<string> | null,
  exclude: ReadonlySet<string> | null,
  value: string,
): boolean {
  return (include === null || include.has(value)) && (exclude === null || !exclude.has(value));
}

function matchesAny(set: ReadonlySet<string>, values: readonly string[]): boolean {
  for (let i = 0; i < values.length; i++) if (set.has(values[i] as string)) return true;
  return false;
}

// Hot: written as plain loops and property reads, no closures or temporary arrays.
function matchesRules(campaign: CompiledCampaign, request: DeviceRequest, categories: readonly string[]): boolean {
  const { include, exclude } = campaign;
  return (
    matchesValue(include.app, exclude.app, request.app) &&
    matchesValue(include.country, exclude.country, request.country) &&
    matchesValue(include.os, exclude.os, request.os) &&
    (include.category === null || matchesAny(include.category, categories)) &&
    (exclude.category === null || !matchesAny(exclude.category, categories))
  );
}

function byPriorityThenId(a: CompiledCampaign, b: CompiledCampaign): number {
  return b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface CatalogStats {
  categoryApps: ReadonlyMap<string, readonly string[]>;
  appCount: number;
}

/** The include dimension with the smallest estimated chance that a request hits one of its values. */
function chooseAnchor(def: CampaignDef, stats: CatalogStats): Dimension | null {
  const appUniverse = Math.max(MIN_APP_UNIVERSE, stats.appCount);
  const share: Record<Dimension, (values: readonly string[]) => number> = {
    app: (values) => values.length / appUniverse,
    category: (values) => values.reduce((sum, id) => sum + (stats.categoryApps.get(id)?.length ?? 0), 0) / appUniverse,
    country: (values) => values.length * COUNTRY_SHARE,
    os: (values) => values.length * OS_SHARE,
  };
  let best: Dimension | null = null;
  let bestShare = Number.POSITIVE_INFINITY;
  for (const dimension of DIMENSIONS) {
    const values = def.include[dimension];
    if (values.length === 0) continue;
    const estimate = share[dimension](values);
    if (estimate < bestShare) {
      best = dimension;
      bestShare = estimate;
    }
  }
  return best;
}

function compile(def: CampaignDef, stats: CatalogStats): CompiledCampaign {
  const sets = (values: DimensionValues) =>
    Object.fromEntries(DIMENSIONS.map((d) => [d, values[d].length ? new Set(values[d]) : null])) as Record<
      Dimension,
      ReadonlySet<string> | null
    >;
  return {
    id: def.id,
    priority: def.priority,
    startsAt: def.startsAt?.getTime() ?? Number.NEGATIVE_INFINITY,
    endsAt: def.endsAt?.getTime() ?? Number.POSITIVE_INFINITY,
    fragment: JSON.stringify({ cid: def.id, img: def.imageUrl, cta: def.cta }),
    include: sets(def.include),
    exclude: sets(def.exclude),
    anchor: chooseAnchor(def, stats),
    visit: 0,
  };
}

/**
 * Copy-on-write edits over one snapshot's structures: each map and list is copied at most once per
 * change, the first time it is written; everything untouched stays shared with the old snapshot.
 */
class SnapshotWriter {
  private readonly drafts: Partial<Record<Dimension, LayeredMapDraft<readonly CompiledCampaign[]>>> = {};
  readonly appCategories: LayeredMapDraft<readonly string[]>;
  private readonly copied = new Set<object>();

  constructor(
    private readonly anchored: Readonly<Record<Dimension, Postings>>,
    public unanchored: readonly CompiledCampaign[],
    public categoryApps: ReadonlyMap<string, readonly string[]>,
    appCategories: LayeredMap<readonly string[]>,
  ) {
    this.appCategories = appCategories.edit();
  }

  finishAnchored(): Record<Dimension, Postings> {
    const result = { ...this.anchored };
    for (const dimension of DIMENSIONS) {
      const draft = this.drafts[dimension];
      if (draft) result[dimension] = draft.finish();
    }
    return result;
  }

  finishAppCategories(): LayeredMap<readonly string[]> {
    return this.appCategories.finish();
  }

  addCampaign(campaign: CompiledCampaign): void {
    if (!campaign.anchor) {
      this.ownUnanchored().push(campaign);
      return;
    }
    const postings = this.ownPostings(campaign.anchor);
    for (const value of campaign.include[campaign.anchor] ?? EMPTY) this.ownList(postings, value).push(campaign);
  }

  removeCampaign(campaign: CompiledCampaign): void {
    if (!campaign.anchor) {
      const list = this.ownUnanchored();
      list.splice(list.indexOf(campaign), 1);
      return;
    }
    const postings = this.ownPostings(campaign.anchor);
    for (const value of campaign.include[campaign.anchor] ?? EMPTY) {
      const list = this.ownList(postings, value);
      list.splice(list.indexOf(campaign), 1);
      if (list.length === 0) postings.delete(value);
    }
  }

  setCategory(id: string, apps: readonly string[] | null): void {
    const categoryApps = this.own(this.categoryApps, (copy) => {
      this.categoryApps = copy;
    });
    const appCategories = this.appCategories;
    for (const app of categoryApps.get(id) ?? EMPTY) {
      const remaining = (appCategories.get(app) ?? EMPTY).filter((c) => c !== id);
      if (remaining.length) appCategories.set(app, remaining);
      else appCategories.delete(app);
    }
    if (!apps) {
      categoryApps.delete(id);
      return;
    }
    const unique = [...new Set(apps)];
    categoryApps.set(id, unique);
    for (const app of unique) appCategories.set(app, [...(appCategories.get(app) ?? EMPTY), id]);
  }

  private own<K, V>(map: ReadonlyMap<K, V>, replace: (copy: Map<K, V>) => void): Map<K, V> {
    if (this.copied.has(map)) return map as Map<K, V>;
    const copy = new Map(map);
    this.copied.add(copy);
    replace(copy);
    return copy;
  }

  private ownPostings(dimension: Dimension): LayeredMapDraft<readonly CompiledCampaign[]> {
    this.drafts[dimension] ??= this.anchored[dimension].edit();
    return this.drafts[dimension];
  }

  private ownList(postings: LayeredMapDraft<readonly CompiledCampaign[]>, value: string): CompiledCampaign[] {
    const list = postings.get(value);
    if (list && this.copied.has(list)) return list as CompiledCampaign[];
    const copy = list ? [...list] : [];
    this.copied.add(copy);
    postings.set(value, copy);
    return copy;
  }

  private ownUnanchored(): CompiledCampaign[] {
    if (this.copied.has(this.unanchored)) return this.unanchored as CompiledCampaign[];
    const copy = [...this.unanchored];
    this.copied.add(copy);
    this.unanchored = copy;
    return copy;
  }
}
