import type { Sql } from "./client";

/**
 * Google OAuth requests in flight (migration 00016), written in the tenant's scope when an admin starts
 * connecting a mailbox. Only the `state`'s hash is kept; the callback takes the row by that hash
 * (db/platform-email.ts `takeOAuthRequest`, single use), which names the tenant and the PKCE verifier.
 */
export async function createOAuthRequest(
  sql: Sql,
  r: { stateHash: string; codeVerifier: string; requestedBy: string; ttlSeconds: number },
): Promise<void> {
  await sql`
    insert into email_oauth_requests (state_hash, code_verifier, requested_by, expires_at)
    values (${r.stateHash}, ${r.codeVerifier}, ${r.requestedBy},
      now() + ${`${r.ttlSeconds} seconds`}::interval)`;
}
