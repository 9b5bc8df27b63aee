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
