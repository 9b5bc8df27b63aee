import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AdminService, adminSuite, asKey, createTenant, json } from "./admin-helpers";
import { consoleHeaders, consoleLogin } from "./console-helpers";
import { raw } from "./helpers";

/** The console's session cookie as an admin API credential: roles, tenant isolation, CSRF, revocation. */

let svc: AdminService;
let stop: () => Promise<void>;
let alpha: string;
let bravo: string;

beforeAll(async () => {
  ({ svc, stop } = await adminSuite());
  alpha = (await createTenant(svc, "alpha")).id;
  bravo = (await createTenant(svc, "bravo")).id;
});
afterAll(async () => {
  await stop?.();
});

describe("a console session", () => {
  test("opens the console: /console goes to the person's tenant", async () => {
    const agent = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
    const res = await fetch(`${svc.url}/console`, { headers: consoleHeaders(agent), redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/console/t/${alpha}/escalations`);
  });

  test("without one, a page sends the browser to sign in and an API call is a 401", async () => {
    const page = await fetch(`${svc.url}/console/t/${alpha}/escalations`, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe(
      `/console/sign-in?next=${encodeURIComponent(`/console/t/${alpha}/escalations`)}`,
    );
    expect((await svc.call("GET", `/api/v1/admin/tenants/${alpha}/knowledge`)).status).toBe(401);
  });

  test("is the admin API credential of the person's role, and only for their tenant", async () => {
    const admin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
    const own = await svc.call(
      "GET",
      `/api/v1/admin/tenants/${alpha}/knowledge`,
      undefined,
      consoleHeaders(admin),
    );
    expect(own.status).toBe(200);
    const other = await svc.call(
      "GET",
      `/api/v1/admin/tenants/${bravo}/knowledge`,
      undefined,
      consoleHeaders(admin),
    );
    expect(other.status).toBe(404);
    expect((await svc.call("GET", "/api/v1/admin/tenants", undefined, consoleHeaders(admin))).status).toBe(
      403,
    );
  });

  test("changes nothing without the CSRF token, and changes with it under the person's name", async () => {
    const admin = await consoleLogin(svc.db, {
      role: "tenant_admin",
      tenantId: alpha,
      email: "lead@alpha.example",
    });
    const patch = { promptVariables: { businessName: "Ada" } };
    const path = `/api/v1/admin/tenants/${alpha}/settings`;
    const forged = await svc.call("PATCH", path, patch, consoleHeaders(admin, { csrf: false }));
    expect(forged.status).toBe(403);
    expect((await json(forged)).error.code).toBe("csrf_failed");
    const wrong = await svc.call("PATCH", path, patch, { ...consoleHeaders(admin), "x-csrf-token": "nope" });
    expect(wrong.status).toBe(403);
    const before = await json(await svc.call("GET", path, undefined, asKey));
    expect(JSON.stringify(before)).not.toContain("Ada");
    const ok = await svc.call("PATCH", path, patch, consoleHeaders(admin));
    expect(ok.status).toBe(200);
    const [row] = await raw(svc.db)<{ actor: string; role: string }[]>`
      select actor, role from audit_log where action = 'settings.updated' order by id desc limit 1`;
    expect(row).toEqual({ actor: "lead@alpha.example", role: "tenant_admin" });
  });

  test("an agent may not do what only admins may", async () => {
    const agent = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
    const res = await svc.call(
      "PATCH",
      `/api/v1/admin/tenants/${alpha}/settings`,
      { promptVariables: { businessName: "X" } },
      consoleHeaders(agent),
    );
    expect(res.status).toBe(403);
  });

  test("ends when revoked, and for a person removed from the users table", async () => {
    const admin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
    const path = `/api/v1/admin/tenants/${alpha}/knowledge`;
    await raw(svc.db)`update console_sessions set revoked_at = now() where id = ${admin.sessionId}`;
    expect((await svc.call("GET", path, undefined, consoleHeaders(admin))).status).toBe(401);
    const removed = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
    await raw(svc.db)`delete from tenant_users where subject = ${removed.subject}`;
    expect((await svc.call("GET", path, undefined, consoleHeaders(removed))).status).toBe(401);
  });

  test("ends after the idle time and at its absolute end", async () => {
    const idle = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
    const old = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
    await raw(
      svc.db,
    )`update console_sessions set last_seen_at = now() - interval '61 minutes' where id = ${idle.sessionId}`;
    await raw(
      svc.db,
    )`update console_sessions set expires_at = now() - interval '1 second' where id = ${old.sessionId}`;
    const path = `/api/v1/admin/tenants/${alpha}/escalations`;
    expect((await svc.call("GET", path, undefined, consoleHeaders(idle))).status).toBe(401);
    expect((await svc.call("GET", path, undefined, consoleHeaders(old))).status).toBe(401);
  });
});
