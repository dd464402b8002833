// The packages a replica loads one at a time before its services must be ones it depends on directly:
// a name that drifts out of package.json would stop every replica from starting.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PRELOADED_PACKAGES, preloadPackages } from "../../src/runtime/preload.ts";

const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  dependencies: Record<string, string>;
};

describe("preloaded packages", () => {
  it("are direct dependencies, each named once, and all load", async () => {
    const packageOf = (name: string) =>
      name
        .split("/")
        .slice(0, name.startsWith("@") ? 2 : 1)
        .join("/");
    expect(PRELOADED_PACKAGES.filter((name) => !(packageOf(name) in manifest.dependencies))).toEqual([]);
    expect(new Set(PRELOADED_PACKAGES).size).toBe(PRELOADED_PACKAGES.length);
    await expect(preloadPackages()).resolves.toBeUndefined();
  });
});
