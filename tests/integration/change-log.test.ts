// The change log is written by the database: every committed change, API or direct SQL, gets the next
// version, gapless, one per transaction; and the offline migration runner behaves like `migrate deploy`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployMigrations, migrationStatus } from "../../src/db/migrate.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let database: TestDatabase;
const latest = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;
const items = (version: number) =>
  database.sql("SELECT kind, campaign_id, category_id FROM change_log_item WHERE version = $1 ORDER BY id", [version]);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe("change log", () => {
  /** A campaign of this test's own, made in SQL (one version), with a targeting rule if asked. */
  const makeCampaign = async (id: string, rule = false) => {
    await database.sql(`INSERT INTO campaign (id, name, image_url, cta) VALUES ($1, 'SQL', 'https://x/a.png', 'Go')`, [
      id,
    ]);
    if (rule) await database.sql(`INSERT INTO targeting_rule VALUES ($1, 'COUNTRY', 'INCLUDE', 'US')`, [id]);
  };

  it("gives a direct SQL edit the next version, naming what it touched", async () => {
    const before = await latest();
    await database.sql(
      `INSERT INTO campaign (id, name, image_url, cta) VALUES ('sqlcamp', 'SQL', 'https://x/a.png', 'Go')`,
    );
    expect(await latest()).toBe(before + 1);
    expect(await items(before + 1)).toEqual([{ kind: "CAMPAIGN_CREATED", campaign_id: "sqlcamp", category_id: null }]);

    await database.sql(`INSERT INTO targeting_rule VALUES ('sqlcamp', 'COUNTRY', 'INCLUDE', 'US')`);
    expect(await latest()).toBe(before + 2);
    expect(await items(before + 2)).toEqual([{ kind: "CAMPAIGN_UPDATED", campaign_id: "sqlcamp", category_id: null }]);
  });

  it("records one version for a whole transaction, and none for a rolled-back one", async () => {
    await makeCampaign("txcamp");
    const before = await latest();
    await database.sql(`BEGIN;
      INSERT INTO category (id, name) VALUES ('txnews', 'News');
      INSERT INTO category_app VALUES ('txnews', 'nyt'), ('txnews', 'bbc');
      UPDATE campaign SET priority = 7 WHERE id = 'txcamp';
      COMMIT;`);
    expect(await latest()).toBe(before + 1);
    expect(await items(before + 1)).toEqual([
      { kind: "CATEGORY_UPSERTED", campaign_id: null, category_id: "txnews" },
      { kind: "CAMPAIGN_UPDATED", campaign_id: "txcamp", category_id: null },
    ]);
    await database.sql("BEGIN; UPDATE campaign SET priority = 8 WHERE id = 'txcamp'; ROLLBACK;");
    await database.sql("UPDATE campaign SET priority = 7 WHERE id = 'txcamp'"); // no actual change
    expect(await latest()).toBe(before + 1);
    const versions = await database.sql<{ version: number }>("SELECT version FROM change_log ORDER BY version");
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: before + 1 }, (_, i) => i + 1));
  });

  it("bumps the revision of a campaign changed in SQL and keeps ids immutable", async () => {
    await makeCampaign("revcamp");
    const [before] = await database.sql<{ revision: number }>("SELECT revision FROM campaign WHERE id = 'revcamp'");
    await database.sql("UPDATE campaign SET name = 'Renamed' WHERE id = 'revcamp'");
    const [after] = await database.sql<{ revision: number }>("SELECT revision FROM campaign WHERE id = 'revcamp'");
    expect(before?.revision).toBeTypeOf("number");
    expect(after?.revision).toBe((before?.revision ?? 0) + 1);
    await expect(database.sql("UPDATE campaign SET id = 'other' WHERE id = 'revcamp'")).rejects.toThrow(/immutable/);
  });

  it("logs deletions, including cascaded rules, as deletions", async () => {
    await makeCampaign("delcamp", true);
    await database.sql(`BEGIN;
      INSERT INTO category (id, name) VALUES ('delnews', 'News');
      INSERT INTO category_app VALUES ('delnews', 'nyt'), ('delnews', 'bbc');
      COMMIT;`);
    const before = await latest();
    await database.sql("DELETE FROM campaign WHERE id = 'delcamp'");
    await database.sql("DELETE FROM category WHERE id = 'delnews'");
    expect(await items(before + 1)).toEqual([{ kind: "CAMPAIGN_DELETED", campaign_id: "delcamp", category_id: null }]);
    expect(await items(before + 2)).toEqual([{ kind: "CATEGORY_DELETED", campaign_id: null, category_id: "delnews" }]);
  });
});

describe("offline migrations", () => {
  it("deploys every migration on a fresh database, then has nothing pending", async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      const applied = await deployMigrations(fresh.url);
      expect(applied.length).toBeGreaterThanOrEqual(2);
      expect(await deployMigrations(fresh.url)).toEqual([]);
      const rows = await fresh.sql(
        "SELECT migration_name, finished_at IS NOT NULL AS done FROM _prisma_migrations ORDER BY 1",
      );
      expect(rows.map((r) => r.migration_name)).toEqual(applied);
      expect(rows.every((r) => r.done)).toBe(true);
      const status = (await migrationStatus(fresh.url)) as { failedMigrationNames: string[]; history: unknown };
      expect(status.failedMigrationNames).toEqual([]);
      expect(status.history).toBeNull();
    } finally {
      await fresh.drop();
    }
  });
});
