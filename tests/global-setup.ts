// Before any test file: the compiled server that startServerProcess runs is built and up to date
// (scripts/ensure-build.mjs rebuilds only what is older than its sources; `npm test` ran it already),
// and a template database, migrated by the compiled migrate job, exists for createTestDatabase to copy
// (dropped after the run). Every Redis key prefix of the run starts with its id; the keys left under
// it (delivery stats expire only after a day) are deleted after the run.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { createTemplateDatabase, TEMPLATE_ENV } from "./helpers/database.ts";
import { deleteSharedKeys, TEST_RUN_ENV } from "./helpers/redis.ts";

export default async function setup(): Promise<() => Promise<void>> {
  const root = path.resolve(import.meta.dirname, "..");
  execFileSync(process.execPath, ["scripts/ensure-build.mjs"], { cwd: root, stdio: "inherit" });
  const template = await createTemplateDatabase((url) => {
    // Its progress lines only when it fails (execFileSync's error carries them).
    execFileSync(process.execPath, ["dist/scripts/migrate.js", "deploy"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url },
      stdio: "pipe",
    });
  });
  // Workers start after the global setup and inherit its environment.
  process.env[TEMPLATE_ENV] = template.name;
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  process.env[TEST_RUN_ENV] = run;
  return async () => {
    await template.drop();
    await deleteSharedKeys(`test:${run}:*`);
  };
}
