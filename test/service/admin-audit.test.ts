import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AdminService, adminSuite, asKey, asUser, type Body, createTenant, json } from "./admin-helpers";

let svc: AdminService;
let stop: () => Promise<void>;
let a: Body;
let b: Body;
beforeAll(async () => {
  ({ svc, stop } = await adminSuite());
  a = await createTenant(svc, "audited-a");
  b = await createTenant(svc, "audited-b");
  for (const [tenant, title] of [
    [a, "A title"],
    [b, "B title"],
  ] as const) {
    await svc.call("PATCH", `/api/v1/admin/tenants/${tenant.id}/settings`, { widget: { title } }, asKey);
  }
});
afterAll(async () => {
  await stop?.();
});

describe("reading the audit log", () => {
  test("a tenant admin reads their tenant's log and nothing of another's", async () => {
    const headers = await asUser({ sub: "auditor-a", role: "tenant_admin", tenant: a.id });
    const res = await svc.call("GET", `/api/v1/admin/tenants/${a.id}/audit`, undefined, headers);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.entries.map((e: Body) => e.action)).toEqual(["settings.updated", "tenant.created"]);
    expect(new Set(body.entries.map((e: Body) => e.tenantId))).toEqual(new Set([a.id]));
    expect(body.entries[0]).toMatchObject({ actor: "admin-api-key", role: "platform_admin", target: a.id });
    expect((await svc.call("GET", `/api/v1/admin/tenants/${b.id}/audit`, undefined, headers)).status).toBe(
      404,
    );
    expect((await svc.call("GET", "/api/v1/admin/audit", undefined, headers)).status).toBe(403);
  });

  test("the platform log filters by tenant and action, and pages with a cursor", async () => {
    const path = `/api/v1/admin/audit?tenant=${b.id}&action=settings.updated`;
    const filtered = await json(await svc.call("GET", path, undefined, asKey));
    expect(filtered.entries).toHaveLength(1);
    expect(filtered.entries[0]).toMatchObject({ tenantId: b.id, action: "settings.updated" });
    const first = await json(await svc.call("GET", "/api/v1/admin/audit?limit=1", undefined, asKey));
    expect(first.entries).toHaveLength(1);
    const second = await json(
      await svc.call("GET", `/api/v1/admin/audit?limit=1&cursor=${first.nextCursor}`, undefined, asKey),
    );
    expect(Number(second.entries[0].id)).toBeLessThan(Number(first.entries[0].id));
  });

  test("since/until bound the time; a malformed one is a 400", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await json(await svc.call("GET", `/api/v1/admin/audit?since=${future}`, undefined, asKey));
    expect(none.entries).toEqual([]);
    expect((await svc.call("GET", "/api/v1/admin/audit?since=yesterday", undefined, asKey)).status).toBe(400);
  });

  test("the export is JSON lines, by format=jsonl or by Accept", async () => {
    const byQuery = await svc.call(
      "GET",
      `/api/v1/admin/tenants/${a.id}/audit?format=jsonl`,
      undefined,
      asKey,
    );
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await byQuery.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Body);
    expect(lines.map((l) => l.action)).toEqual(["settings.updated", "tenant.created"]);
    const byAccept = await svc.call("GET", "/api/v1/admin/audit", undefined, {
      ...asKey,
      accept: "application/x-ndjson",
    });
    const all = (await byAccept.text()).trim().split("\n");
    expect(all.length).toBeGreaterThanOrEqual(4);
  });

  test("the settings summary names the keys, never their values", async () => {
    const text = await (await svc.call("GET", "/api/v1/admin/audit?format=jsonl", undefined, asKey)).text();
    expect(text).toContain('"set":["widget"]');
    expect(text).not.toContain("A title");
  });
});
