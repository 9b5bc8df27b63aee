import { timingSafeEqual } from "node:crypto";

/** The token of an `Authorization: Bearer <token>` header, or undefined for anything else. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
}

/**
 * Whether a presented secret (an API key, a shared token, a signature) equals the expected one, in time
 * that does not depend on where they differ. Only the length may leak, as `timingSafeEqual` requires equal
 * lengths.
 */
export function sameSecret(given: Uint8Array | string, expected: Uint8Array | string): boolean {
  const a = typeof given === "string" ? Buffer.from(given) : given;
  const b = typeof expected === "string" ? Buffer.from(expected) : expected;
  return a.length === b.length && timingSafeEqual(a, b);
}
