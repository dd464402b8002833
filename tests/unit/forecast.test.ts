// The traffic sample is bounded and uniform, and a forecast from it matches the exact share of the
// traffic a draft would reach, within sampling error.
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import type { CompiledCampaign } from "../../src/delivery/compiled-campaign.ts";
import { compileCampaign } from "../../src/delivery/compiled-campaign.ts";
import { combineForecasts, forecastSteps } from "../../src/delivery/forecast.ts";
import { findRuleMatches, matchesRules } from "../../src/delivery/matcher.ts";
import { TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import { drain } from "../../src/delivery/steps.ts";
import { TrafficSample } from "../../src/delivery/traffic-sample.ts";
import type { DeviceRequest, DimensionValues } from "../../src/delivery/types.ts";
import { generateSynthetic, prng, syntheticRequests } from "../../src/seed/synthetic.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const none: DimensionValues = { app: [], os: [], country: [], category: [] };

describe("traffic sample", () => {
  it("keeps at most windows × slots requests, whatever a million distinct devices send", () => {
    let now = 0;
    const sample = new TrafficSample({ clock: () => now });
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) {
      now = i * 7.2; // two hours of traffic
      sample.record({ app: `com.device.app${i}`, os: "ios", country: "US" });
    }
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    console.log(
      `sample after 1,000,000 distinct devices: ${sample.kept} requests kept, heap +${grownMb.toFixed(1)} MB`,
    );
    expect(sample.kept).toBeLessThanOrEqual(12_000);
    expect(grownMb).toBeLessThan(8);
    const windows = sample.recent(now);
    expect(windows.reduce((n, w) => n + w.requests, 0)).toBeGreaterThan(450_000);
    expect(windows.every((w) => w.end > now - 3_600_000)).toBe(true);
  });

  it("samples a window uniformly, even when the traffic changes within it", () => {
    const sample = new TrafficSample({ clock: () => 0, random: prng(3) });
    // The first 30% of the window from the US, the rest from Germany: a biased sampler would show it.
    for (let i = 0; i < 100_000; i++) sample.record({ app: "a", os: "ios", country: i < 30_000 ? "US" : "DE" });
    const [window] = sample.recent(1);
    const us = (window?.sample ?? []).filter((r) => r.country === "US").length / 1_000;
    expect(window?.requests).toBe(100_000);
    expect(Math.abs(us - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / 1_000));
  });
});

describe("forecast", () => {
  it("estimates the share and rate of the traffic a draft reaches, and its overlaps, within sampling error", () => {
    const apps = 20_000;
    const catalog = generateSynthetic({ campaigns: 2_000, apps });
    const snapshot = TargetingSnapshot.build(1, catalog.campaigns, catalog.categories);
    let now = 0;
    const sample = new TrafficSample({ clock: () => now, random: prng(5) });
    const traffic = syntheticRequests(120_000, apps, 9);
    traffic.forEach((request, i) => {
      now = i * 30; // one hour
      sample.record(request);
    });
    const draftInclude = { ...none, country: ["US", "DE", "FR", "GB", "BR", "IN"], os: ["ios"] };
    const draft = compileCampaign(
      {
        id: "(draft)",
        imageUrl: "",
        cta: "",
        status: "ACTIVE",
        priority: 0,
        startsAt: null,
        endsAt: null,
        include: draftInclude,
        exclude: none,
      },
      { appCount: 0, categorySize: () => 0 },
    );
    const flight = { startsAt: Number.NEGATIVE_INFINITY, endsAt: Number.POSITIVE_INFINITY };
    const forecast = combineForecasts([drain(forecastSteps(snapshot, sample.recent(now), draft, flight))]);

    // The exact answer over every request.
    const matching = traffic.filter((r: DeviceRequest) => matchesRules(draft, r, snapshot.categoriesOf(r.app)));
    const share = matching.length / traffic.length;
    const sigma = Math.sqrt((share * (1 - share)) / forecast.sampledRequests);
    console.log(
      `forecast: share ${forecast.matchingShare.toFixed(4)} vs exact ${share.toFixed(4)} (σ ${sigma.toFixed(4)}), ` +
        `${Math.round(forecast.requestsPerHour)} vs ${matching.length} requests/hour, ${forecast.sampledRequests} sampled`,
    );
    expect(forecast.replicasAnswered).toBe(1);
    expect(forecast.sampledRequests).toBe(12_000);
    expect(Math.abs(forecast.matchingShare - share)).toBeLessThan(4 * sigma);
    expect(Math.abs(forecast.requestsPerHour - matching.length)).toBeLessThan(4 * sigma * traffic.length);

    const top = forecast.overlaps[0];
    expect(top).toBeDefined();
    const also: CompiledCampaign[] = [];
    const exactOverlap =
      matching.filter((r) => findRuleMatches(snapshot.data, r, also).some((c) => c.id === top?.campaignId)).length /
      matching.length;
    const overlapSigma = Math.sqrt((exactOverlap * (1 - exactOverlap)) / (forecast.sampledRequests * share));
    expect(Math.abs((top?.share ?? 0) - exactOverlap)).toBeLessThan(4 * overlapSigma + 0.01);
  });
});
