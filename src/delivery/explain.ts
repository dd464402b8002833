// Why a campaign does or does not match a device now: every reason, as a code with the rule values
// involved (docs/CONTRACT.md §5, explanations). It reads the same compiled rules as the matcher, so a
// campaign is explained as matched exactly when delivery serves it.
import type { CompiledCampaign } from "./compiled-campaign.ts";
import type { DeviceRequest } from "./types.ts";

export type MatchReason =
  | "PAUSED"
  | "NOT_STARTED"
  | "ENDED"
  | "APP_NOT_INCLUDED"
  | "APP_EXCLUDED"
  | "COUNTRY_NOT_INCLUDED"
  | "COUNTRY_EXCLUDED"
  | "OS_NOT_INCLUDED"
  | "OS_EXCLUDED"
  | "CATEGORY_NOT_INCLUDED"
  | "CATEGORY_EXCLUDED";

export interface ReasonDetail {
  reason: MatchReason;
  /** The rule values involved (an include list: at most MAX_REASON_VALUES of them), or the flight bound. */
  values: readonly string[];
}

/** An include list may hold 10,000 values: an explanation shows this many. */
export const MAX_REASON_VALUES = 100;

/** Every reason `campaign` does not match `request` at `now`; empty when it matches. */
export function explainCampaign(
  campaign: CompiledCampaign,
  active: boolean,
  request: DeviceRequest,
  categories: readonly string[],
  now: number,
): ReasonDetail[] {
  const reasons: ReasonDetail[] = [];
  if (!active) reasons.push({ reason: "PAUSED", values: [] });
  if (campaign.startsAt > now) reasons.push({ reason: "NOT_STARTED", values: [iso(campaign.startsAt)] });
  if (campaign.endsAt <= now) reasons.push({ reason: "ENDED", values: [iso(campaign.endsAt)] });
  const { include, exclude } = campaign;
  single(reasons, "APP", include.app, exclude.app, request.app);
  single(reasons, "COUNTRY", include.country, exclude.country, request.country);
  single(reasons, "OS", include.os, exclude.os, request.os);
  if (include.category && !categories.some((id) => include.category?.has(id))) {
    reasons.push({ reason: "CATEGORY_NOT_INCLUDED", values: firstValues(include.category) });
  }
  const excludedCategories = exclude.category ? categories.filter((id) => exclude.category?.has(id)) : [];
  if (excludedCategories.length) reasons.push({ reason: "CATEGORY_EXCLUDED", values: excludedCategories });
  return reasons;
}

function single(
  reasons: ReasonDetail[],
  dimension: "APP" | "COUNTRY" | "OS",
  include: ReadonlySet<string> | null,
  exclude: ReadonlySet<string> | null,
  value: string,
): void {
  if (include && !include.has(value)) {
    reasons.push({ reason: `${dimension}_NOT_INCLUDED`, values: firstValues(include) });
  }
  if (exclude?.has(value)) reasons.push({ reason: `${dimension}_EXCLUDED`, values: [value] });
}

function firstValues(set: ReadonlySet<string>): string[] {
  const values: string[] = [];
  for (const value of set) {
    if (values.length === MAX_REASON_VALUES) break;
    values.push(value);
  }
  return values;
}

const iso = (ms: number) => new Date(ms).toISOString();
