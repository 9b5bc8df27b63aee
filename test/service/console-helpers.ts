import { createHash, randomBytes } from "node:crypto";
import type { Database } from "../../service/src/db/client";
import type { TenantRole } from "../../service/src/domain/identity";
import { raw } from "./helpers";

/**
 * Console sessions for tests of the console's pages (the sign-in flow itself is tested through the OpenID
 * provider of test/emulators/oidc.ts): a tenant_users row for the person and a live session row, exactly
 * what a sign-in leaves behind. The cookie and CSRF token are what a browser would hold.
 */

export interface ConsoleLogin {
  /** `sb_console=<token>`: the Cookie header of a signed-in browser on http. */
  cookie: string;
  /** The cookie's value (for a browser context's addCookies). */
  token: string;
  /** The session's CSRF token (header `x-csrf-token`, or form field `_csrf`). */
  csrf: string;
  sessionId: string;
  email: string;
  subject: string;
}

export interface ConsolePerson {
  role: TenantRole;
  /** The tenant of an agent or tenant admin; none for a platform admin. */
  tenantId?: string | undefined;
  email?: string | undefined;
  subject?: string | undefined;
  name?: string | undefined;
}

/** Adds the person to the users table (unless listed) and signs them in: a session as a sign-in makes. */
export async function consoleLogin(db: Database, person: ConsolePerson): Promise<ConsoleLogin> {
  const email = person.email ?? `${person.role}-${randomBytes(4).toString("hex")}@example.com`;
  const subject = person.subject ?? `sub-${email}`;
  const tenantId = person.role === "platform_admin" ? null : (person.tenantId ?? null);
  await raw(db)`
    insert into tenant_users (tenant_id, subject, email, role)
    values (${tenantId}, ${subject}, ${email}, ${person.role})
    on conflict do nothing`;
  const token = randomBytes(32).toString("base64url");
  const csrf = randomBytes(24).toString("base64url");
  const [row] = await raw(db)<{ id: string }[]>`
    insert into console_sessions (token_hash, csrf_token, issuer, subject, email, name, current_tenant_id, expires_at)
    values (${createHash("sha256").update(token).digest()}, ${csrf}, 'test', ${subject}, ${email},
      ${person.name ?? null}, ${tenantId}, now() + interval '1 hour')
    returning id`;
  return { cookie: `sb_console=${token}`, token, csrf, sessionId: row?.id ?? "", email, subject };
}

/** Request headers of a signed-in browser; with the CSRF token unless `csrf: false`. */
export function consoleHeaders(login: ConsoleLogin, opts: { csrf?: boolean } = {}): Record<string, string> {
  return { cookie: login.cookie, ...(opts.csrf === false ? {} : { "x-csrf-token": login.csrf }) };
}
