// A reach forecast for draft targeting, from one replica's traffic sample (traffic-sample.ts): how
// many of the sampled requests the draft would match, weighted by how many requests each sampled one
// stands for, and which ACTIVE campaigns (flying during the draft's window) also match them. Runs in
// steps (steps.ts): 12,000 samples against a 10k-campaign index is tens of ms of work.
import type { CompiledCampaign } from "./compiled-campaign.ts";
import { EMPTY_LIST } from "./index-data.ts";
import { findRuleMatches, matchesRules } from "./matcher.ts";
import type { TargetingSnapshot } from "./snapshot.ts";
import type { Steps } from "./steps.ts";
import type { SampledWindow } from "./traffic-sample.ts";

/** One replica's part of a forecast; parts from every replica add up (see combineForecasts). */
export interface ForecastPart {
  sampledRequests: number;
  /** Requests the sample stands for, and the span they came in. */
  requests: number;
  coveredMs: number;
  /** Estimated requests the draft matches. */
  matchingRequests: number;
  /** Estimated requests matched by both the draft and the campaign, by campaign id. */
  overlaps: Record<string, number>;
}

export interface Flight {
  /** ms since epoch; open bounds are ±Infinity. */
  startsAt: number;
  endsAt: number;
}

/**
 * The overlaps are estimated from at most this many of the draft's matching samples per replica
 * (σ of a share ≤ 2.2 % on one replica, less as replicas add theirs): every one costs a full match
 * against the catalog (~50 µs at 10k campaigns), and the forecast must answer within 500 ms.
 */
const OVERLAP_SAMPLES = 500;
/** A part names only its largest overlaps: the fleet shows the top 10, and a part travels on the bus. */
const OVERLAPS_PER_PART = 200;

export function* forecastSteps(
  snapshot: TargetingSnapshot,
  windows: readonly SampledWindow[],
  draft: CompiledCampaign,
  flight: Flight,
): Steps<ForecastPart> {
  const part: ForecastPart = { sampledRequests: 0, requests: 0, coveredMs: 0, matchingRequests: 0, overlaps: {} };
  // 1. Which samples the draft matches, each weighted by the requests it stands for (cheap: one check).
  const matching: { request: (typeof windows)[number]["sample"][number]; weight: number }[] = [];
  for (const window of windows) {
    part.requests += window.requests;
    part.coveredMs += window.end - window.start;
    part.sampledRequests += window.sample.length;
    if (window.sample.length === 0) continue;
    const weight = window.requests / window.sample.length;
    for (let i = 0; i < window.sample.length; i++) {
      const request = window.sample[i] as (typeof window.sample)[number];
      if (matchesRules(draft, request, snapshot.categoriesOf(request.app) ?? EMPTY_LIST)) {
        matching.push({ request, weight });
        part.matchingRequests += weight;
      }
      if (i % 512 === 511) yield;
    }
  }
  // 2. Which ACTIVE campaigns also match them (dearer: every candidate of each): an even spread of at
  //    most OVERLAP_SAMPLES matching samples, scaled back to all of them.
  const stride = Math.max(1, matching.length / OVERLAP_SAMPLES);
  const overlaps = new Map<string, number>();
  const alsoMatching: CompiledCampaign[] = [];
  let chosenWeight = 0;
  for (let position = 0, n = 0; position < matching.length; position += stride, n++) {
    const { request, weight } = matching[Math.floor(position)] as (typeof matching)[number];
    chosenWeight += weight;
    for (const campaign of findRuleMatches(snapshot.data, request, alsoMatching)) {
      if (campaign.startsAt < flight.endsAt && flight.startsAt < campaign.endsAt) {
        overlaps.set(campaign.id, (overlaps.get(campaign.id) ?? 0) + weight);
      }
    }
    if (n % 32 === 31) yield;
  }
  const scale = chosenWeight > 0 ? part.matchingRequests / chosenWeight : 0;
  part.overlaps = Object.fromEntries(
    [...overlaps]
      .sort((a, b) => b[1] - a[1])
      .slice(0, OVERLAPS_PER_PART)
      .map(([id, n]) => [id, n * scale]),
  );
  return part;
}

export interface Forecast {
  sampledRequests: number;
  matchingShare: number;
  requestsPerHour: number;
  replicasAnswered: number;
  /** Campaign ids with the share of the draft's matches they also match, largest first. */
  overlaps: { campaignId: string; share: number }[];
}

const HOUR_MS = 3_600_000;

/** The fleet's forecast from every replica's part: shares over all requests, rates added up. */
export function combineForecasts(parts: readonly ForecastPart[], maxOverlaps = 10): Forecast {
  let sampled = 0;
  let requests = 0;
  let matching = 0;
  let perHour = 0;
  const overlaps = new Map<string, number>();
  for (const part of parts) {
    sampled += part.sampledRequests;
    requests += part.requests;
    matching += part.matchingRequests;
    if (part.coveredMs > 0) perHour += (part.matchingRequests / part.coveredMs) * HOUR_MS;
    for (const [id, n] of Object.entries(part.overlaps)) overlaps.set(id, (overlaps.get(id) ?? 0) + n);
  }
  return {
    sampledRequests: sampled,
    matchingShare: requests > 0 ? matching / requests : 0,
    requestsPerHour: perHour,
    replicasAnswered: parts.length,
    overlaps: [...overlaps]
      .map(([campaignId, n]) => ({ campaignId, share: matching > 0 ? n / matching : 0 }))
      .sort((a, b) => b.share - a.share || (a.campaignId < b.campaignId ? -1 : 1))
      .slice(0, maxOverlaps),
  };
}
