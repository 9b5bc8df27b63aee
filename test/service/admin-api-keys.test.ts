import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import {
  type AdminService,
  asKey,
  asUser,
  auditRows,
  createTenant,
  json,
  startAdminService,
} from "./admin-helpers";
import { bearer, raw, testDatabase } from "./helpers";

/**
 * Tenant API keys (Zapier and CRM automations): created by a tenant admin and shown once, only a SHA-256
 * stored, accepted by the admin API in the key's role and tenant only, refused (and audited) once revoked.
 */

let db: Database;
let drop: () => Promise<void>;
let svc: AdminService;
let alpha: string;
let bravo: string;
let admin: Record<string, string>;
const T = "/api/v1/admin/tenants";

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startAdminService(db);
  alpha = (await createTenant(svc, "keys-alpha")).id;
  bravo = (await createTenant(svc, "keys-bravo")).id;
  admin = await asUser({ sub: "alpha-admin", role: "tenant_admin", tenant: alpha });
}, 60_000);
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

async function makeKey(role: "agent" | "tenant_admin", tenantId = alpha, headers = admin) {
  const res = await svc.call("POST", `${T}/${tenantId}/api-keys`, { name: `zap ${role}`, role }, headers);
  expect(res.status).toBe(201);
  return json(res);
}

describe("an API key", () => {
  test("is shown once; only its hash is stored; the list shows its prefix", async () => {
    const { key, apiKey } = await makeKey("tenant_admin");
    expect(key).toMatch(/^sbk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ role: "tenant_admin", prefix: key.slice(0, 8), createdBy: "alpha-admin" });
    const listed = await json(await svc.call("GET", `${T}/${alpha}/api-keys`, undefined, admin));
    expect(listed.apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);
    expect(JSON.stringify(listed)).not.toContain(key);
    const stored = await raw(db).unsafe("select row_to_json(k)::text as r from api_keys k");
    expect(JSON.stringify(stored)).not.toContain(key);
    const [audit] = (await auditRows(db, "api_key.created")).filter((r) => r.target === apiKey.id);
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  test("acts in its tenant with its role, is named in the audit log, and notes its use", async () => {
    const { key, apiKey } = await makeKey("tenant_admin");
    const res = await svc.call(
      "POST",
      `${T}/${alpha}/api-keys`,
      { name: "made by a key", role: "agent" },
      bearer(key),
    );
    expect(res.status).toBe(201);
    const [audit] = (await auditRows(db, "api_key.created")).filter(
      (r) => r.summary && (r.summary as { name: string }).name === "made by a key",
    );
    expect(audit).toMatchObject({ actor: `api-key:${apiKey.id}`, role: "tenant_admin", tenantId: alpha });
    const listed = await json(await svc.call("GET", `${T}/${alpha}/api-keys`, undefined, admin));
    const mine = listed.apiKeys.find((k: { id: string }) => k.id === apiKey.id);
    expect(mine.lastUsedAt).not.toBeNull();
  });

  test("of an agent may read what agents read, not what tenant admins manage", async () => {
    const { key } = await makeKey("agent");
    const texts = await svc.call(
      "GET",
      `${T}/${alpha}/contacts/phone/+15557654321/texts`,
      undefined,
      bearer(key),
    );
    expect(texts.status).toBe(200);
    expect((await svc.call("GET", `${T}/${alpha}/api-keys`, undefined, bearer(key))).status).toBe(403);
    expect((await svc.call("GET", `${T}/${alpha}/settings`, undefined, bearer(key))).status).toBe(403);
  });

  test("of one tenant is refused on another's (404, as for no tenant) and on platform routes (403)", async () => {
    const { key } = await makeKey("tenant_admin");
    expect((await svc.call("GET", `${T}/${bravo}/api-keys`, undefined, bearer(key))).status).toBe(404);
    expect((await svc.call("GET", `${T}/${bravo}`, undefined, bearer(key))).status).toBe(404);
    expect((await svc.call("GET", T, undefined, bearer(key))).status).toBe(403);
    const other = await makeKey("tenant_admin", bravo, asKey);
    expect((await svc.call("GET", `${T}/${alpha}/api-keys`, undefined, bearer(other.key))).status).toBe(404);
  });

  test("is refused once revoked (401, audited as a failed sign-in), as is an unknown key", async () => {
    const { key, apiKey } = await makeKey("tenant_admin");
    expect((await svc.call("GET", `${T}/${alpha}/api-keys`, undefined, bearer(key))).status).toBe(200);
    const revoked = await svc.call("DELETE", `${T}/${alpha}/api-keys/${apiKey.id}`, undefined, admin);
    expect((await json(revoked)).revokedAt).not.toBeNull();
    const refused = await svc.call("GET", `${T}/${alpha}/api-keys`, undefined, bearer(key));
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.code).toBe("unauthorized");
    const unknown = await svc.call(
      "GET",
      `${T}/${alpha}/api-keys`,
      undefined,
      bearer(`sbk_${"x".repeat(43)}`),
    );
    expect(unknown.status).toBe(401);
    const failures = (await auditRows(db, "admin.sign_in_failed")).filter(
      (r) => (r.summary as { reason?: string }).reason === "invalid_api_key",
    );
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(failures)).not.toContain(key);
  });

  test("of another tenant cannot be revoked through this tenant (404)", async () => {
    const other = await makeKey("tenant_admin", bravo, asKey);
    const res = await svc.call("DELETE", `${T}/${alpha}/api-keys/${other.apiKey.id}`, undefined, admin);
    expect(res.status).toBe(404);
    expect((await svc.call("GET", `${T}/${bravo}/api-keys`, undefined, bearer(other.key))).status).toBe(200);
  });

  test("with a bad role or no name is a 400", async () => {
    for (const body of [
      { name: "x", role: "platform_admin" },
      { role: "agent" },
      { name: "", role: "agent" },
    ]) {
      const res = await svc.call("POST", `${T}/${alpha}/api-keys`, body, admin);
      expect(res.status).toBe(400);
    }
  });
});
