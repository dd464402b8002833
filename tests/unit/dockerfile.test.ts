// The Dockerfile cannot be built here (no Docker engine): check what it promises by reading it — two
// stages, the runtime one running compiled JavaScript under an init as a non-root user, holding every
// file the server and the compose migration job read — and that those files exist after `npm run build`.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { START_NODE_FLAGS } from "../helpers/start-flags.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const text = readFileSync(path.join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
const instructions = text
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"))
  .map((line) => {
    const [keyword = "", ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
  });
const stages = instructions.reduce<{ from: string; body: typeof instructions }[]>((all, instruction) => {
  if (instruction.keyword === "FROM") all.push({ from: instruction.args, body: [] });
  else all.at(-1)?.body.push(instruction);
  return all;
}, []);
const runtime = stages.at(-1)!;
const args = (keyword: string) => runtime.body.filter((i) => i.keyword === keyword).map((i) => i.args);

describe("Dockerfile", () => {
  it("builds in one stage (npm ci + npm run build) and runs from another", () => {
    expect(stages).toHaveLength(2);
    const build = stages[0]!;
    expect(build.from).toMatch(/ AS build$/);
    expect(build.body.map((i) => `${i.keyword} ${i.args}`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^RUN npm ci\b/), "RUN npm run build"]),
    );
  });

  it("runtime: production dependencies only, dist/ from the build stage, the Prisma schema and migrations", () => {
    expect(args("RUN").some((a) => /npm ci .*--omit=dev/.test(a))).toBe(true);
    expect(args("COPY")).toEqual(
      expect.arrayContaining([
        "--from=build /app/dist ./dist",
        "prisma/schema.prisma ./prisma/schema.prisma",
        "prisma/migrations ./prisma/migrations",
      ]),
    );
    expect(args("COPY").some((a) => a.startsWith(". ") || a.includes("src"))).toBe(false);
  });

  it("runtime: node dist/src/index.js with npm start's flags, under tini, as a non-root user", () => {
    expect(args("ENTRYPOINT")).toEqual(['["/usr/bin/tini", "--"]']);
    expect(args("RUN").some((a) => /apt-get install .*\btini\b/.test(a))).toBe(true);
    const command = ["node", ...START_NODE_FLAGS, "dist/src/index.js"];
    expect(args("CMD")).toEqual([`[${command.map((arg) => JSON.stringify(arg)).join(", ")}]`]);
    expect(args("USER")).toEqual(["node"]);
    expect(text).not.toMatch(/\btsx\b|npx /);
  });

  it("every file the image runs exists after the build", () => {
    const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
      services: { migrate: { command: string[] } };
    };
    const migrate = compose.services.migrate.command.join(" ");
    const scripts = [...migrate.matchAll(/node (\S+)/g)].map((m) => m[1] as string);
    expect(scripts).toEqual(["dist/scripts/migrate.js", "dist/prisma/seed.js"]);
    for (const file of [...scripts, "dist/src/index.js", "dist/dashboard/index.html", "dist/docs/openapi.json"])
      expect(existsSync(path.join(ROOT, file)), `${file} (npm run build)`).toBe(true);
  });
});
