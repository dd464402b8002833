// The start banner: plain text for a person at a terminal, one structured line for a log collector;
// the generated admin token in it, a configured one never.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type BannerInfo, bannerText, bannerUrls, printBanner } from "../../src/banner.ts";
import type { Logger } from "../../src/logger.ts";

const INFO: BannerInfo = {
  host: "0.0.0.0",
  port: 9090,
  database: "embedded (.data/pglite)",
  redis: "in-process (one replica only)",
  workers: 1,
};

function capture(isTTY: boolean) {
  const lines: Record<string, unknown>[] = [];
  let text = "";
  const log = pino(
    { level: "info" },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  ) as unknown as Logger;
  const stderr = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    }),
    { isTTY },
  ) as unknown as NodeJS.WriteStream;
  return { log, stderr, lines, text: () => text };
}

describe("start banner", () => {
  it("names localhost URLs for a wildcard host, and brackets IPv6", () => {
    expect(bannerUrls("0.0.0.0", 9090).delivery).toBe("http://localhost:9090/v1/delivery");
    expect(bannerUrls("::1", 80).graphql).toBe("http://[::1]:80/graphql");
    expect(bannerUrls("10.0.0.5", 9090).dashboard).toBe("http://10.0.0.5:9090/dashboard");
  });

  it("writes plain text with every URL and the generated token to a terminal, and no log line", () => {
    const out = capture(true);
    printBanner({ ...INFO, generatedAdminToken: "generated-token-123" }, out.log, out.stderr);
    for (const path of ["/v1/delivery", "/graphql", "/dashboard", "/v1/openapi.json"])
      expect(out.text()).toContain(`http://localhost:9090${path}`);
    expect(out.text()).toContain("generated-token-123");
    expect(out.lines).toEqual([]);
  });

  it("logs one structured line when stderr is not a terminal: warn with a generated token", () => {
    const out = capture(false);
    printBanner({ ...INFO, generatedAdminToken: "generated-token-123" }, out.log, out.stderr);
    expect(out.text()).toBe("");
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({
      level: 40,
      adminToken: "generated-token-123",
      urls: bannerUrls("0.0.0.0", 9090),
      database: "embedded (.data/pglite)",
    });
  });

  it("logs an info line without any token when ADMIN_TOKEN was configured", () => {
    const out = capture(false);
    printBanner(INFO, out.log, out.stderr);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ level: 30, msg: "started" });
    expect(out.lines[0]).not.toHaveProperty("adminToken");
    expect(bannerText(INFO)).not.toMatch(/token/i);
  });
});
