// The admission filter of the device cache and the answer table: what it lets through as "seen before".
import { describe, expect, it } from "vitest";
import { hashString, SeenFilter } from "../../src/delivery/seen-filter.ts";

const deviceKey = (i: number) => JSON.stringify({ app: `com.new.device${i}`, os: "ios", country: "US" });

describe("SeenFilter", () => {
  it("lets few of a long stream of never-seen devices pass as seen (under 5%; one bit cleared at half let ~25%)", () => {
    const filter = new SeenFilter();
    const devices = 1_200_000; // spans at least one clearing
    let passed = 0;
    for (let i = 0; i < devices; i++) if (filter.check(hashString(deviceKey(i)))) passed++;
    expect(passed / devices).toBeLessThan(0.05);
  });

  it("recognises a device that asks again after 400,000 others", () => {
    const filter = new SeenFilter();
    for (let i = 0; i < 400_000; i++) filter.check(hashString(deviceKey(i)));
    let recognised = 0;
    for (let i = 0; i < 400_000; i += 400) if (filter.check(hashString(deviceKey(i)))) recognised++;
    expect(recognised).toBe(1_000);
  });
});
