// A fresh, migrated Postgres database per test file on the shared server (dropped afterwards). Under
// vitest it is a copy of a template the global setup migrated once per run (tests/global-setup.ts):
// migrating every file's database cost ~0.15 s of CPU each. Elsewhere (benches) it is migrated itself.
import pg from "pg";
import { deployMigrations } from "../../src/db/migrate.ts";

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
/** Set by the global setup: a migrated database no one connects to, copied by createTestDatabase. */
export const TEMPLATE_ENV = "BULLSEYE_TEST_TEMPLATE_DB";

export interface TestDatabase {
  url: string;
  name: string;
  /** Runs SQL as a plain client (like a DBA editing the database directly). */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const uniqueName = (kind: string) =>
  `bullseye_${kind}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

async function asAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const dropDatabase = (name: string) =>
  asAdmin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));

async function createDatabase(client: pg.Client, name: string, template?: string): Promise<void> {
  await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
}

/**
 * The global setup's template: an empty database, migrated by `migrate` (the global setup runs the
 * compiled migrate job on it), returned with the function that drops it.
 */
export async function createTemplateDatabase(
  migrate: (url: string) => void,
): Promise<{ name: string; drop(): Promise<void> }> {
  const name = uniqueName("template");
  await asAdmin((client) => createDatabase(client, name));
  const drop = () => dropDatabase(name);
  try {
    migrate(databaseUrl(name));
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, drop };
}

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = uniqueName("test");
  const template = options.migrate !== false ? process.env[TEMPLATE_ENV] : undefined;
  await asAdmin((client) => createDatabase(client, name, template));
  const url = databaseUrl(name);
  if (options.migrate !== false && !template) await deployMigrations(url);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // An idle client whose backend goes away (the DROP … WITH (FORCE) below can reach a client that
  // pool.end() is still closing) is no test's failure; a query's own error still fails its test.
  pool.on("error", () => undefined);
  return {
    url,
    name,
    async sql<T extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      return (await pool.query<T>(text, values)).rows;
    },
    async drop() {
      await pool.end();
      await dropDatabase(name);
    },
  };
}
