// `npm run bench:startup`: a replica's start-up build of a large catalog (default 50,000 campaigns,
// 1,000,000 apps in 20 categories, seeded with set-based SQL) while /healthz is probed every 2 ms: the
// build runs in slices, so the probe's max stays small; prints time to ready, the longest event-loop
// block while the index was loading (the metric's maximum since the phase began) and RSS.
import { parseArgs } from "node:util";
import pg from "pg";
import { createTestDatabase } from "../tests/helpers/database.ts";
import { fmt, percentile, spawnServer } from "./lib/processes.ts";
import { fmtStall, longestStall, rssMb, type Stall } from "./lib/replicas.ts";

const { values: args } = parseArgs({
  options: {
    campaigns: { type: "string", default: "50000" },
    apps: { type: "string", default: "1000000" },
    categories: { type: "string", default: "20" },
  },
});
const CAMPAIGNS = Number(args.campaigns);
const APPS = Number(args.apps);
const CATEGORIES = Number(args.categories);

const database = await createTestDatabase();
const sql = new pg.Client({ connectionString: database.url });
await sql.connect();
try {
  const seeded = performance.now();
  // One transaction: one change-log version. Apps "com.big.app<i>", each in one or two categories;
  // campaigns target a few apps, a category or a few countries (like src/seed/synthetic.ts).
  await sql.query("BEGIN");
  await sql.query(
    `INSERT INTO category (id, name) SELECT 'cat' || i, 'Category ' || i FROM generate_series(0, $1 - 1) i`,
    [CATEGORIES],
  );
  await sql.query(
    `INSERT INTO category_app (category_id, app)
     SELECT DISTINCT 'cat' || ((i * 7 + k * 13) % $2), 'com.big.app' || i
     FROM generate_series(0, $1 - 1) i, generate_series(0, CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END) k`,
    [APPS, CATEGORIES],
  );
  await sql.query(
    `INSERT INTO campaign (id, name, image_url, cta, priority)
     SELECT 'big-' || i, 'Campaign ' || i, 'https://cdn.bullseye.example/big/' || i || '.png', 'Install', i % 1001
     FROM generate_series(0, $1 - 1) i`,
    [CAMPAIGNS],
  );
  await sql.query(
    `INSERT INTO targeting_rule (campaign_id, dimension, mode, value)
     SELECT DISTINCT 'big-' || i, 'APP'::"Dimension", 'INCLUDE'::"RuleMode", 'com.big.app' || ((i * 7919 + k * 104729) % $2)
     FROM generate_series(0, $1 - 1) i, generate_series(1, 1 + i % 10) k WHERE i % 10 < 6`,
    [CAMPAIGNS, APPS],
  );
  await sql.query(
    `INSERT INTO targeting_rule (campaign_id, dimension, mode, value)
     SELECT 'big-' || i, 'CATEGORY'::"Dimension", 'INCLUDE'::"RuleMode", 'cat' || (i % $2)
     FROM generate_series(0, $1 - 1) i WHERE i % 10 >= 6`,
    [CAMPAIGNS, CATEGORIES],
  );
  await sql.query(
    `INSERT INTO targeting_rule (campaign_id, dimension, mode, value)
     SELECT DISTINCT 'big-' || i, 'COUNTRY'::"Dimension", 'INCLUDE'::"RuleMode", (ARRAY['US','DE','FR','GB','BR','IN','JP','CA'])[1 + (i * k) % 8]
     FROM generate_series(0, $1 - 1) i, generate_series(1, 3) k WHERE i % 4 <> 0`,
    [CAMPAIGNS],
  );
  await sql.query("COMMIT");
  const { rows } = await sql.query<{ rules: number; apps: number }>(
    `SELECT (SELECT count(*)::int FROM targeting_rule) AS rules, (SELECT count(*)::int FROM category_app) AS apps`,
  );
  console.log(
    `catalog: ${fmt(CAMPAIGNS)} campaigns (${fmt(rows[0]?.rules ?? 0)} rules), ${fmt(rows[0]?.apps ?? 0)} app memberships in ${CATEGORIES} categories; seeded in ${fmt(performance.now() - seeded)} ms`,
  );

  const started = performance.now();
  const replica = await spawnServer("src/index.ts", { DATABASE_URL: database.url });
  const listening = performance.now() - started;
  const health: number[] = [];
  let failures = 0;
  let loadingSeen = false;
  for (;;) {
    const t = performance.now();
    const ok = await fetch(`${replica.url}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    health.push(performance.now() - t);
    if (!ok) failures++;
    const readyz = await fetch(`${replica.url}/readyz`);
    if (readyz.status === 200) break;
    const { reason } = (await readyz.json()) as { reason?: string };
    if (!loadingSeen && reason?.startsWith("loading the index")) {
      loadingSeen = true;
      await longestStall(replica.url); // resets the maxima: what follows is the build's
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const ready = performance.now() - started;
  const building: Stall | undefined = loadingSeen ? await longestStall(replica.url) : undefined;
  await new Promise((r) => setTimeout(r, 3_000));
  console.log(
    `replica: listening after ${fmt(listening)} ms, ready after ${fmt(ready)} ms; ` +
      `/healthz during the build p50 ${fmt(percentile(health, 50), 1)} / p99 ${fmt(percentile(health, 99), 1)} / max ${fmt(Math.max(...health), 1)} ms ` +
      `(${health.length} probes, ${failures} failed); longest block while the index loaded ${building ? fmtStall(building) : "not seen (it loaded between two probes)"} (target <= 20); ` +
      `RSS 3 s after ready ${fmt(rssMb(replica))} MB`,
  );
  await replica.stop();
} finally {
  await sql.end();
  await database.drop();
}
