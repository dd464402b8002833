// The structures one snapshot of the index consists of. All immutable once built; a change makes new
// ones that share whatever it did not touch (see index-draft.ts).
//
// Each ACTIVE campaign is filed once, under its anchor dimension: one posting per value it includes
// there. Campaigns without any include rule are in `unanchored` (they may match every request). A
// campaign that matches a request must include the request's value in its anchor dimension, so a
// request's candidates are the postings of its app, its categories, its country and its os, plus
// `unanchored`: the work follows those candidates, not the size of the catalog.
import type { CompiledCampaign } from "./compiled-campaign.ts";
import { LayeredMap } from "./layered-map.ts";
import type { Steps } from "./steps.ts";
import { DIMENSIONS, type Dimension } from "./types.ts";

export type Postings = LayeredMap<readonly CompiledCampaign[]>;

export interface IndexData {
  /** ACTIVE campaigns by id: the ones filed in the postings. */
  readonly campaigns: LayeredMap<CompiledCampaign>;
  /** PAUSED campaigns by id: never matched, kept so explanations read one consistent snapshot. */
  readonly paused: LayeredMap<CompiledCampaign>;
  readonly postings: Readonly<Record<Dimension, Postings>>;
  readonly unanchored: readonly CompiledCampaign[];
  /** Category → its apps, and app → the categories that contain it. */
  readonly categoryApps: LayeredMap<readonly string[]>;
  readonly appCategories: LayeredMap<readonly string[]>;
}

export const EMPTY_LIST: readonly never[] = Object.freeze([]);

export function emptyIndex(): IndexData {
  return {
    campaigns: LayeredMap.empty(),
    paused: LayeredMap.empty(),
    postings: {
      app: LayeredMap.empty(),
      os: LayeredMap.empty(),
      country: LayeredMap.empty(),
      category: LayeredMap.empty(),
    },
    unanchored: EMPTY_LIST,
    categoryApps: LayeredMap.empty(),
    appCategories: LayeredMap.empty(),
  };
}

/** The same index with every map whose overlay outgrew its base folded (in steps); `index` itself when none did. */
export function* compacted(index: IndexData): Steps<IndexData> {
  const maps = [
    index.campaigns,
    index.paused,
    index.categoryApps,
    index.appCategories,
    ...Object.values(index.postings),
  ];
  if (!maps.some((map) => map.needsFold)) return index;
  const postings = {} as Record<Dimension, Postings>;
  for (const dimension of DIMENSIONS) postings[dimension] = yield* index.postings[dimension].folded();
  return {
    campaigns: yield* index.campaigns.folded(),
    paused: yield* index.paused.folded(),
    postings,
    unanchored: index.unanchored,
    categoryApps: yield* index.categoryApps.folded(),
    appCategories: yield* index.appCategories.folded(),
  };
}
