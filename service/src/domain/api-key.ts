import { createHash, randomBytes } from "node:crypto";

/** A tenant API key: `sbk_` and 32 random bytes (base64url). Only its SHA-256 is ever stored. */
export const API_KEY_PREFIX = "sbk_";

export function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  // Enough to tell keys apart in a list (4 random characters), far too little to use.
  return { key, prefix: key.slice(0, 8), hash: hashApiKey(key) };
}

/** The stored form: a key with 256 random bits needs no slow hash (nothing to guess), only a one-way one. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export const isApiKey = (token: string) => token.startsWith(API_KEY_PREFIX);
