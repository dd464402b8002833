// Environment → one frozen, validated, typed config (docs/CONTRACT.md §1). Nothing else reads process.env.
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
  /** The traffic sample behind forecasts: 12 windows of this length (default 5 min: the last hour). */
  TRAFFIC_SAMPLE_WINDOW_MS: z.preprocess(
    blankAsUnset,
    z.coerce.number().int().min(100).max(86_400_000).default(300_000),
  ),
  /**
   * Byte budget (MiB) of the delivery answer cache: interned answers plus remembered devices. The
   * default is also delivery/snapshot.ts's DEFAULT_ANSWER_CACHE_BYTES (a test keeps them equal).
   */
  ANSWER_CACHE_MB: z.preprocess(blankAsUnset, z.coerce.number().min(0).max(16_384).default(40)),
  /**
   * GraphQL reads: a statement not answered in this time (a frozen or overloaded server) fails as
   * UNAVAILABLE; also the wait for a pool connection. Mutations wait for locks as long as they must but
   * answer UNAVAILABLE as soon as a probe bounded by this fails; index loads have no bound.
   */
  DATABASE_QUERY_TIMEOUT_MS: z.preprocess(blankAsUnset, z.coerce.number().int().min(100).max(600_000).default(1500)),
  /**
   * Write transactions one process runs at once (the others queue in memory); at most
   * DATABASE_POOL_SIZE − 1. Writers serialise on the change counter's row lock, so more only adds lock
   * waiters (each holding a connection, each waiting against the statement timeout).
   */
  WRITE_CONCURRENCY: z.preprocess(blankAsUnset, z.coerce.number().int().min(1).max(100).optional()),
  /** Mutations queued at most per process; beyond, UNAVAILABLE with extensions.retryAfterMs. */
  WRITE_QUEUE_MAX: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(100_000).default(1000)),
  /** How long a queued mutation waits for its turn before UNAVAILABLE. */
  WRITE_QUEUE_TIMEOUT_MS: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(600_000).default(10_000)),
  /** Open ruleChanges subscriptions per replica (SSE and WebSocket together). */
  SUBSCRIPTIONS_MAX: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(1_000_000).default(10_000)),
  /** Open ruleChanges subscriptions per token on one replica. */
  SUBSCRIPTIONS_PER_TOKEN_MAX: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(1_000_000).default(5_000)),
  /** A WebSocket that sends no valid connection_init within this time is closed (4408). */
  WS_INIT_TIMEOUT_MS: z.preprocess(blankAsUnset, z.coerce.number().int().min(100).max(60_000).default(3_000)),
  /** Origins (scheme://host[:port]) allowed to call /graphql from a browser; unset: none. */
  CORS_ORIGINS: z.preprocess(
    blankAsUnset,
    z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const origins = (raw ?? "")
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean);
        for (const origin of origins) {
          let valid = false;
          try {
            const url = new URL(origin);
            valid = (url.protocol === "http:" || url.protocol === "https:") && url.origin === origin.replace(/\/$/, "");
          } catch {}
          if (!valid) {
            ctx.addIssue({
              code: "custom",
              message: `${JSON.stringify(origin)} is not an origin like https://admin.example.com`,
            });
            return z.NEVER;
          }
        }
        return origins.map((o) => o.replace(/\/$/, ""));
      }),
  ),
  /** Days of campaign/category history kept; older revisions are pruned in the background. */
  HISTORY_DAYS: z.preprocess(blankAsUnset, z.coerce.number().int().min(1).max(36_500).default(90)),
  /** Log every SQL statement at debug level (query counts in tests, diagnosing N+1). */
  LOG_SQL: z.preprocess(blankAsUnset, bool.default(false)),
});

export type Config = Readonly<Omit<z.infer<typeof envSchema>, "WRITE_CONCURRENCY"> & { WRITE_CONCURRENCY: number }>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid ${String(issue?.path[0])}: ${issue?.message}`);
  }
  const data = parsed.data;
  // Below the pool, so reads (and the commit hook's own reads) always find a connection.
  const writeConcurrency = Math.max(1, Math.min(data.WRITE_CONCURRENCY ?? 2, data.DATABASE_POOL_SIZE - 1));
  return Object.freeze({ ...data, WRITE_CONCURRENCY: writeConcurrency });
}

/** A URL without user name or password, for logs and /readyz. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return "(unparsable URL)";
  }
}
