// CLI for src/db/migrate.ts: `tsx scripts/migrate.ts deploy | create <name> | status` against DATABASE_URL.
import { createMigration, deployMigrations, migrationStatus } from "../src/db/migrate.ts";

const [command, name = "migration"] = process.argv.slice(2);
const url = process.env.DATABASE_URL;
try {
  if (!url) throw new Error("DATABASE_URL is not set");
  if (command === "deploy") {
    const applied = await deployMigrations(url, {
      onStep: ({ name, step, of, ms }) =>
        console.log(ms === undefined ? `Applying ${name} (${step}/${of})…` : `  done in ${ms} ms`),
    });
    console.log(applied.length ? `Applied: ${applied.join(", ")}` : "No pending migrations.");
  } else if (command === "create") {
    const dir = await createMigration(url, name);
    console.log(dir ? `Created ${dir}` : "No schema changes.");
  } else if (command === "status") {
    console.log(JSON.stringify(await migrationStatus(url), null, 2));
  } else {
    throw new Error("usage: migrate.ts deploy | create <name> | status");
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  process.exit(); // the WASM engine leaves a 10 s advisory-lock timer pending
}
