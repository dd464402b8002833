// deployMigrations with progress (what the embedded database logs on a first start) applies the same
// migrations, one engine call each, and records them exactly as a plain deploy does.
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { deployMigrations, type MigrationStep } from "../../src/db/migrate.ts";
import { createTestDatabase } from "../helpers/database.ts";

const MIGRATIONS = readdirSync(path.resolve(import.meta.dirname, "../../prisma/migrations"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe("deployMigrations with progress", () => {
  it("reports each pending migration before and after applying it, then nothing once up to date", async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      const steps: MigrationStep[] = [];
      const applied = await deployMigrations(fresh.url, { onStep: (step) => steps.push(step) });
      expect(applied).toEqual(MIGRATIONS);
      const of = MIGRATIONS.length;
      expect(steps.filter((s) => s.ms === undefined)).toEqual(MIGRATIONS.map((name, i) => ({ name, step: i + 1, of })));
      expect(steps.filter((s) => s.ms !== undefined).map((s) => s.name)).toEqual(MIGRATIONS);
      const rows = await fresh.sql<{ migration_name: string; done: boolean; steps: number }>(
        "SELECT migration_name, finished_at IS NOT NULL AS done, applied_steps_count AS steps FROM _prisma_migrations ORDER BY 1",
      );
      expect(rows).toEqual(MIGRATIONS.map((migration_name) => ({ migration_name, done: true, steps: 1 })));

      const again: MigrationStep[] = [];
      expect(await deployMigrations(fresh.url, { onStep: (step) => again.push(step) })).toEqual([]);
      expect(again).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });
});
