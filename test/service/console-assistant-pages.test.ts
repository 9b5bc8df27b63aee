import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AdminService, adminSuite, asKey, createTenant, json } from "./admin-helpers";
import { type ConsoleLogin, consoleHeaders, consoleLogin } from "./console-helpers";
import { raw } from "./helpers";

/** The assistant, knowledge and widget pages as served: roles, tenant isolation, escaping, CSRF. */

let svc: AdminService;
let stop: () => Promise<void>;
let alpha: string;
let bravo: string;
let admin: ConsoleLogin;

const XSS = [
  "# Tricky",
  "",
  "<script>window.pwned = 1</script>",
  "",
  '<img src="x" onerror="window.pwned = 2">',
  "",
  "[click me](javascript:window.pwned=3)",
].join("\n");

beforeAll(async () => {
  ({ svc, stop } = await adminSuite());
  alpha = (await createTenant(svc, "alpha-pages")).id;
  bravo = (await createTenant(svc, "bravo-pages")).id;
  admin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
  const put = await svc.call("PUT", `/api/v1/admin/tenants/${alpha}/knowledge/tricky`, XSS, {
    ...asKey,
    "content-type": "text/markdown",
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await stop?.();
});

const page = (path: string, login: ConsoleLogin) =>
  fetch(`${svc.url}${path}`, { headers: consoleHeaders(login), redirect: "manual" });

describe("the assistant, knowledge and widget pages", () => {
  test("a tenant admin reads each page of their tenant", async () => {
    for (const section of ["assistant", "knowledge", "knowledge/tricky", "widget", "widget/preview"]) {
      const res = await page(`/console/t/${alpha}/${section}`, admin);
      expect(res.status, section).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/text\/html/);
    }
  });

  test("another tenant's id is a 404 page, an agent gets 403", async () => {
    const other = await page(`/console/t/${bravo}/knowledge`, admin);
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain("bravo-pages");
    const agent = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
    for (const section of ["assistant", "knowledge/tricky", "widget"]) {
      expect((await page(`/console/t/${alpha}/${section}`, agent)).status, section).toBe(403);
    }
  });

  test("a document's HTML and javascript: link are shown as text, in the editor and in the preview", async () => {
    const html = await (await page(`/console/t/${alpha}/knowledge/tricky`, admin)).text();
    expect(html).not.toContain("<script>window.pwned");
    expect(html).not.toContain('<img src="x"');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain("&lt;script&gt;window.pwned = 1&lt;/script&gt;");
    expect(html).toContain("<h1>Tricky</h1>");
  });

  test("the preview endpoint renders a draft safely, and needs the CSRF token", async () => {
    const path = `${svc.url}/console/t/${alpha}/knowledge-preview`;
    const body = JSON.stringify({ body: `${XSS}\n\n**bold** [ok](https://example.com)` });
    const headers = {
      ...consoleHeaders(admin),
      "content-type": "application/json",
      accept: "application/json",
    };
    const res = await fetch(path, { method: "POST", headers, body });
    expect(res.status).toBe(200);
    const { html } = await json(res);
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain('href="https://example.com"');
    expect(html).not.toMatch(/<script|<img|href="javascript:/);
    const noCsrf = await fetch(path, {
      method: "POST",
      headers: { ...consoleHeaders(admin, { csrf: false }), "content-type": "application/json" },
      body,
    });
    expect(noCsrf.status).toBe(403);
  });

  test("the widget page shows the embed snippet with the tenant's public key", async () => {
    const tenant = await json(await svc.call("GET", `/api/v1/admin/tenants/${alpha}`, undefined, asKey));
    const html = await (await page(`/console/t/${alpha}/widget`, admin)).text();
    expect(html).toContain(`/widget.js&quot; data-tenant=&quot;${tenant.widgetKey}&quot;`);
    const preview = await (
      await page(`/console/t/${alpha}/widget/preview?title=%3Cb%3EHi&color=red;x`, admin)
    ).text();
    expect(preview).toContain(`data-tenant="${tenant.widgetKey}"`);
    expect(preview).toContain('data-title="&lt;b&gt;Hi"');
    expect(preview).not.toContain("data-color");
  });

  test("each answer records its documents and whether it was sure; the knowledge page counts them", async () => {
    const hours = "# Opening hours\n\nThe alpha shop opens at 8am on weekdays.";
    const put = await svc.call("PUT", `/api/v1/admin/tenants/${alpha}/knowledge/hours`, hours, {
      ...asKey,
      "content-type": "text/markdown",
    });
    expect(put.status).toBe(200);
    const tenant = await json(await svc.call("GET", `/api/v1/admin/tenants/${alpha}`, undefined, asKey));
    const widget = { "x-switchboard-tenant": tenant.widgetKey as string };
    for (const message of ["When does the shop open on weekdays?", "Do you repair submarines?"]) {
      expect((await svc.call("POST", "/api/v1/chat", { message }, widget)).status).toBe(200);
    }
    const rows = await raw(svc.db)<{ sources: string[]; confident: boolean | null }[]>`
      select sources, confident from messages where tenant_id = ${alpha} and role = 'assistant' order by id`;
    expect(rows).toEqual([
      { sources: ["hours"], confident: true },
      { sources: [], confident: false },
    ]);
    const html = await (await page(`/console/t/${alpha}/knowledge`, admin)).text();
    expect(html).toMatch(/<summary>1 question<\/summary><ul><li>When does the shop open on weekdays\?<\/li>/);
    expect(html).toContain("Do you repair submarines?");
    const other = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: bravo });
    const bravoHtml = await (await page(`/console/t/${bravo}/knowledge`, other)).text();
    expect(bravoHtml).not.toContain("submarines");
  });
});
