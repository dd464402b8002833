// Before any test file: the compiled server that startServerProcess runs is built and up to date
// (scripts/ensure-build.mjs rebuilds only what is older than its sources; `npm test` ran it already).
import { execFileSync } from "node:child_process";
import path from "node:path";

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, "..");
  execFileSync(process.execPath, ["scripts/ensure-build.mjs"], { cwd: root, stdio: "inherit" });
}
