// API key secrets: made here, shown once, stored only as their SHA-256. A secret is 32 random bytes, so
// a plain (fast) digest is enough: there is nothing to guess that a slow hash would protect.
import { createHash, randomBytes } from "node:crypto";

/** Every secret starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const SECRET_PREFIX = "bsk_";

export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** The SHA-256 of a presented token, as stored in api_key.secret_hash (hex). */
export function secretDigest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
