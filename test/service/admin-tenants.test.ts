import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type AdminService, adminSuite, asKey, asUser, auditRows, createTenant, json } from "./admin-helpers";
import { raw } from "./helpers";

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ db, svc, stop } = await adminSuite());
});
afterAll(async () => {
  await stop?.();
});

describe("who may call the admin API", () => {
  test("no credential is a 401 in the uniform error shape, and is not audited", async () => {
    const before = (await auditRows(db, "admin.sign_in_failed")).length;
    const res = await svc.call("GET", "/api/v1/admin/tenants");
    expect(res.status).toBe(401);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: "unauthorized", requestId: expect.any(String) });
    expect((await auditRows(db, "admin.sign_in_failed")).length).toBe(before);
  });

  test("a wrong key is a 401 and an audit event with the request id and address, never the token", async () => {
    const res = await svc.call("GET", "/api/v1/admin/tenants", undefined, {
      authorization: "Bearer not-the-admin-key-but-long-enough",
      "x-request-id": "req-bad-key-1",
    });
    expect(res.status).toBe(401);
    const rows = await auditRows(db, "admin.sign_in_failed");
    const row = rows.find((r) => r.requestId === "req-bad-key-1");
    expect(row).toMatchObject({
      tenantId: null,
      clientAddress: "127.0.0.1",
      summary: { reason: "invalid_token" },
    });
    expect(JSON.stringify(rows)).not.toContain("not-the-admin-key");
  });

  test("a tenant admin may not create or list tenants (403, audited)", async () => {
    const headers = await asUser({
      sub: "ta-1",
      role: "tenant_admin",
      tenant: "00000000-0000-4000-8000-000000000001",
    });
    expect((await svc.call("GET", "/api/v1/admin/tenants", undefined, headers)).status).toBe(403);
    expect(
      (await svc.call("POST", "/api/v1/admin/tenants", { slug: "nope", name: "N" }, headers)).status,
    ).toBe(403);
    const refused = (await auditRows(db, "admin.sign_in_failed")).filter((r) => r.actor === "ta-1");
    expect(refused.map((r) => (r.summary as { reason: string }).reason)).toEqual([
      "not_platform_admin",
      "not_platform_admin",
    ]);
  });

  test("a user JWT with role platform_admin is a platform admin, named by its subject", async () => {
    const headers = await asUser({ sub: "ops-lead", role: "platform_admin" });
    const res = await svc.call("POST", "/api/v1/admin/tenants", { slug: "by-jwt", name: "By JWT" }, headers);
    expect(res.status).toBe(201);
    const [row] = (await auditRows(db, "tenant.created")).filter((r) => r.actor === "ops-lead");
    expect(row).toMatchObject({ role: "platform_admin" });
  });

  test("a forged JWT and an anonymous session token are refused (401) and audited", async () => {
    const forged = `${(await asUser({ sub: "x", role: "platform_admin" })).authorization.slice(0, -4)}AAAA`;
    const bad = await svc.call("GET", "/api/v1/admin/tenants", undefined, {
      authorization: forged,
      "x-request-id": "req-forged-1",
    });
    expect(bad.status).toBe(401);
    const session = (await json(await svc.post("/api/v1/chat", { message: "hello" }))).sessionToken as string;
    const anon = await svc.call("GET", "/api/v1/admin/tenants", undefined, {
      authorization: `Bearer ${session}`,
      "x-request-id": "req-anon-1",
    });
    expect(anon.status).toBe(401);
    const rows = await auditRows(db, "admin.sign_in_failed");
    const reason = (id: string) =>
      (rows.find((r) => r.requestId === id)?.summary as { reason?: string })?.reason;
    expect(reason("req-forged-1")).toBe("invalid_token");
    expect(reason("req-anon-1")).toBe("not_a_user_token");
    expect(JSON.stringify(rows)).not.toContain(session);
  });

  test("an {id} that is not a uuid is a 400", async () => {
    const res = await svc.call("GET", "/api/v1/admin/tenants/not-a-uuid", undefined, asKey);
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("validation_failed");
  });
});

