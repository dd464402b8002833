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

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "1 Jan 2099 00:00 UTC": a flight bound in a sentence. */
export function day(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toISOString().slice(11, 16);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} UTC`;
}

const percentFormat = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

/** 0.125 → "12.5%"; a share too small to show as 0.1% is "<0.1%", never a misleading "0%". */
export const percent = (share: number): string => (share > 0 && share < 0.0005 ? "<0.1%" : percentFormat.format(share));

/** "a, b, c" or "a, b, c … +7 more" (of `total` when the values shown are a prefix of a longer list). */
export function someOf(values: readonly string[], max = 8, total = values.length): string {
  const shown = values.slice(0, max).join(", ");
  const rest = Math.max(total, values.length) - Math.min(max, values.length);
  return rest > 0 ? `${shown} … +${count(rest)} more` : shown;
}
