// What "Why not serving?" says for each reason code, and how the reach estimate writes its figures.
import { describe, expect, it } from "vitest";
import { day, percent, someOf } from "../../dashboard/format.ts";
import type { Explanation, Targeting } from "../../dashboard/queries.ts";
import { reasonText } from "../../dashboard/why-not-serving.ts";

const none = () => ({ apps: [], countries: [], os: [], categories: [] });
const targeting = (include: Partial<Targeting["include"]> = {}): Targeting => ({
  include: { ...none(), ...include },
  exclude: none(),
});
const request: Explanation["request"] = { app: "spotify", os: "android", country: "DE", categories: ["music"] };
type Code = Explanation["campaigns"][number]["reasons"][number]["reason"];
const say = (reason: Code, values: string[], t = targeting()) => reasonText({ reason, values }, request, t);

describe("reasons in words", () => {
  it("says every code with the values involved", () => {
    expect(say("PAUSED", [])).toBe("Paused");
    expect(say("NOT_STARTED", ["2099-01-01T00:00:00.000Z"])).toBe("Starts 1 Jan 2099 00:00 UTC");
    expect(say("ENDED", ["2020-03-09T17:05:00.000Z"])).toBe("Ended 9 Mar 2020 17:05 UTC");
    expect(say("COUNTRY_NOT_INCLUDED", ["US", "CA"], targeting({ countries: ["US", "CA"] }))).toBe(
      "Country DE is not in its list: US, CA",
    );
    expect(say("COUNTRY_EXCLUDED", ["DE"])).toBe("Country DE is excluded");
    expect(say("APP_NOT_INCLUDED", ["tiktok"], targeting({ apps: ["tiktok"] }))).toBe(
      "App spotify is not in its list: tiktok",
    );
    expect(say("APP_EXCLUDED", ["spotify"])).toBe("App spotify is excluded");
    expect(say("OS_NOT_INCLUDED", ["ios"], targeting({ os: ["ios"] }))).toBe("OS android is not in its list: ios");
    expect(say("OS_EXCLUDED", ["android"])).toBe("OS android is excluded");
    expect(say("CATEGORY_NOT_INCLUDED", ["games", "news"], targeting({ categories: ["games", "news"] }))).toBe(
      "In no included category: games, news",
    );
    expect(say("CATEGORY_EXCLUDED", ["music"])).toBe("In excluded category: music");
    expect(say("CATEGORY_EXCLUDED", ["music", "audio"])).toBe("In excluded categories: music, audio");
  });

  it("shortens a long include list, counting what the server left out (it sends at most 100)", () => {
    const countries = Array.from({ length: 150 }, (_, i) => `C${i}`);
    expect(say("COUNTRY_NOT_INCLUDED", countries.slice(0, 100), targeting({ countries }))).toBe(
      "Country DE is not in its list: C0, C1, C2, C3, C4, C5, C6, C7 … +142 more",
    );
  });
});

describe("figures", () => {
  it("writes shares as percentages, never a misleading 0% for a tiny share", () => {
    expect(percent(0.75)).toBe("75%");
    expect(percent(0.125)).toBe("12.5%");
    expect(percent(0)).toBe("0%");
    expect(percent(0.0001)).toBe("<0.1%");
    expect(percent(1)).toBe("100%");
  });

  it("writes flight bounds as a day and time in UTC, and lists a few values", () => {
    expect(day("2026-05-01T14:30:00Z")).toBe("1 May 2026 14:30 UTC");
    expect(someOf(["a", "b"])).toBe("a, b");
    expect(someOf(["a", "b", "c"], 2)).toBe("a, b … +1 more");
  });
});