describe("tenants", () => {
  test("create returns the tenant with its widget key; a taken slug is a 409; it is audited on the tenant", async () => {
    const res = await svc.call(
      "POST",
      "/api/v1/admin/tenants",
      { slug: "acme", name: "Acme", settings: { promptVariables: { businessName: "Acme" } } },
      asKey,
    );
    expect(res.status).toBe(201);
    const tenant = await json(res);
    expect(tenant).toMatchObject({
      slug: "acme",
      name: "Acme",
      status: "active",
      widgetKey: expect.stringMatching(/^pk_/),
    });
    const again = await svc.call("POST", "/api/v1/admin/tenants", { slug: "acme", name: "Other" }, asKey);
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe("conflict");
    const [row] = (await auditRows(db, "tenant.created")).filter((r) => r.tenantId === tenant.id);
    expect(row).toMatchObject({ actor: "admin-api-key", role: "platform_admin", target: tenant.id });
    expect(row?.summary).toMatchObject({ slug: "acme", settingsKeys: ["promptVariables"] });
  });

  test("create refuses a bad slug (400) and invalid settings (400 invalid_settings with zod's issues)", async () => {
    expect(
      (await svc.call("POST", "/api/v1/admin/tenants", { slug: "Bad Slug", name: "x" }, asKey)).status,
    ).toBe(400);
    const res = await svc.call(
      "POST",
      "/api/v1/admin/tenants",
      { slug: "bad-settings", name: "x", settings: { nope: 1 } },
      asKey,
    );
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("invalid_settings");
    expect(body.error.details.issues.length).toBeGreaterThan(0);
  });

  test("the list pages by slug with a cursor", async () => {
    for (const slug of ["page-a", "page-b", "page-c"]) await createTenant(svc, slug);
    const first = await json(await svc.call("GET", "/api/v1/admin/tenants?limit=2", undefined, asKey));
    expect(first.tenants).toHaveLength(2);
    expect(first.nextCursor).toEqual(first.tenants[1].slug);
    const seen: string[] = first.tenants.map((t: { slug: string }) => t.slug);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await json(
        await svc.call("GET", `/api/v1/admin/tenants?limit=2&cursor=${cursor}`, undefined, asKey),
      );
      seen.push(...page.tenants.map((t: { slug: string }) => t.slug));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(["default", "page-a", "page-b", "page-c"]));
  });

  test("a tenant admin reads their tenant; another tenant's id is a 404 as for one that does not exist", async () => {
    const a = await createTenant(svc, "reader-a");
    const b = await createTenant(svc, "reader-b");
    const headers = await asUser({ sub: "admin-of-a", role: "tenant_admin", tenant: a.id });
    const own = await svc.call("GET", `/api/v1/admin/tenants/${a.id}`, undefined, headers);
    expect(own.status).toBe(200);
    expect((await json(own)).slug).toBe("reader-a");
    const other = await svc.call("GET", `/api/v1/admin/tenants/${b.id}`, undefined, headers);
    const missing = await svc.call(
      "GET",
      "/api/v1/admin/tenants/5b0b1e8e-8d7c-4c55-9f55-0d5b1d2f0a11",
      undefined,
      headers,
    );
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((await json(other)).error.message).toBe((await json(missing)).error.message);
    const agent = await asUser({ sub: "agent-of-a", role: "agent", tenant: a.id });
    expect((await svc.call("GET", `/api/v1/admin/tenants/${a.id}`, undefined, agent)).status).toBe(403);
  });

  test("suspend and reactivate (platform only), audited as such", async () => {
    const t = await createTenant(svc, "suspendable");
    const ta = await asUser({ sub: "ta-s", role: "tenant_admin", tenant: t.id });
    expect(
      (await svc.call("PATCH", `/api/v1/admin/tenants/${t.id}`, { status: "suspended" }, ta)).status,
    ).toBe(403);
    const res = await svc.call("PATCH", `/api/v1/admin/tenants/${t.id}`, { status: "suspended" }, asKey);
    expect(res.status).toBe(200);
    expect((await json(res)).status).toBe("suspended");
    await svc.call("PATCH", `/api/v1/admin/tenants/${t.id}`, { status: "active", name: "Back" }, asKey);
    const mine = async (action: string) => (await auditRows(db, action)).filter((r) => r.tenantId === t.id);
    expect(await mine("tenant.suspended")).toHaveLength(1);
    expect(await mine("tenant.reactivated")).toHaveLength(1);
    expect((await svc.call("PATCH", `/api/v1/admin/tenants/${t.id}`, {}, asKey)).status).toBe(400);
    const unknown = "5b0b1e8e-8d7c-4c55-9f55-0d5b1d2f0a11";
    expect((await svc.call("PATCH", `/api/v1/admin/tenants/${unknown}`, { name: "x" }, asKey)).status).toBe(
      404,
    );
  });

  test("a tenant admin rotates their widget key: a new key, the old one gone, audited", async () => {
    const t = await createTenant(svc, "rotator");
    const ta = await asUser({ sub: "ta-r", role: "tenant_admin", tenant: t.id });
    const res = await svc.call("POST", `/api/v1/admin/tenants/${t.id}/widget-key`, undefined, ta);
    expect(res.status).toBe(200);
    const rotated = await json(res);
    expect(rotated.widgetKey).toMatch(/^pk_/);
    expect(rotated.widgetKey).not.toBe(t.widgetKey);
    const [row] = (await auditRows(db, "widget_key.rotated")).filter((r) => r.tenantId === t.id);
    expect(row).toMatchObject({ actor: "ta-r", role: "tenant_admin" });
  });
});

