// Bearer-token authentication for /graphql. Tokens come from config only (never the query string);
// comparison is constant-time on sha256 digests, so neither content nor length leaks through timing.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { Role } from "./context.ts";

const digest = (token: string) => createHash("sha256").update(token, "utf8").digest();

export interface TokenAuth {
  /** The role of an `Authorization` header value, or null for none/unknown. */
  roleOf(authorization: string | null): Role | null;
}

export function createTokenAuth(config: Config, log: Logger): TokenAuth {
  let adminToken = config.ADMIN_TOKEN;
  if (!adminToken) {
    adminToken = randomBytes(24).toString("base64url");
    log.warn({ adminToken }, "ADMIN_TOKEN is not set: generated an admin token for this process (logged once)");
  }
  const admin = digest(adminToken);
  const viewer = config.VIEWER_TOKEN ? digest(config.VIEWER_TOKEN) : null;
  return {
    roleOf(authorization) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
      if (!match?.[1]) return null;
      const presented = digest(match[1]);
      // Both comparisons always run: which token matched must not show in the timing either.
      const isAdmin = timingSafeEqual(presented, admin);
      const isViewer = viewer !== null && timingSafeEqual(presented, viewer);
      return isAdmin ? "admin" : isViewer ? "viewer" : null;
    },
  };
}
