// `npm run db:seed` loads the demo catalog; `npm run db:seed -- --campaigns 5000 --apps 100000 [--seed 42]`
// generates a large deterministic one. Either replaces nothing: run it on an empty database.
import { parseArgs } from "node:util";
import { createDb } from "../src/db/client.ts";
import { demoData } from "../src/seed/demo.ts";
import { generateSynthetic } from "../src/seed/synthetic.ts";
import { writeSeed } from "../src/seed/write.ts";

const { values } = parseArgs({
  options: { campaigns: { type: "string" }, apps: { type: "string" }, seed: { type: "string" } },
});
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set");
  process.exit(1);
}
const db = createDb(url);
try {
  const data = values.campaigns
    ? generateSynthetic({
        campaigns: Number(values.campaigns),
        apps: Number(values.apps ?? 100_000),
        seed: Number(values.seed ?? 42),
      })
    : demoData;
  const started = performance.now();
  await writeSeed(db, data);
  console.log(
    `Seeded ${data.campaigns.length} campaigns, ${data.categories.length} categories in ${Math.round(performance.now() - started)} ms`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
