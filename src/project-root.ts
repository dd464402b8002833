// Where the files the server reads at run time live (prisma/schema.prisma, prisma/migrations/,
// dist/dashboard/, docs/), whether this code runs from src/ (tsx, tests) or compiled from dist/src/:
// the nearest folder above this module that holds package.json — the checkout, or /app in the image.
import { existsSync } from "node:fs";
import path from "node:path";

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PROJECT_ROOT = findRoot(import.meta.dirname);
