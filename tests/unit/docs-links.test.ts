// The README and docs/ link only to files in this repository (a clone has nothing beside it), and every
// relative link resolves.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DOCS = [
  "README.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

describe.each(DOCS)("%s", (doc) => {
  const text = readFileSync(path.join(ROOT, doc), "utf8");
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);

  it("links only to files that exist inside the repository", () => {
    const local = targets.filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith("#"));
    for (const target of local) {
      const file = path.resolve(ROOT, path.dirname(doc), target.split("#")[0] as string);
      expect(path.relative(ROOT, file).startsWith(".."), `${target} leaves the repository`).toBe(false);
      expect(existsSync(file), `${target} exists`).toBe(true);
    }
  });

  it("does not point at the workspace's shared files", () => {
    expect(text).not.toMatch(/\.\.\/shared\//);
  });
});
