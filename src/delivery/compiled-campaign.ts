// A campaign as the matcher uses it: rule sets, flight bounds as numbers, its pre-serialised response
// fragment, and the one include dimension it is filed under (its "anchor"). Immutable: a changed
// campaign is compiled anew, with a new serial, so an answer identified by serials never goes stale.
import { type CampaignDef, DIMENSIONS, type Dimension, type DimensionValues } from "./types.ts";

export type RuleSets = Readonly<Record<Dimension, ReadonlySet<string> | null>>;

export interface CompiledCampaign {
  readonly id: string;
  /** Unique per compiled definition in this process. */
  readonly serial: number;
  readonly priority: number;
  /** Flight bounds in ms since epoch; open bounds are ±Infinity. */
  readonly startsAt: number;
  readonly endsAt: number;
  /** `{"cid","img","cta"}`, so a response body is a join of fragments; and its length in UTF-8 bytes. */
  readonly fragment: string;
  readonly fragmentBytes: number;
  readonly include: RuleSets;
  readonly exclude: RuleSets;
  /** The dimension it is filed under; null when it has no include rule at all. */
  readonly anchor: Dimension | null;
}

/** What the anchor choice needs to know about the catalog. */
export interface CatalogStats {
  categorySize(id: string): number;
  readonly appCount: number;
}

// Rough share of traffic one value of a dimension receives, for choosing anchors. Any anchor gives
// correct answers; a better guess only means fewer candidates to check per request.
const COUNTRY_SHARE = 1 / 50;
const OS_SHARE = 1 / 3;
const MIN_APP_UNIVERSE = 10_000;

let lastSerial = 0;

export function compileCampaign(def: CampaignDef, stats: CatalogStats): CompiledCampaign {
  const fragment = JSON.stringify({ cid: def.id, img: def.imageUrl, cta: def.cta });
  return {
    id: def.id,
    serial: ++lastSerial,
    priority: def.priority,
    startsAt: def.startsAt?.getTime() ?? Number.NEGATIVE_INFINITY,
    endsAt: def.endsAt?.getTime() ?? Number.POSITIVE_INFINITY,
    fragment,
    fragmentBytes: Buffer.byteLength(fragment),
    include: ruleSets(def.include),
    exclude: ruleSets(def.exclude),
    anchor: chooseAnchor(def.include, stats),
  };
}

function ruleSets(values: DimensionValues): RuleSets {
  const set = (list: readonly string[]) => (list.length ? new Set(list) : null);
  return { app: set(values.app), os: set(values.os), country: set(values.country), category: set(values.category) };
}

/** The include dimension with the smallest estimated chance that a request hits one of its values. */
function chooseAnchor(include: DimensionValues, stats: CatalogStats): Dimension | null {
  const appUniverse = Math.max(MIN_APP_UNIVERSE, stats.appCount);
  let best: Dimension | null = null;
  let bestShare = Number.POSITIVE_INFINITY;
  for (const dimension of DIMENSIONS) {
    const values = include[dimension];
    if (values.length === 0) continue;
    let share: number;
    if (dimension === "app") share = values.length / appUniverse;
    else if (dimension === "country") share = values.length * COUNTRY_SHARE;
    else if (dimension === "os") share = values.length * OS_SHARE;
    else share = values.reduce((sum, id) => sum + stats.categorySize(id), 0) / appUniverse;
    if (share < bestShare) {
      best = dimension;
      bestShare = share;
    }
  }
  return best;
}

/** Highest priority first, then id ascending: the order of a delivery answer. */
export function byPriorityThenId(a: CompiledCampaign, b: CompiledCampaign): number {
  return b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
