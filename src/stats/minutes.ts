// Delivery stats are kept in per-minute buckets (minute = whole minutes since the Unix epoch, UTC).
// What the API calls "last minute" and "last hour" is defined here, once.

export const MINUTE_MS = 60_000;
/** Buckets older than this are dropped (Redis EXPIRE, and the in-process store prunes them). */
export const RETENTION_MINUTES = 24 * 60;
export const RETENTION_SECONDS = RETENTION_MINUTES * 60;

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

/**
 * "Served in the last minute" = the current (partial) bucket plus the previous whole one, so it always
 * covers at least the last 60 s (at most 120 s) and a burst just after a minute boundary is not lost.
 */
export const LAST_MINUTE_BUCKETS = 2;
/** "Served in the last hour" = the current bucket plus the 60 before it: at least the last 60 minutes. */
export const LAST_HOUR_BUCKETS = 61;

/** Sum of the newest `buckets` values of a series ordered oldest → newest. */
export function sumNewest(series: readonly number[], buckets: number): number {
  let sum = 0;
  for (let i = Math.max(0, series.length - buckets); i < series.length; i++) sum += series[i] as number;
  return sum;
}
