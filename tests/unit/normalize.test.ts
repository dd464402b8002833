import { describe, expect, it } from "vitest";
import { normalizeApp, normalizeCountry, normalizeOs } from "../../src/delivery/normalize.ts";
import { parseDeviceFields } from "../../src/delivery/request.ts";

describe("value normalisation", () => {
  it("resolves alpha-2 codes and English country names to the upper-case code", () => {
    expect(normalizeCountry("US")).toBe("US");
    expect(normalizeCountry(" de ")).toBe("DE");
    expect(normalizeCountry("Germany")).toBe("DE");
    expect(normalizeCountry("canada")).toBe("CA");
    expect(normalizeCountry("United Kingdom")).toBe("GB");
  });

  it("rejects what is not a country", () => {
    for (const bad of ["XX", "USA1", "Atlantis", "U", ""]) expect(normalizeCountry(bad)).toBeUndefined();
  });

  it("lower-cases os tokens and apps, and rejects spaces and control characters", () => {
    expect(normalizeOs(" iOS ")).toBe("ios");
    expect(normalizeOs("windows phone")).toBeUndefined();
    expect(normalizeOs("x".repeat(33))).toBeUndefined();
    expect(normalizeApp(" Com.Spotify.Music ")).toBe("com.spotify.music");
    expect(normalizeApp("my app")).toBeUndefined();
    expect(normalizeApp("bad\u0000app")).toBeUndefined();
    expect(normalizeApp("a".repeat(256))).toBeUndefined();
  });
});

describe("device request parsing", () => {
  it("names every bad field at once, and the first one (app, country, os) in the classic message", () => {
    const parsed = parseDeviceFields({ app: "", os: 42, country: "Narnia" });
    expect(parsed).toEqual({
      ok: false,
      error: "missing app param",
      fields: { app: "missing", os: "invalid", country: "invalid" },
    });
  });

  it.each([
    [{ app: "x", os: "ios", country: "Narnia" }, "invalid country param"],
    [{ app: "x", os: "i o s", country: "US" }, "invalid os param"],
    [{ app: "x", os: "i o s", country: "Narnia" }, "invalid country param"],
    [{ app: "x", country: "Narnia" }, "invalid country param"],
    [{ app: "x", os: "bad os", country: "" }, "missing country param"],
    [{ app: "with space", country: "Narnia" }, "invalid app param"],
  ])("classic message for %j: %s", (raw, error) => {
    const parsed = parseDeviceFields(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toBe(error);
  });

  it("normalises a valid request", () => {
    expect(parseDeviceFields({ app: "Spotify", os: "Android", country: "germany", extra: 1 })).toEqual({
      ok: true,
      request: { app: "spotify", os: "android", country: "DE" },
    });
  });
});
