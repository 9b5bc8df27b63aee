import { createHash, randomBytes } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Sql } from "../db/client";
import {
  createConsoleSession,
  type Membership,
  membershipsOf,
  revokeConsoleSession,
  touchConsoleSession,
} from "../db/platform-console";
import { DEFAULT_TENANT_ID } from "../db/tenant-scope";
import type { AdminPrincipal, ConsoleViewer } from "../domain/identity";
import type { AppEnv } from "../http/app-env";
import { sameSecret } from "../http/credentials";
import { AppError } from "../http/errors";

/**
 * Console sessions (docs/console.md, "Sign-in"): a random token in an HttpOnly, SameSite=Lax cookie (Secure
 * and `__Host-` prefixed over https), its hash in a server-side row with idle and absolute expiry, and a
 * synchronizer CSRF token every state-changing request echoes. Roles are read afresh from the users table
 * on every request, so removing a person or changing their role takes effect at once.
 */

export interface ConsoleSessionOptions {
  sql: Sql;
  /** A session unused this long ends. @default 3600 (one hour) */
  idleSeconds?: number;
  /** A session ends this long after sign-in, used or not. @default 43200 (twelve hours) */
  maxAgeSeconds?: number;
  /** The service's public URL: https there means Secure cookies even behind a proxy that speaks http. */
  publicUrl?: string | undefined;
}

/** A person the issuer (or the local sign-in link) vouched for. */
export interface SignedInPerson {
  issuer: string;
  subject: string;
  email?: string | undefined;
  name?: string | undefined;
  idToken?: string | undefined;
}

/** The field of a form, or the header of a script's request, that carries the CSRF token. */
export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const hashToken = (token: string) => createHash("sha256").update(token).digest();

export type { ConsoleViewer };
export type ConsoleSessions = ReturnType<typeof consoleSessions>;

export function consoleSessions(opts: ConsoleSessionOptions) {
  const idleSeconds = opts.idleSeconds ?? 3600;
  const maxAgeSeconds = opts.maxAgeSeconds ?? 12 * 3600;
  const alwaysHttps = opts.publicUrl?.startsWith("https:") ?? false;
  const secure = (c: Context) => alwaysHttps || c.req.url.startsWith("https:") || forwardedHttps(c);
  const cookieName = (c: Context) => (secure(c) ? "__Host-sb_console" : "sb_console");

  return {
    /** Starts a session for a person who has at least one role here; undefined (no session) otherwise. */
    async start(c: Context<AppEnv>, person: SignedInPerson): Promise<ConsoleViewer | undefined> {
      const memberships = await membershipsOf(opts.sql, person);
      if (memberships.length === 0) return undefined;
      const token = randomBytes(32).toString("base64url");
      const row = await createConsoleSession(opts.sql, {
        ...person,
        tokenHash: hashToken(token),
        csrfToken: randomBytes(24).toString("base64url"),
        // A platform admin starts on the deployment's own tenant (the one `npm start` answers for).
        currentTenantId: memberships.find((m) => m.tenantId)?.tenantId ?? DEFAULT_TENANT_ID,
        maxAgeSeconds,
      });
      setCookie(c, cookieName(c), token, {
        httpOnly: true,
        secure: secure(c),
        sameSite: "Lax",
        path: "/",
        maxAge: maxAgeSeconds,
      });
      return viewerOf(row, memberships);
    },

    /** The signed-in person of this request, if its cookie names a live session of someone still listed. */
    async viewer(c: Context<AppEnv>): Promise<ConsoleViewer | undefined> {
      const token = getCookie(c, cookieName(c));
      if (!token) return undefined;
      const row = await touchConsoleSession(opts.sql, hashToken(token), idleSeconds);
      if (!row) return undefined;
      const memberships = await membershipsOf(opts.sql, row);
      return memberships.length > 0 ? viewerOf(row, memberships) : undefined;
    },

    /** Signs out: the row is revoked (the cookie alone is worth nothing after this) and the cookie cleared. */
    async end(c: Context<AppEnv>, viewer: ConsoleViewer): Promise<{ idToken: string | null } | undefined> {
      deleteCookie(c, cookieName(c), { path: "/", secure: secure(c) });
      return revokeConsoleSession(opts.sql, viewer.sessionId);
    },
  };
}

function viewerOf(
  row: Awaited<ReturnType<typeof createConsoleSession>>,
  memberships: Membership[],
): ConsoleViewer {
  return {
    sessionId: row.id,
    csrfToken: row.csrfToken,
    issuer: row.issuer,
    subject: row.subject,
    email: row.email,
    name: row.name,
    platformAdmin: memberships.some((m) => m.role === "platform_admin"),
    memberships,
    currentTenantId: row.currentTenantId,
  };
}

function forwardedHttps(c: Context): boolean {
  return c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

/**
 * The admin principal of a console viewer acting on `tenantId` (or their current tenant): the same shape
 * the admin API's authorization (routes/admin/access.ts) checks for every other caller. The actor the audit
 * log names is the person's e-mail address, or their subject.
 */
export function principalOf(viewer: ConsoleViewer, tenantId?: string | null): AdminPrincipal {
  const actor = viewer.email ?? viewer.subject;
  if (viewer.platformAdmin) return { actor, role: "platform_admin", subject: viewer.subject };
  const wanted = tenantId ?? viewer.currentTenantId;
  const membership =
    viewer.memberships.find((m) => m.tenantId === wanted) ??
    viewer.memberships.find((m) => m.tenantId === viewer.currentTenantId) ??
    viewer.memberships[0];
  if (!membership?.tenantId) return { actor, subject: viewer.subject };
  return { actor, subject: membership.subject, role: membership.role, tenantId: membership.tenantId };
}

/**
 * A state-changing request of a signed-in browser must echo the session's CSRF token (the `x-csrf-token`
 * header of the console's script, or the `_csrf` field of a plain form): 403 otherwise. Reads are free.
 */
export async function requireCsrf(c: Context<AppEnv>, viewer: ConsoleViewer): Promise<void> {
  if (SAFE_METHODS.has(c.req.method)) return;
  const presented = c.req.header(CSRF_HEADER) ?? (await formField(c, CSRF_FIELD));
  if (!presented || !sameSecret(presented, viewer.csrfToken)) {
    throw new AppError(
      403,
      "csrf_failed",
      "this form is out of date or did not come from the console; reload the page",
    );
  }
}

async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  const form = await c.req.parseBody();
  const value = form[name];
  return typeof value === "string" ? value : undefined;
}

/** The tenant id of an admin API path (`/api/v1/admin/tenants/<id>/…`), if it names one. */
export function tenantOfAdminPath(path: string): string | undefined {
  return /^\/api\/v1\/admin\/tenants\/([^/]+)/.exec(path)?.[1];
}
