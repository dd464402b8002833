// The Prisma client on @prisma/adapter-pg. One per process; handed to the modules that need it.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";

export type Db = PrismaClient;

export interface DbOptions {
  max?: number;
  /** Called with every SQL statement Prisma sends (enables Prisma's query events). */
  onQuery?: (sql: string, durationMs: number) => void;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
  });
  const { onQuery } = options;
  if (!onQuery) return new PrismaClient({ adapter });
  const db = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  db.$on("query", (event) => onQuery(event.query, event.duration));
  return db;
}
