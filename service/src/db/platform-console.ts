import type { TenantMembership } from "../domain/identity";
import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/**
 * The console's sessions and the people behind them (migration 00017). Platform scope: a session is a
 * person's, and a person may belong to several tenants. Tokens are looked up by their SHA-256 only.
 */

export interface ConsoleSessionRow {
  id: string;
  csrfToken: string;
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
  currentTenantId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export type Membership = TenantMembership;

export interface NewConsoleSession {
  tokenHash: Buffer;
  csrfToken: string;
  issuer: string;
  subject: string;
  email?: string | undefined;
  name?: string | undefined;
  idToken?: string | undefined;
  currentTenantId?: string | undefined;
  maxAgeSeconds: number;
}

export function createConsoleSession(sql: Sql, s: NewConsoleSession): Promise<ConsoleSessionRow> {
  return asPlatform(async () => {
    const [row] = await sql<ConsoleSessionRow[]>`
      insert into console_sessions
        (token_hash, csrf_token, issuer, subject, email, name, id_token, current_tenant_id, expires_at)
      values (${s.tokenHash}, ${s.csrfToken}, ${s.issuer}, ${s.subject}, ${s.email ?? null}, ${s.name ?? null},
        ${s.idToken ?? null}, ${s.currentTenantId ?? null}, now() + ${`${s.maxAgeSeconds} seconds`}::interval)
      returning id, csrf_token, issuer, subject, email, name, current_tenant_id, created_at, expires_at`;
    if (!row) throw new Error("console session insert returned no row");
    return row;
  });
}

/**
 * The live session of a cookie's token, touched (idle expiry moves) in the same statement; undefined when
 * unknown, revoked, past its absolute end, or idle longer than `idleSeconds`.
 */
export function touchConsoleSession(
  sql: Sql,
  tokenHash: Buffer,
  idleSeconds: number,
): Promise<ConsoleSessionRow | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<ConsoleSessionRow[]>`
      update console_sessions set last_seen_at = now()
      where token_hash = ${tokenHash} and revoked_at is null and expires_at > now()
        and last_seen_at > now() - ${`${idleSeconds} seconds`}::interval
      returning id, csrf_token, issuer, subject, email, name, current_tenant_id, created_at, expires_at`;
    return row;
  });
}

/** Ends a session (sign-out); returns its id_token for the issuer's logout, if it kept one. */
export function revokeConsoleSession(sql: Sql, id: string): Promise<{ idToken: string | null } | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<{ idToken: string | null }[]>`
      update console_sessions set revoked_at = now() where id = ${id} and revoked_at is null
      returning id_token`;
    return row;
  });
}

/** The tenant switch: which tenant the session is looking at (the caller checked the person may). */
export function setConsoleTenant(sql: Sql, id: string, tenantId: string): Promise<void> {
  return asPlatform(async () => {
    await sql`update console_sessions set current_tenant_id = ${tenantId} where id = ${id}`;
  });
}

/**
 * Every tenant_users row of a person: by the issuer's subject, or by their e-mail address when the issuer
 * verified it (an admin adds people by address before they ever signed in). Suspended tenants are left out.
 */
export function membershipsOf(
  sql: Sql,
  person: { subject: string; email?: string | null | undefined },
): Promise<Membership[]> {
  const email = person.email?.toLowerCase() ?? null;
  return asPlatform(
    () => sql<Membership[]>`
      select u.tenant_id, t.name as tenant_name, u.subject, u.role
      from tenant_users u left join tenants t on t.id = u.tenant_id
      where (u.subject = ${person.subject} or (${email}::text is not null and lower(u.email) = ${email}))
        and (u.tenant_id is null or t.status = 'active')
      order by u.tenant_id nulls first, t.name`,
  );
}

/** An OpenID Connect authorization in flight, keyed by the hash of its browser-binding cookie. */
export interface ConsoleAuthorization {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string | null;
}

export function saveConsoleAuthorization(
  sql: Sql,
  browserHash: Buffer,
  a: ConsoleAuthorization & { ttlSeconds: number },
): Promise<void> {
  return asPlatform(async () => {
    // Old rows go on the way: abandoned sign-ins would otherwise pile up (nothing else sweeps them).
    await sql`delete from console_authorizations where expires_at < now()`;
    await sql`
      insert into console_authorizations (browser_hash, state, nonce, code_verifier, return_to, expires_at)
      values (${browserHash}, ${a.state}, ${a.nonce}, ${a.codeVerifier}, ${a.returnTo},
        now() + ${`${a.ttlSeconds} seconds`}::interval)
      on conflict (browser_hash) do update set state = excluded.state, nonce = excluded.nonce,
        code_verifier = excluded.code_verifier, return_to = excluded.return_to, expires_at = excluded.expires_at`;
  });
}

/** Takes the browser's authorization (single use: deleted in the same statement); undefined if none or expired. */
export function takeConsoleAuthorization(
  sql: Sql,
  browserHash: Buffer,
): Promise<ConsoleAuthorization | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<(ConsoleAuthorization & { live: boolean })[]>`
      delete from console_authorizations where browser_hash = ${browserHash}
      returning state, nonce, code_verifier, return_to, expires_at > now() as live`;
    if (!row?.live) return undefined;
    const { live: _, ...authorization } = row;
    return authorization;
  });
}

/** A one-time sign-in link's hash for a person (the local platform admin); valid `ttlSeconds`. */
export function createConsoleSignInLink(
  sql: Sql,
  link: { tokenHash: Buffer; subject: string; email: string; ttlSeconds: number },
): Promise<void> {
  return asPlatform(async () => {
    await sql`
      insert into console_sign_in_links (token_hash, subject, email, expires_at)
      values (${link.tokenHash}, ${link.subject}, ${link.email}, now() + ${`${link.ttlSeconds} seconds`}::interval)`;
  });
}

/** Uses a link: the first caller of a live one gets its person, everyone after (or too late) nothing. */
export function useConsoleSignInLink(
  sql: Sql,
  tokenHash: Buffer,
): Promise<{ subject: string; email: string | null } | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<{ subject: string; email: string | null }[]>`
      update console_sign_in_links set used_at = now()
      where token_hash = ${tokenHash} and used_at is null and expires_at > now()
      returning subject, email`;
    return row;
  });
}

/** The local platform admin of a deployment without an issuer (no-op when listed already). */
export function ensurePlatformAdmin(sql: Sql, person: { subject: string; email: string }): Promise<void> {
  return asPlatform(async () => {
    await sql`
      insert into tenant_users (tenant_id, subject, email, role)
      values (null, ${person.subject}, ${person.email}, 'platform_admin')
      on conflict do nothing`;
  });
}
