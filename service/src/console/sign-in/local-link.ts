import { createHash, randomBytes } from "node:crypto";
import type { Sql } from "../../db/client";
import { createConsoleSignInLink, ensurePlatformAdmin } from "../../db/platform-console";

/**
 * The local platform admin of a deployment without an issuer, and the one-time links that sign them in
 * (`npm start` prints one). Only the link's hash is stored; it works once and for LINK_MINUTES.
 */
export const LOCAL_ADMIN = { subject: "local-admin", email: "admin@localhost" } as const;
export const LINK_MINUTES = 15;

export async function createLocalSignInLink(sql: Sql, baseUrl: string): Promise<string> {
  await ensurePlatformAdmin(sql, LOCAL_ADMIN);
  const token = randomBytes(32).toString("base64url");
  await createConsoleSignInLink(sql, {
    tokenHash: createHash("sha256").update(token).digest(),
    ...LOCAL_ADMIN,
    ttlSeconds: LINK_MINUTES * 60,
  });
  return `${baseUrl}/console/auth/link?token=${token}`;
}
