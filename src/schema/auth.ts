// Bearer-token authentication for /graphql: who is asking. The env tokens (ADMIN_TOKEN, VIEWER_TOKEN)
// are the bootstrap keys `env-admin`/`env-viewer`, compared constant-time on SHA-256 digests (neither
// content nor length leaks through timing); named API keys are found in the replica's key cache by the
// digest of the presented token (src/keys/key-store.ts), never by a database query. Tokens come from the
// header (or graphql-ws connection_init), never the query string.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { Config } from "../config.ts";
import type { KeyStore } from "../keys/key-store.ts";
import { secretDigest } from "../keys/secrets.ts";
import type { Logger } from "../logger.ts";

export type Role = "admin" | "viewer";

/** Who a request acts as: the actor named in the audit trail. */
export interface Principal {
  readonly name: string;
  readonly role: Role;
  /** The API key's id; null for the env tokens. */
  readonly keyId: string | null;
  /** Aborted when the key is revoked: subscriptions opened with it end. */
  readonly revoked: AbortSignal;
}

export const ENV_ADMIN = "env-admin";
export const ENV_VIEWER = "env-viewer";

export interface TokenAuth {
  /** Who an `Authorization` header value belongs to, or null for none/unknown/revoked. */
  principalOf(authorization: string | null): Principal | null;
  /** The role of an `Authorization` header value, or null for none/unknown. */
  roleOf(authorization: string | null): Role | null;
}

export function createTokenAuth(config: Config, log: Logger, keys?: Pick<KeyStore, "find">): TokenAuth {
  let adminToken = config.ADMIN_TOKEN;
  if (!adminToken) {
    adminToken = randomBytes(24).toString("base64url");
    log.warn({ adminToken }, "ADMIN_TOKEN is not set: generated an admin token for this process (logged once)");
  }
  const never = new AbortController().signal;
  // Every open subscription of a principal listens on its signal (rule-change-stream.ts) until it ends.
  setMaxListeners(0, never);
  const envAdmin: Principal = { name: ENV_ADMIN, role: "admin", keyId: null, revoked: never };
  const envViewer: Principal = { name: ENV_VIEWER, role: "viewer", keyId: null, revoked: never };
  const admin = secretDigest(adminToken);
  const viewer = config.VIEWER_TOKEN ? secretDigest(config.VIEWER_TOKEN) : null;
  const principalOf = (authorization: string | null): Principal | null => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
    if (!match?.[1]) return null;
    const presented = secretDigest(match[1]);
    // Every check always runs: which token matched must not show in the timing either.
    const isAdmin = timingSafeEqual(presented, admin);
    const isViewer = viewer !== null && timingSafeEqual(presented, viewer);
    const key = keys?.find(presented) ?? null;
    if (isAdmin) return envAdmin;
    if (isViewer) return envViewer;
    return key && { name: key.name, role: key.role, keyId: key.id, revoked: key.revoked };
  };
  return {
    principalOf,
    roleOf: (authorization) => principalOf(authorization)?.role ?? null,
  };
}
