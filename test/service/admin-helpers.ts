import { SignJWT } from "jose";
import type { Database } from "../../service/src/db/client";
import { raw, startTestService, type TestService, testDatabase } from "./helpers";

/** The admin API's test harness: the real service with ADMIN_API_KEY and user JWTs signed with JWT_SECRET. */

export const ADMIN_API_KEY = "admin-api-test-key-0123456789abcdef";
const JWT_SECRET = "admin-api-test-jwt-secret-0123456789abcdef";

// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
export type Body = Record<string, any>;

export const asKey = { authorization: `Bearer ${ADMIN_API_KEY}` };

/** A user JWT with a role and tenant claim. */
export async function userToken(claims: { sub: string; role?: string; tenant?: string }) {
  return new SignJWT({
    ...(claims.role ? { role: claims.role } : {}),
    ...(claims.tenant ? { tenant_id: claims.tenant } : {}),
  })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

export async function asUser(claims: { sub: string; role?: string; tenant?: string }) {
  return { authorization: `Bearer ${await userToken(claims)}` };
}

export interface AdminService extends TestService {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function startAdminService(
  db: Database,
  env: Record<string, string> = {},
): Promise<AdminService> {
  const svc = await startTestService(db, { ADMIN_API_KEY, JWT_SECRET, ...env });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers:
        body === undefined || typeof body === "string"
          ? headers
          : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  return { ...svc, call };
}

export async function json(res: Response): Promise<Body> {
  return (await res.json()) as Record<string, unknown>;
}

/** Creates a tenant through the API as the platform admin. */
export async function createTenant(svc: AdminService, slug: string, name = slug): Promise<Body> {
  const res = await svc.call("POST", "/api/v1/admin/tenants", { slug, name }, asKey);
  if (res.status !== 201) throw new Error(`create ${slug}: ${res.status} ${await res.text()}`);
  return json(res);
}

/** The audit rows of an action, whatever their tenant: read through the test's superuser connection. */
export async function auditRows(db: Database, action: string) {
  return raw(db).unsafe<
    {
      tenantId: string | null;
      actor: string;
      role: string;
      target: string | null;
      summary: unknown;
      requestId: string | null;
      clientAddress: string | null;
    }[]
  >(
    "select tenant_id, actor, role, target, summary, request_id, client_address from audit_log where action = $1 order by id",
    [action],
  );
}

/**
 * One test file's own database and the admin service on it. `stop` closes the service and drops the
 * database (also when the service failed to start).
 */
export async function adminSuite(env: Record<string, string> = {}) {
  const t = await testDatabase();
  let svc: AdminService;
  try {
    svc = await startAdminService(t.db, env);
  } catch (error) {
    await t.drop();
    throw error;
  }
  const stop = async () => {
    await svc.close();
    await t.drop();
  };
  return { db: t.db, svc, stop };
}