describe("settings", () => {
  test("PATCH replaces sections, null removes one; GET shows stored and effective values", async () => {
    const t = await createTenant(svc, "settled");
    const ta = await asUser({ sub: "ta-set", role: "tenant_admin", tenant: t.id });
    const path = `/api/v1/admin/tenants/${t.id}/settings`;
    const set = await svc.call(
      "PATCH",
      path,
      {
        systemPrompt: "You answer for {{businessName}}.",
        promptVariables: { businessName: "Settled Ltd" },
        widget: { title: "Hi" },
      },
      ta,
    );
    expect(set.status).toBe(200);
    const after = await json(set);
    expect(after.settings.widget).toEqual({ title: "Hi" });
    expect(after.effective.systemPrompt).toBe("You answer for Settled Ltd.");
    expect(after.effective.routing.defaultModel).toEqual(expect.any(String));
    const removed = await json(await svc.call("PATCH", path, { widget: null }, ta));
    expect(removed.settings.widget).toBeUndefined();
    expect(removed.settings.promptVariables).toEqual({ businessName: "Settled Ltd" });
    const read = await json(await svc.call("GET", path, undefined, ta));
    expect(read.settings).toEqual(removed.settings);
    const [row] = (await auditRows(db, "settings.updated")).filter((r) => r.tenantId === t.id);
    expect(row?.summary).toEqual({ set: ["systemPrompt", "promptVariables", "widget"], removed: [] });
    expect(JSON.stringify(row)).not.toContain("Settled Ltd");
  });

  test("an invalid patch is a 400 invalid_settings and changes nothing", async () => {
    const t = await createTenant(svc, "unsettled");
    const path = `/api/v1/admin/tenants/${t.id}/settings`;
    const res = await svc.call("PATCH", path, { widget: { primaryColor: "red" }, unknownKey: true }, asKey);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("invalid_settings");
    expect(body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(["widget.primaryColor"]),
    );
    expect((await json(await svc.call("GET", path, undefined, asKey))).settings).toEqual({});
  });

  test("the sms block: effective defaults name the tenant, a patch shows stored and effective, bad values are 400", async () => {
    const t = await createTenant(svc, "texting", "Texting Co");
    const path = `/api/v1/admin/tenants/${t.id}/settings`;
    const before = await json(await svc.call("GET", path, undefined, asKey));
    expect(before.effective.sms).toEqual({
      maxSegments: 3,
      helpText:
        "Texting Co: text us your question and we'll answer here. Reply STOP to opt out. Msg&data rates may apply.",
      dailyLimit: null,
      monthlyLimit: null,
      tier: "free",
    });
    const sms = {
      maxSegments: 2,
      helpText: "Texting Co: call 555-0100. Reply STOP to opt out.",
      dailyLimit: 100,
    };
    const set = await svc.call("PATCH", path, { sms }, asKey);
    expect(set.status).toBe(200);
    const after = await json(set);
    expect(after.settings.sms).toEqual(sms);
    expect(after.effective.sms).toEqual({ ...sms, monthlyLimit: null, tier: "free" });
    const bad = await svc.call(
      "PATCH",
      path,
      { sms: { maxSegments: 11, dailyLimit: 0, tier: "gold" } },
      asKey,
    );
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body.error.code).toBe("invalid_settings");
    expect(body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      "sms.dailyLimit",
      "sms.maxSegments",
      "sms.tier",
    ]);
    expect((await json(await svc.call("GET", path, undefined, asKey))).settings.sms).toEqual(sms);
  });

  test("the tenant users table decides a user's role over the token's claim", async () => {
    const t = await createTenant(svc, "demoted");
    await raw(db).unsafe(
      "insert into tenant_users (tenant_id, subject, role) values ($1, 'claims-admin', 'agent')",
      [t.id],
    );
    const headers = await asUser({ sub: "claims-admin", role: "tenant_admin", tenant: t.id });
    expect((await svc.call("GET", `/api/v1/admin/tenants/${t.id}/settings`, undefined, headers)).status).toBe(
      403,
    );
    await raw(db).unsafe(
      "insert into tenant_users (tenant_id, subject, role) values ($1, 'no-claim', 'tenant_admin')",
      [t.id],
    );
    const listed = await asUser({ sub: "no-claim", tenant: t.id });
    expect((await svc.call("GET", `/api/v1/admin/tenants/${t.id}/settings`, undefined, listed)).status).toBe(
      200,
    );
  });
});

