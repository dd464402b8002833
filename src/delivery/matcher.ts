// Which campaigns of a snapshot match a device request at an instant (docs/CONTRACT.md §2): the
// candidates filed under the request's values (index-data.ts), checked against every rule and their
// flight window. Hot: plain loops and property reads, no closures, no allocation but the result list
// (and, once per category list, country and os, the split of its candidates that later requests reuse).
import type { CompiledCampaign } from "./compiled-campaign.ts";
import { EMPTY_LIST, type IndexData } from "./index-data.ts";
import type { DeviceRequest } from "./types.ts";

/** Matches of one evaluation; reused from one call to the next (the hot path is synchronous). */
export interface Matches {
  readonly campaigns: CompiledCampaign[];
  /** [from, until): while the clock stays in this span, the flight windows give the same matches. */
  from: number;
  until: number;
}

export function newMatches(): Matches {
  return { campaigns: [], from: Number.NEGATIVE_INFINITY, until: Number.POSITIVE_INFINITY };
}

export function findMatches(index: IndexData, request: DeviceRequest, now: number, out: Matches): Matches {
  out.campaigns.length = 0;
  out.from = Number.NEGATIVE_INFINITY;
  out.until = Number.POSITIVE_INFINITY;
  const categories = index.appCategories.get(request.app) ?? EMPTY_LIST;
  scan(index.postings.app.get(request.app), request, categories, now, out);
  for (let i = 0; i < categories.length; i++) {
    scanCategory(index.postings.category.get(categories[i] as string), i, request, categories, now, out);
  }
  scan(index.postings.country.get(request.country), request, categories, now, out);
  scan(index.postings.os.get(request.os), request, categories, now, out);
  scan(index.unanchored, request, categories, now, out);
  return out;
}

/** Categories of the request that `campaign` was already considered under (it is filed under each). */
function seenUnderEarlierCategory(campaign: CompiledCampaign, categories: readonly string[], index: number): boolean {
  const included = campaign.include.category as ReadonlySet<string>;
  for (let i = 0; i < index; i++) if (included.has(categories[i] as string)) return true;
  return false;
}

/**
 * A category's candidates that pass a country and an os, split by what is left to check. `plain`
 * ones include no app and exclude no category: for an app of the category at that country and os,
 * only their excluded apps, whether they were already considered under an earlier category of the
 * request (one that includes several), and their flight window are left. `other` ones are checked in
 * full.
 */
interface CategorySplit {
  readonly plain: readonly CompiledCampaign[];
  readonly other: readonly CompiledCampaign[];
}

interface SplitsOfList {
  /** Campaign references the splits hold, against the list's allowance. */
  held: number;
  readonly byCountry: Map<string, Map<string, CategorySplit>>;
}

/**
 * Splits per posting list, made on first use: a list is immutable and shared by every snapshot until
 * a change replaces it, and its splits go with it. Their memory is bounded by the list's own: at most
 * SPLIT_ALLOWANCE times its length in references (a split holds only the campaigns that pass its
 * country and os, so campaigns that target a few countries leave room for many); past that, the
 * list's candidates are checked in full.
 */
const splits = new WeakMap<readonly CompiledCampaign[], SplitsOfList>();
const SPLIT_ALLOWANCE = 64;

function splitOf(list: readonly CompiledCampaign[], request: DeviceRequest): CategorySplit | undefined {
  let ofList = splits.get(list);
  if (ofList === undefined) {
    ofList = { held: 0, byCountry: new Map() };
    splits.set(list, ofList);
  }
  let byOs = ofList.byCountry.get(request.country);
  const split = byOs?.get(request.os);
  if (split !== undefined || ofList.held >= SPLIT_ALLOWANCE * list.length) return split;
  if (byOs === undefined) {
    byOs = new Map();
    ofList.byCountry.set(request.country, byOs);
  }
  const made = splitList(list, request.country, request.os);
  byOs.set(request.os, made);
  // Each split also costs its maps and arrays: count it as one reference at least.
  ofList.held += made.plain.length + made.other.length + 1;
  return made;
}

