// What the dashboard says changed (feed rows, conflict view), and which earlier state it compares with:
// the page's own save must not hide what that save changed.
import { describe, expect, it } from "vitest";
import { CampaignCache } from "../../dashboard/cache.ts";
import { describeChanges, describeNew } from "../../dashboard/diff.ts";
import { deliveryState, flight } from "../../dashboard/format.ts";
import type { CampaignState } from "../../dashboard/queries.ts";

const none = () => ({ apps: [], countries: [], os: [], categories: [] });
const state = (patch: Partial<CampaignState> = {}): CampaignState => ({
  id: "spotify",
  name: "Spotify",
  imageUrl: "https://cdn.example/s.png",
  cta: "Listen",
  status: "ACTIVE",
  priority: 10,
  startsAt: null,
  endsAt: null,
  targeting: { include: { ...none(), countries: ["CA", "US"] }, exclude: none() },
  revision: 1,
  updatedAt: "2026-05-01T00:00:00.000Z",
  ...patch,
});

describe("describeChanges", () => {
  it("names changed fields and the rule values added and removed, per dimension and mode", () => {
    const after = state({
      priority: 12,
      status: "PAUSED",
      targeting: {
        include: { ...none(), countries: ["US", "FR", "DE"] },
        exclude: { ...none(), apps: ["bad.app"] },
      },
    });
    expect(describeChanges(state(), after)).toEqual([
      "status ACTIVE → PAUSED",
      "priority 10 → 12",
      "+country FR, DE",
      "−country CA",
      "+not app bad.app",
    ]);
  });

  it("says nothing when nothing editable changed", () => {
    expect(describeChanges(state(), state({ revision: 2, updatedAt: "2026-05-02T00:00:00.000Z" }))).toEqual([]);
  });

  it("describes a new campaign by status, priority and what it includes", () => {
    expect(describeNew(state())).toEqual(["ACTIVE", "priority 10", "country CA, US"]);
  });
});

describe("flight and delivery state", () => {
  const now = Date.parse("2026-05-10T00:00:00Z");
  it("never shows an empty flight as dashes", () => {
    expect(flight(state())).toBe("always on");
    expect(flight(state({ startsAt: "2026-05-01T12:00:00.000Z" }))).toBe("from 2026-05-01 12:00 UTC");
    expect(flight(state({ endsAt: "2026-06-01T00:00:00.000Z" }))).toBe("until 2026-06-01 00:00 UTC");
  });
  it("tells live, scheduled, ended and paused apart", () => {
    expect(deliveryState(state(), now)).toBe("live");
    expect(deliveryState(state({ startsAt: "2026-06-01T00:00:00.000Z" }), now)).toBe("scheduled");
    expect(deliveryState(state({ endsAt: "2026-05-10T00:00:00.000Z" }), now)).toBe("ended");
    expect(deliveryState(state({ status: "PAUSED" }), now)).toBe("paused");
  });
});

describe("CampaignCache", () => {
  it("gives the state an update started from, even after the page stored the update's result", () => {
    const cache = new CampaignCache();
    cache.put([state()]);
    cache.put([state({ priority: 12, revision: 2 })]);
    expect(cache.before("spotify", 2)?.priority).toBe(10);
    expect(cache.before("spotify", 3)?.priority).toBe(12);
    expect(cache.before("spotify", 1)).toBeUndefined();
  });

  it("never replaces a newer revision with an older one", () => {
    const cache = new CampaignCache();
    cache.put([state({ revision: 3, priority: 3 })]);
    cache.put([state({ revision: 2, priority: 2 })]);
    expect(cache.latest("spotify")?.priority).toBe(3);
  });
});