describe("the OpenAPI document", () => {
  test("lists the admin routes with their schemas", async () => {
    const res = await svc.call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/admin/tenants",
        "/api/v1/admin/tenants/{id}",
        "/api/v1/admin/tenants/{id}/settings",
        "/api/v1/admin/tenants/{id}/knowledge/{slug}",
        "/api/v1/admin/tenants/{id}/users/{userId}",
        "/api/v1/admin/tenants/{id}/usage",
        "/api/v1/admin/tenants/{id}/channels",
        "/api/v1/admin/audit",
        // Issue 14's routes, mounted from routers of their own.
        "/api/v1/admin/tenants/{id}/calls",
        "/api/v1/admin/tenants/{id}/contacts",
        "/api/v1/admin/tenants/{id}/leads",
        "/api/v1/admin/tenants/{id}/escalations",
        "/api/v1/admin/tenants/{id}/escalations/slack-webhook",
        "/api/v1/admin/tenants/{id}/webhook-endpoints",
        "/api/v1/admin/tenants/{id}/webhook-endpoints/{endpointId}/deliveries",
        "/api/v1/admin/tenants/{id}/api-keys",
      ]),
    );
    expect(doc.components.schemas.CreateTenant.required).toEqual(expect.arrayContaining(["slug", "name"]));
    expect(doc.components.schemas.NewChannel).toBeDefined();
  });
});