function splitList(list: readonly CompiledCampaign[], country: string, os: string): CategorySplit {
  const plain: CompiledCampaign[] = [];
  const other: CompiledCampaign[] = [];
  for (const campaign of list) {
    const { include, exclude } = campaign;
    if (!matchesValue(include.country, exclude.country, country) || !matchesValue(include.os, exclude.os, os)) continue;
    if (include.app === null && exclude.category === null) plain.push(campaign);
    else other.push(campaign);
  }
  return { plain, other };
}

function scanCategory(
  candidates: readonly CompiledCampaign[] | undefined,
  position: number,
  request: DeviceRequest,
  categories: readonly string[],
  now: number,
  out: Matches,
): void {
  if (candidates === undefined) return;
  const split = splitOf(candidates, request);
  const checked = split === undefined ? candidates : split.other;
  for (let i = 0; i < checked.length; i++) {
    const campaign = checked[i] as CompiledCampaign;
    if (position > 0 && seenUnderEarlierCategory(campaign, categories, position)) continue;
    consider(campaign, request, categories, now, out);
  }
  if (split === undefined) return;
  const plain = split.plain;
  for (let i = 0; i < plain.length; i++) {
    const campaign = plain[i] as CompiledCampaign;
    const included = campaign.include.category as ReadonlySet<string>;
    if (position > 0 && included.size > 1 && seenUnderEarlierCategory(campaign, categories, position)) continue;
    if (campaign.exclude.app?.has(request.app)) continue;
    inFlight(campaign, now, out);
  }
}

function scan(
  candidates: readonly CompiledCampaign[] | undefined,
  request: DeviceRequest,
  categories: readonly string[],
  now: number,
  out: Matches,
): void {
  if (candidates === undefined) return;
  for (let i = 0; i < candidates.length; i++)
    consider(candidates[i] as CompiledCampaign, request, categories, now, out);
}

function consider(
  campaign: CompiledCampaign,
  request: DeviceRequest,
  categories: readonly string[],
  now: number,
  out: Matches,
): void {
  if (matchesRules(campaign, request, categories)) inFlight(campaign, now, out);
}

/** Adds a campaign whose rules match if its flight window holds `now`; narrows the span either way. */
function inFlight(campaign: CompiledCampaign, now: number, out: Matches): void {
  if (campaign.startsAt > now) {
    if (campaign.startsAt < out.until) out.until = campaign.startsAt;
  } else if (campaign.endsAt > now) {
    out.campaigns.push(campaign);
    if (campaign.startsAt > out.from) out.from = campaign.startsAt;
    if (campaign.endsAt < out.until) out.until = campaign.endsAt;
  } else if (campaign.endsAt > out.from) {
    out.from = campaign.endsAt;
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

/** Every dimension's rules, flight aside. `categories`: those that contain the request's app. */
export function matchesRules(
  campaign: CompiledCampaign,
  request: DeviceRequest,
  categories: readonly string[],
): boolean {
  const { include, exclude } = campaign;
  return (
    matchesValue(include.app, exclude.app, request.app) &&
    matchesValue(include.country, exclude.country, request.country) &&
    matchesValue(include.os, exclude.os, request.os) &&
    (include.category === null || matchesAny(include.category, categories)) &&
    (exclude.category === null || !matchesAny(exclude.category, categories))
  );
}

/**
 * The campaigns whose rules match `request`, whatever their flight window (forecasts ask about other
 * times than now), into `into` (cleared first). Off the hot path: clarity over speed.
 */
export function findRuleMatches(
  index: IndexData,
  request: DeviceRequest,
  into: CompiledCampaign[],
): CompiledCampaign[] {
  into.length = 0;
  const categories = index.appCategories.get(request.app) ?? EMPTY_LIST;
  const lists: (readonly CompiledCampaign[] | undefined)[] = [
    index.postings.app.get(request.app),
    index.postings.country.get(request.country),
    index.postings.os.get(request.os),
    index.unanchored,
  ];
  for (const list of lists)
    for (const campaign of list ?? EMPTY_LIST) if (matchesRules(campaign, request, categories)) into.push(campaign);
  categories.forEach((category, position) => {
    for (const campaign of index.postings.category.get(category) ?? EMPTY_LIST) {
      if (position > 0 && seenUnderEarlierCategory(campaign, categories, position)) continue;
      if (matchesRules(campaign, request, categories)) into.push(campaign);
    }
  });
  return into;
}
