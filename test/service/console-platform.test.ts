import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AdminService, adminSuite, auditRows, createTenant } from "./admin-helpers";
import { type ConsoleLogin, consoleHeaders, consoleLogin } from "./console-helpers";
import { raw } from "./helpers";

/**
 * The platform admins' console pages (all tenants, the platform audit log) and a tenant's audit log page:
 * who may open them, suspending through the admin API, and the audit log's filters and keyset pages.
 */

let svc: AdminService;
let stop: () => Promise<void>;
let alpha: string;
let bravo: string;
let platform: ConsoleLogin;
let tenantAdmin: ConsoleLogin;

async function audit(
  tenantId: string | null,
  actor: string,
  action: string,
  summary: object = {},
  at = "now()",
) {
  await raw(svc.db)`
    insert into audit_log (tenant_id, actor, role, action, summary, at)
    values (${tenantId}, ${actor}, 'tenant_admin', ${action}, ${raw(svc.db).json(summary as never)},
      ${at === "now()" ? new Date() : new Date(at)})`;
}

beforeAll(async () => {
  ({ svc, stop } = await adminSuite());
  alpha = (await createTenant(svc, "alpha", "Alpha Dental")).id;
  bravo = (await createTenant(svc, "bravo", "Bravo Bikes")).id;
  platform = await consoleLogin(svc.db, { role: "platform_admin", email: "root@platform.example" });
  tenantAdmin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
  await audit(alpha, "ann@alpha.example", "document.created", { slug: "<script>alert(1)</script>" });
  await audit(alpha, "bob@alpha.example", "document.deleted");
  await audit(bravo, "cy@bravo.example", "document.created");
  await audit(alpha, "ann@alpha.example", "settings.updated", {}, "2020-01-15T10:00:00Z");
  for (let i = 0; i < 55; i++) await audit(bravo, "bulk@bravo.example", "bulk.thing", { i });
});
afterAll(async () => {
  await stop?.();
});

const get = (path: string, login = platform) =>
  fetch(`${svc.url}${path}`, { headers: consoleHeaders(login) });
const page = async (path: string, login = platform) => {
  const res = await get(path, login);
  expect(res.status).toBe(200);
  return res.text();
};
/** The audit table's rows, as their action codes. */
const actions = (html: string) => [...html.matchAll(/<td><code>([a-z._]+)<\/code><\/td>/g)].map((m) => m[1]);

describe("the platform pages", () => {
  test("refuse a tenant admin and an agent (403 page)", async () => {
    for (const path of ["/console/platform/tenants", "/console/platform/audit"]) {
      const res = await get(path, tenantAdmin);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("Not allowed");
    }
    const agent = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
    expect((await get("/console/platform/tenants", agent)).status).toBe(403);
    expect((await get(`/console/t/${alpha}/audit`, agent)).status).toBe(403);
  });

  test("list every tenant with its switch link and the form that suspends it", async () => {
    const html = await page("/console/platform/tenants");
    expect(html).toContain("Alpha Dental");
    expect(html).toContain("Bravo Bikes");
    expect(html).toContain(`href="/console/t/${alpha}/escalations">Switch to Alpha Dental`);
    expect(html).toContain(`data-api="PATCH /api/v1/admin/tenants/${bravo}"`);
    expect(html).toContain('data-api="POST /api/v1/admin/tenants"');
    const later = await page("/console/platform/tenants?after=alpha");
    expect(later).not.toContain("Alpha Dental");
    expect(later).toContain("Bravo Bikes");
    expect((await get("/console/platform/tenants?after=%3Cx%3E")).status).toBe(400);
  });

  test("show a suspension made through the admin API with the session, audited under the person", async () => {
    const path = `/api/v1/admin/tenants/${bravo}`;
    const res = await svc.call("PATCH", path, { status: "suspended" }, consoleHeaders(platform));
    expect(res.status).toBe(200);
    const html = await page("/console/platform/tenants");
    expect(html).toMatch(/<span class="badge danger">suspended<\/span>/);
    expect(html).toContain('aria-label="Reactivate Bravo Bikes"');
    expect((await auditRows(svc.db, "tenant.suspended")).map((r) => r.actor)).toEqual([
      "root@platform.example",
    ]);
    await svc.call("PATCH", path, { status: "active" }, consoleHeaders(platform));
  });
});

describe("the audit log pages", () => {
  test("filter by action, actor and tenant across tenants", async () => {
    expect(actions(await page("/console/platform/audit?action=document.created"))).toEqual([
      "document.created",
      "document.created",
    ]);
    const byActor = await page("/console/platform/audit?actor=bob%40alpha.example");
    expect(actions(byActor)).toEqual(["document.deleted"]);
    const byTenant = await page(`/console/platform/audit?tenant=${alpha}&action=document.created`);
    expect(actions(byTenant)).toEqual(["document.created"]);
    expect(byTenant).toContain("ann@alpha.example");
  });

  test("filter by date (UTC days, both included)", async () => {
    const old = await page(`/console/platform/audit?tenant=${alpha}&from=2020-01-15&to=2020-01-15`);
    expect(actions(old)).toEqual(["settings.updated"]);
    expect(actions(await page(`/console/platform/audit?tenant=${alpha}&to=2020-01-14`))).toEqual([]);
  });

  test("page by keyset, keeping the filters", async () => {
    const first = await page("/console/platform/audit?action=bulk.thing");
    expect(actions(first)).toHaveLength(50);
    const older = first.match(/href="([^"]+)">Older entries/)?.[1]?.replace(/&amp;/g, "&");
    expect(older).toMatch(/action=bulk.thing&cursor=\d+$/);
    const second = await page(older ?? "");
    expect(actions(second)).toHaveLength(5);
    // Newest first across both pages, by id (the ids pass 9 → 10 → 100 on the way: no text order).
    const order = [
      ...first.matchAll(/\{&quot;i&quot;:(\d+)\}/g),
      ...second.matchAll(/\{&quot;i&quot;:(\d+)\}/g),
    ];
    expect(order.map((m) => Number(m[1]))).toEqual(Array.from({ length: 55 }, (_, i) => 54 - i));
    expect(second).not.toContain("Older entries");
    expect(second).toContain("Newest entries");
  });

  test("a tenant's page shows its own entries only, escaped", async () => {
    const html = await page(`/console/t/${alpha}/audit?tenant=${bravo}`, tenantAdmin);
    expect(actions(html).sort()).toEqual([
      "document.created",
      "document.deleted",
      "settings.updated",
      "tenant.created",
    ]);
    expect(html).not.toContain("cy@bravo.example");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;");
    const filtered = await page(`/console/t/${alpha}/audit?actor=ann%40alpha.example`, tenantAdmin);
    expect(actions(filtered).sort()).toEqual(["document.created", "settings.updated"]);
  });

  test("refuse a malformed filter", async () => {
    expect((await get("/console/platform/audit?tenant=nope")).status).toBe(400);
    expect((await get("/console/platform/audit?from=yesterday")).status).toBe(400);
    expect((await get("/console/platform/audit?cursor=1;drop")).status).toBe(400);
  });
});
