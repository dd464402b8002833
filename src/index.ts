// Boot: read the config (a bad value exits at once with one line), start the replica, stop on signals.
import cluster from "node:cluster";
import { runPrimary } from "./cluster/primary.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startReplica } from "./runtime.ts";

/** After draining and the in-flight timeout, how long closing pools and connections may take. */
const SHUTDOWN_GRACE_MS = 5_000;

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`bullseye: ${error.message}\n`);
  process.exit(2);
}

const log = createLogger(config.LOG_LEVEL);
if (config.WORKERS > 1 && cluster.isPrimary) {
  await runPrimary(config, log).catch((error: unknown) => {
    log.fatal({ err: error }, "cannot start");
    process.exit(1);
  });
} else {
  await runReplica();
}

async function runReplica(): Promise<void> {
  const replica = await startReplica(config, log).catch((error: unknown) => {
    log.fatal({ err: error }, "cannot start");
    process.exit(1);
  });

  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "shutting down");
      // A dependency that hangs (a query never answered) must not keep the process alive forever.
      const deadlineMs = config.SHUTDOWN_DRAIN_MS + config.SHUTDOWN_TIMEOUT_MS + SHUTDOWN_GRACE_MS;
      setTimeout(() => {
        log.error({ deadlineMs }, "shutdown did not finish in time; exiting");
        process.exit(1);
      }, deadlineMs).unref();
      replica.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "unclean shutdown");
          process.exit(1);
        },
      );
    });
  }
}
