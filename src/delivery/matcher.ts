// Which campaigns of a snapshot match a device request at an instant (docs/CONTRACT.md §2): the
// candidates filed under the request's values (index-data.ts), checked against every rule and their
// flight window. Hot: plain loops and property reads, no closures, no allocation but the result list.
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

function scanCategory(
  candidates: readonly CompiledCampaign[] | undefined,
  position: number,
  request: DeviceRequest,
  categories: readonly string[],
  now: number,
  out: Matches,
): void {
  if (candidates === undefined) return;
  for (let i = 0; i < candidates.length; i++) {
    const campaign = candidates[i] as CompiledCampaign;
    if (position > 0 && seenUnderEarlierCategory(campaign, categories, position)) continue;
    consider(campaign, request, categories, now, out);
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
  if (!matchesRules(campaign, request, categories)) return;
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
