// A private Postgres primary and a streaming read replica (initdb + pg_basebackup -R) on spare ports,
// in a temporary folder, run as the `postgres` user. For topology and replica-lag tests only.
import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./redis.ts";

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresPair {
  primaryUrl(database: string): string;
  standbyUrl(database: string): string;
  standbyPort: number;
  stop(): Promise<void>;
}

async function asPostgres(command: string, args: string[]) {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot
    ? ["runuser", ["-u", "postgres", "--", path.join(BIN, command), ...args]]
    : [path.join(BIN, command), args];
  return run(file, argv, { timeout: 60_000 });
}

export async function startPrimaryWithStandby(): Promise<PostgresPair> {
  const dir = await mkdtemp(path.join(tmpdir(), "bullseye-pg-"));
  await chmod(dir, 0o700);
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const primary = path.join(dir, "primary");
  const standby = path.join(dir, "standby");
  const options = (port: number) => `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const started: string[] = [];
  const stop = async () => {
    for (const data of started.reverse())
      await asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await asPostgres("initdb", ["-D", primary, "-A", "trust", "-U", "postgres", "--no-sync"]);
    await asPostgres("pg_ctl", [
      "-D",
      primary,
      "-o",
      options(primaryPort),
      "-l",
      path.join(dir, "primary.log"),
      "-w",
      "start",
    ]);
    started.push(primary);
    await asPostgres("pg_basebackup", [
      "-h",
      "127.0.0.1",
      "-p",
      String(primaryPort),
      "-U",
      "postgres",
      "-D",
      standby,
      "-R",
      "-X",
      "stream",
    ]);
    await asPostgres("pg_ctl", [
      "-D",
      standby,
      "-o",
      options(standbyPort),
      "-l",
      path.join(dir, "standby.log"),
      "-w",
      "start",
    ]);
    started.push(standby);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = (port: number, database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  return {
    primaryUrl: (database) => url(primaryPort, database),
    standbyUrl: (database) => url(standbyPort, database),
    standbyPort,
    stop,
  };
}

export async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}
