// Environment → one frozen, validated, typed config (CONTRACT §1). Nothing else reads process.env.
import os from "node:os";
import { z } from "zod";

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(" or ")} URL`,
  );

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const blankAsUnset = (v: unknown) => (v === "" ? undefined : v);

const envSchema = z.object({
  PORT: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(65535).default(9090)),
  HOST: z.preprocess(blankAsUnset, z.string().min(1).default("0.0.0.0")),
  DATABASE_URL: z.preprocess(blankAsUnset, url(["postgres:", "postgresql:"]).optional()),
  /** Connections per process to DATABASE_URL (Prisma's pg pool). */
  DATABASE_POOL_SIZE: z.preprocess(blankAsUnset, z.coerce.number().int().min(1).max(100).default(10)),
  DATABASE_REPLICA_URL: z.preprocess(blankAsUnset, url(["postgres:", "postgresql:"]).optional()),
  REDIS_URL: z.preprocess(blankAsUnset, url(["redis:", "rediss:"]).optional()),
  REDIS_CLUSTER: z.preprocess(blankAsUnset, bool.default(false)),
  /** Prefix of every Redis channel and key, so several deployments (or test runs) can share a Redis. */
  REDIS_PREFIX: z.preprocess(blankAsUnset, z.string().max(100).default("bullseye:")),
  ADMIN_TOKEN: z.preprocess(blankAsUnset, z.string().min(16, "must be at least 16 characters").optional()),
  VIEWER_TOKEN: z.preprocess(blankAsUnset, z.string().min(16, "must be at least 16 characters").optional()),
  REPLICA_ID: z.preprocess(blankAsUnset, z.string().min(1).max(200).default(`${os.hostname()}:${process.pid}`)),
  PROPAGATION_TIMEOUT_MS: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(60_000).default(1000)),
  LOG_LEVEL: z.preprocess(
    blankAsUnset,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
  NODE_ENV: z.preprocess(blankAsUnset, z.string().default("production")),
  EMBEDDED_DATA_DIR: z.preprocess(blankAsUnset, z.string().default(".data/pglite")),
  /** On SIGTERM: keep serving (with Connection: close, /readyz 503) this long before closing the port. */
  SHUTDOWN_DRAIN_MS: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(60_000).default(1000)),
  /** Then wait at most this long for in-flight requests before cutting connections. */
  SHUTDOWN_TIMEOUT_MS: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(120_000).default(10_000)),
  /** Worker processes sharing the port (node:cluster): a number, or "auto" for one per core. */
  WORKERS: z.preprocess(
    (v) => (v === "auto" ? os.availableParallelism() : blankAsUnset(v)),
    z.coerce.number().int().min(1).max(64).default(1),
  ),
  INDEX_POLL_MS: z.preprocess(blankAsUnset, z.coerce.number().int().min(50).max(60_000).default(1000)),
  /** Byte budget (MiB) of the delivery answer cache: interned answers plus remembered devices. */
  ANSWER_CACHE_MB: z.preprocess(blankAsUnset, z.coerce.number().min(0).max(16_384).default(32)),
  /** Log every SQL statement at debug level (query counts in tests, diagnosing N+1). */
  LOG_SQL: z.preprocess(blankAsUnset, bool.default(false)),
});

export type Config = Readonly<z.infer<typeof envSchema>>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid ${String(issue?.path[0])}: ${issue?.message}`);
  }
  return Object.freeze(parsed.data);
}
