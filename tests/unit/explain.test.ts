// explainDelivery's reasons: one code per failing rule and flight bound, and a campaign is explained
// as matched exactly when delivery serves it (checked against the brute-force reading of the contract).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { explainCampaign, type MatchReason } from "../../src/delivery/explain.ts";
import { TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import type { CampaignDef, DimensionValues } from "../../src/delivery/types.ts";
import { bruteForce, catalogArbitrary, HOUR, NOW, requestArbitrary } from "../helpers/targeting.ts";

const none: DimensionValues = { app: [], os: [], country: [], category: [] };
const campaign = (patch: Partial<CampaignDef>): CampaignDef => ({
  id: "c1",
  imageUrl: "https://img/c1.png",
  cta: "Go",
  status: "ACTIVE",
  priority: 1,
  startsAt: null,
  endsAt: null,
  include: none,
  exclude: none,
  ...patch,
});
const device = { app: "spotify", os: "ios", country: "DE" };

function reasonsFor(def: CampaignDef, categories = [{ id: "music", apps: ["spotify"] }], now = NOW) {
  const snapshot = TargetingSnapshot.build(1, [def], categories);
  const entry = snapshot.campaign(def.id);
  if (!entry) throw new Error("campaign not in the index");
  return explainCampaign(entry.compiled, entry.active, device, snapshot.categoriesOf(device.app), now);
}

describe("explanations", () => {
  it.each<[string, Partial<CampaignDef>, MatchReason, string[]]>([
    ["paused", { status: "PAUSED" }, "PAUSED", []],
    ["not started", { startsAt: new Date(NOW + HOUR) }, "NOT_STARTED", [new Date(NOW + HOUR).toISOString()]],
    ["ended", { endsAt: new Date(NOW) }, "ENDED", [new Date(NOW).toISOString()]],
    [
      "app not included",
      { include: { ...none, app: ["tiktok", "snapchat"] } },
      "APP_NOT_INCLUDED",
      ["tiktok", "snapchat"],
    ],
    ["app excluded", { exclude: { ...none, app: ["spotify"] } }, "APP_EXCLUDED", ["spotify"]],
    ["country not included", { include: { ...none, country: ["US"] } }, "COUNTRY_NOT_INCLUDED", ["US"]],
    ["country excluded", { exclude: { ...none, country: ["DE", "FR"] } }, "COUNTRY_EXCLUDED", ["DE"]],
    ["os not included", { include: { ...none, os: ["android"] } }, "OS_NOT_INCLUDED", ["android"]],
    ["os excluded", { exclude: { ...none, os: ["ios"] } }, "OS_EXCLUDED", ["ios"]],
    ["category not included", { include: { ...none, category: ["games"] } }, "CATEGORY_NOT_INCLUDED", ["games"]],
    ["category excluded", { exclude: { ...none, category: ["music", "news"] } }, "CATEGORY_EXCLUDED", ["music"]],
  ])("%s: %s with the values involved", (_name, patch, reason, values) => {
    expect(reasonsFor(campaign(patch))).toEqual([{ reason, values }]);
  });

  it("gives every reason at once, and none for a campaign that matches", () => {
    const all = campaign({
      status: "PAUSED",
      endsAt: new Date(NOW - HOUR),
      include: { app: ["tiktok"], os: ["android"], country: ["US"], category: ["games"] },
      exclude: none,
    });
    expect(reasonsFor(all).map((r) => r.reason)).toEqual([
      "PAUSED",
      "ENDED",
      "APP_NOT_INCLUDED",
      "COUNTRY_NOT_INCLUDED",
      "OS_NOT_INCLUDED",
      "CATEGORY_NOT_INCLUDED",
    ]);
    expect(reasonsFor(campaign({ include: { ...none, category: ["music"], country: ["DE"] } }))).toEqual([]);
  });

  it("shows at most 100 values of a long include list", () => {
    const apps = Array.from({ length: 5_000 }, (_, i) => `app${i}`);
    const [reason] = reasonsFor(campaign({ include: { ...none, app: apps } }));
    expect(reason?.reason).toBe("APP_NOT_INCLUDED");
    expect(reason?.values).toHaveLength(100);
  });

  it("explains a campaign as matched exactly when delivery serves it (any catalog, device, instant)", () => {
    fc.assert(
      fc.property(
        catalogArbitrary,
        requestArbitrary,
        fc.integer({ min: -4, max: 4 }).map((h) => NOW + h * HOUR + 1),
        ({ campaigns, categories }, request, now) => {
          const snapshot = TargetingSnapshot.build(1, campaigns, categories);
          const served = snapshot.match(request, now).campaignIds;
          expect(served).toEqual(bruteForce(campaigns, categories, request, now));
          const categoriesOfApp = snapshot.categoriesOf(request.app);
          const matched = campaigns
            .filter((c) => {
              const entry = snapshot.campaign(c.id);
              if (!entry) throw new Error(`${c.id} missing from the index`);
              return explainCampaign(entry.compiled, entry.active, request, categoriesOfApp, now).length === 0;
            })
            .map((c) => c.id)
            .sort();
          expect(matched).toEqual([...served].sort());
        },
      ),
      { numRuns: 1000 },
    );
  });
});
