// pino, JSON lines on stdout. Secrets never reach a log line: the redact list covers the places they live.
import { pino } from "pino";

export function createLogger(level: string) {
  return pino({
    level,
    base: { service: "bullseye", pid: process.pid },
    redact: ["req.headers.authorization", "headers.authorization", "authorization", "token"],
  });
}

export type Logger = ReturnType<typeof createLogger>;
