// Text for what the dashboard shows: numbers, times (UTC, like the API), flights, delivery states,
// targeting summaries.
import type { CampaignState, DimensionValues, Targeting } from "./queries.ts";

const numberFormat = new Intl.NumberFormat("en-US");
export const count = (n: number): string => numberFormat.format(n);

/** "2026-05-01 14:00 UTC" */
export const utc = (iso: string): string => `${iso.slice(0, 16).replace("T", " ")} UTC`;

export function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

export const agoSince = (iso: string, now = Date.now()): string => ago(now - Date.parse(iso));

/** "always on", "from …", "until …" or "… → …": never "— → —". */
export function flight(c: Pick<CampaignState, "startsAt" | "endsAt">): string {
  if (!c.startsAt && !c.endsAt) return "always on";
  if (!c.endsAt) return `from ${utc(c.startsAt as string)}`;
  if (!c.startsAt) return `until ${utc(c.endsAt)}`;
  return `${utc(c.startsAt)} → ${utc(c.endsAt)}`;
}

export type DeliveryState = "live" | "paused" | "scheduled" | "ended";

/** Whether delivery may serve it now, and if not, why. */
export function deliveryState(
  c: Pick<CampaignState, "status" | "startsAt" | "endsAt">,
  now = Date.now(),
): DeliveryState {
  if (c.status === "PAUSED") return "paused";
  if (c.startsAt && Date.parse(c.startsAt) > now) return "scheduled";
  if (c.endsAt && Date.parse(c.endsAt) <= now) return "ended";
  return "live";
}

export const DIMENSIONS: readonly [keyof DimensionValues, string, string][] = [
  ["apps", "app", "apps"],
  ["countries", "country", "countries"],
  ["os", "os", "os"],
  ["categories", "category", "categories"],
];

function list(values: string[], max = 3): string {
  return values.length <= max ? values.join(", ") : `${values.slice(0, max).join(", ")} +${values.length - max}`;
}

/** "app: a, b · country: US · not os: ios", or "everyone" for a campaign without rules. */
export function targetingSummary(t: Targeting, perDimension = 3): string {
  const parts: string[] = [];
  for (const [key, label] of DIMENSIONS) {
    if (t.include[key].length) parts.push(`${label}: ${list(t.include[key], perDimension)}`);
  }
  for (const [key, label] of DIMENSIONS) {
    if (t.exclude[key].length) parts.push(`not ${label}: ${list(t.exclude[key], perDimension)}`);
  }
  return parts.length ? parts.join(" · ") : "everyone";
}
