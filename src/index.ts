// Boot: read the config (a bad value exits at once with one line), start the replica (or, with
// WORKERS>1, the cluster primary), print the start banner, and stop cleanly.
//
// Failure policy — one shutdown path with one deadline for signals and fatal errors, close-with-grace
// style (README "Failures"); the stop sequence and its deadline are src/runtime/stop.ts:
// - SIGTERM/SIGINT: drain, close, release, exit 0; a stop that hangs exits 1 at its deadline.
// - uncaughtException: something threw where no code expected it, possibly half-way through updating
//   shared state, so this process is no longer trusted: log it (fatal), stop the same graceful way
//   (in-flight requests still get their answers) and exit 1 for the supervisor to start a fresh one.
//   One during a stop already under way joins it (same deadline) and makes the exit code 1.
//   A request's own errors never get here: src/app.ts answers them with a 500 and goes on.
// - unhandledRejection: a promise nobody awaited failed. Its code ran up to the failure and left no
//   half-done synchronous update: log it (error) and keep serving — a forgotten `.catch` must not take
//   replicas down one after another.
// - Start-up that fails for good (the embedded database cannot be prepared): logged (fatal), then the
//   same stop, exit 1. Postgres unreachable at start is not that: the replica retries, /readyz says why.

import cluster from "node:cluster";
import { randomBytes } from "node:crypto";
import { printBanner } from "./banner.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { keepResponseShape } from "./runtime/response-shape.ts";
import { startReplica } from "./runtime/start.ts";
import { ShutdownTimeout } from "./runtime/stop.ts";
import { keepTickObjectShape } from "./runtime/tick-shape.ts";
import { applyV8Flags } from "./runtime/v8-flags.ts";

applyV8Flags();
keepTickObjectShape();
keepResponseShape();

const isWorker = !cluster.isPrimary;
let config: Config;
let generatedAdminToken: string | undefined;
try {
  config = loadConfig();
  if (!config.ADMIN_TOKEN && !isWorker) {
    // One token for this run, made here rather than in each worker, so every worker accepts it; the
    // workers inherit it through their environment. Shown once, in the start banner.
    generatedAdminToken = randomBytes(24).toString("base64url");
    process.env.ADMIN_TOKEN = generatedAdminToken;
    config = loadConfig();
  }
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`bullseye: ${error.message}\n`);
  process.exit(2);
}

const log = createLogger(config.LOG_LEVEL);

/** How the running process stops; unset while it is still starting (a fatal error then just exits). */
let stop: ((fields: Record<string, unknown>, exitCode: number) => void) | undefined;

process.on("uncaughtException", (error, origin) => {
  log.fatal({ err: error, origin }, "uncaught exception: stopping this process");
  if (stop) stop({ reason: origin }, 1);
  else process.exit(1);
});
process.on("unhandledRejection", (reason) => {
  log.error({ err: reason }, "unhandled promise rejection (this process keeps serving)");
});

const banner = {
  host: config.HOST,
  generatedAdminToken,
  database: config.DATABASE_URL ? databaseHost(config.DATABASE_URL) : `embedded (${config.EMBEDDED_DATA_DIR})`,
  redis: config.REDIS_URL ? databaseHost(config.REDIS_URL) : "in-process (one replica only)",
  workers: config.WORKERS,
};

if (config.WORKERS > 1 && !isWorker) {
  const { runPrimary } = await import("./cluster/primary.ts");
  const primary = await runPrimary(config, log).catch((error: unknown) => {
    log.fatal({ err: error }, "cannot start");
    process.exit(1);
  });
  stop = primary.stop;
  printBanner({ ...banner, port: config.PORT }, log);
} else {
  await runReplica();
}

async function runReplica(): Promise<void> {
  const restartedWorker = isWorker && process.env.BULLSEYE_WORKER_RESTART === "1";
  const replica = await startReplica(config, log, { listenOnceLoaded: restartedWorker }).catch((error: unknown) => {
    log.fatal({ err: error }, "cannot start");
    process.exit(1);
  });

  let exitCode: number | undefined;
  stop = (fields, code) => {
    const first = exitCode === undefined;
    exitCode = Math.max(exitCode ?? 0, code);
    if (!first) return;
    log.info(fields, "shutting down");
    replica.stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        if (error instanceof ShutdownTimeout) {
          log.error({ deadlineMs: error.deadlineMs }, "shutdown did not finish in time; exiting");
        } else log.error({ err: error }, "unclean shutdown");
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stop?.({ signal }, 0));
  replica.started.then(
    () => {
      if (!isWorker && exitCode === undefined) printBanner({ ...banner, port: replica.port }, log);
    },
    (error: unknown) => {
      log.fatal({ err: error }, "cannot start");
      stop?.({ reason: "start-up failed" }, 1);
    },
  );
}

/** host:port/path of a connection URL — never its credentials. */
function databaseHost(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
}
