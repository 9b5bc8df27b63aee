import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { conversationListQuery } from "../../service/src/db/conversations";
import { inTenant } from "../../service/src/db/tenant-scope";
import { type AdminService, adminSuite, auditRows, createTenant } from "./admin-helpers";
import { seedConversations, seedPerson } from "./console-conversations-seed";
import { type ConsoleLogin, consoleHeaders, consoleLogin } from "./console-helpers";
import { raw } from "./helpers";

/**
 * The console's conversation list on 10,000 conversations of one tenant (and another tenant's): pages of
 * 50, a keyset walk without gaps or repeats both ways, filters that combine, the other tenant never shown,
 * a page's SQL reading a page's rows, not the tenant's; cross-tenant URLs; escaping of customer text.
 */

const N = 10_000;
let svc: AdminService;
let stop: () => Promise<void>;
let alpha: string;
let bravo: string;
let agent: ConsoleLogin;

beforeAll(async () => {
  ({ svc, stop } = await adminSuite());
  alpha = (await createTenant(svc, "alpha")).id;
  bravo = (await createTenant(svc, "bravo")).id;
  await seedConversations(svc.db, alpha, { n: N, marker: "alpha" });
  await seedConversations(svc.db, bravo, { n: 120, marker: "bravo" });
  agent = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
}, 120_000);
afterAll(async () => {
  await stop?.();
});

const htmlUnescape = (s: string) => s.replaceAll("&amp;", "&");

async function page(path: string, login = agent) {
  const res = await fetch(`${svc.url}${path}`, { headers: consoleHeaders(login), redirect: "manual" });
  const html = await res.text();
  const ids = [...html.matchAll(/<tr data-id="([0-9a-f-]{36})"/g)].map((m) => m[1] as string);
  const link = (rel: string) => {
    const m = html.match(new RegExp(`<a href="([^"]+)" rel="${rel}"`));
    return m?.[1] ? htmlUnescape(m[1]) : undefined;
  };
  return { status: res.status, html, ids, older: link("next"), newer: link("prev") };
}

/** The expected order: the superuser's own reading, newest activity first, id breaking ties. */
async function expectedIds(tenantId: string, where = "true"): Promise<string[]> {
  const rows = await raw(svc.db).unsafe<{ id: string }[]>(
    `select s.id from sessions s left join contacts c on c.id = s.contact_id
     where s.tenant_id = $1 and ${where} order by s.updated_at desc, s.id desc`,
    [tenantId],
  );
  return rows.map((r) => r.id);
}

const list = () => `/console/t/${alpha}/conversations`;

describe("the conversation list", () => {
  test("shows the newest 50 of 10,000, and none of the other tenant's", async () => {
    const first = await page(list());
    expect(first.status).toBe(200);
    expect(first.ids).toEqual((await expectedIds(alpha)).slice(0, 50));
    expect(first.html).not.toContain("bravo");
    expect(first.newer).toBeUndefined();
    expect(first.older).toBeDefined();
  });

  test("walks older and back newer without a gap or a repeat", async () => {
    const all = await expectedIds(alpha);
    const pages: string[][] = [];
    let current = await page(list());
    for (let i = 0; i < 6; i++) {
      pages.push(current.ids);
      current = await page(current.older as string);
    }
    pages.push(current.ids);
    expect(pages.flat()).toEqual(all.slice(0, 350));
    // Back from the seventh page to the first, each page exactly as it was going forward.
    for (let i = 5; i >= 0; i--) {
      current = await page(current.newer as string);
      expect(current.ids).toEqual(pages[i]);
    }
    expect(current.newer).toBeUndefined();
  });

  test("walks a filtered list to its end: every match once, and the last page has no Older link", async () => {
    const expected = await expectedIds(
      alpha,
      "s.channel = 'sms' and exists (select 1 from messages m where m.session_id = s.id and m.content ilike '%refund%')",
    );
    expect(expected.length).toBeGreaterThan(100);
    const seen: string[] = [];
    let current = await page(`${list()}?channel=sms&q=refund`);
    for (;;) {
      seen.push(...current.ids);
      if (!current.older) break;
      current = await page(current.older);
    }
    expect(seen).toEqual(expected);
  });

  test("combines channel, status, contact and dates", async () => {
    const url = `${list()}?channel=sms&status=resolved&contact=alpha+Person&from=2026-01-01&to=2026-01-03`;
    const { ids, status } = await page(url);
    expect(status).toBe(200);
    const expected = await expectedIds(
      alpha,
      `s.channel = 'sms' and c.name ilike '%alpha Person%'
       and s.updated_at >= '2026-01-01T00:00:00Z' and s.updated_at < '2026-01-04T00:00:00Z'
       and exists (select 1 from escalations e where e.session_id = s.id)
       and not exists (select 1 from escalations e where e.session_id = s.id and e.status <> 'resolved')`,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(ids).toEqual(expected.slice(0, 50));
    const escalated = await page(`${list()}?status=escalated`);
    expect(escalated.ids).toEqual(
      (
        await expectedIds(
          alpha,
          "exists (select 1 from escalations e where e.session_id = s.id and e.status = 'open')",
        )
      ).slice(0, 50),
    );
    expect(escalated.html).toContain("escalated");
  });

  test("a page's statement reads one page of sessions, not the tenant's 10,000", async () => {
    const { sql } = svc.db;
    const cursor = await raw(svc.db)<{ at: string; id: string }[]>`
      select updated_at::text as at, id from sessions where tenant_id = ${alpha}
      order by updated_at desc, id desc offset 4000 limit 1`;
    for (const [filter, after] of [
      [{}, undefined],
      [{}, cursor[0]],
      [{ channel: "sms" }, cursor[0]],
    ] as const) {
      const [plan] = await inTenant(
        alpha,
        () =>
          sql<
            { "QUERY PLAN": unknown }[]
          >`explain (analyze, format json) ${conversationListQuery(sql, filter, { limit: 51, after })}`,
      );
      const read = sessionRowsRead(plan?.["QUERY PLAN"]);
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThanOrEqual(60);
    }
  });

  test("a cursor the console did not make is a 400 page", async () => {
    const res = await page(`${list()}?after=bm90LWEtY3Vyc29y`);
    expect(res.status).toBe(400);
    expect(res.html).toContain("not one the console made");
    expect((await page(`${list()}?from=yesterday`)).status).toBe(400);
  });
});

/** Rows the plan's scans of `sessions` produced (all loops). */
function sessionRowsRead(plan: unknown): number {
  let total = 0;
  const visit = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    const n = node as Record<string, unknown>;
    if (n["Relation Name"] === "sessions")
      total +=
        (n["Actual Rows"] as number) * ((n["Actual Loops"] as number) ?? 1) +
        ((n["Rows Removed by Filter"] as number) ?? 0);
    for (const child of (n.Plans as unknown[]) ?? []) visit(child);
    if (n.Plan) visit(n.Plan);
  };
  for (const p of (Array.isArray(plan) ? plan : [plan]) as unknown[]) visit(p);
  return total;
}

describe("another tenant's ids in the URL", () => {
  test("B's conversation or contact under A's tenant is a 404 and an audit row", async () => {
    const [theirs] = await expectedIds(bravo);
    const [contact] = await raw(svc.db)<
      { id: string }[]
    >`select id from contacts where tenant_id = ${bravo} limit 1`;
    const convo = await page(`/console/t/${alpha}/conversations/${theirs}`);
    expect(convo.status).toBe(404);
    expect(convo.html).not.toContain("bravo");
    const person = await page(`/console/t/${alpha}/contacts/${contact?.id}`);
    expect(person.status).toBe(404);
    expect(person.html).not.toContain("bravo");
    const refused = (await auditRows(svc.db, "console.refused")).filter((r) => r.actor === agent.email);
    expect(refused.map((r) => r.target)).toEqual([
      `GET /console/t/${alpha}/conversations/${theirs}`,
      `GET /console/t/${alpha}/contacts/${contact?.id}`,
    ]);
    expect(refused.every((r) => r.tenantId === alpha)).toBe(true);
  });

  test("B's tenant in the URL is a 404 and an audit row", async () => {
    const [theirs] = await expectedIds(bravo);
    const res = await page(`/console/t/${bravo}/conversations/${theirs}`);
    expect(res.status).toBe(404);
    expect(res.html).not.toContain("bravo message");
    const refusals = (await auditRows(svc.db, "admin.sign_in_failed")).filter(
      (r) => r.target === `GET /console/t/${bravo}/conversations/${theirs}`,
    );
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.summary).toEqual({ reason: "other_tenant" });
  });
});

describe("customer text", () => {
  test("is escaped in the list and in the timeline", async () => {
    const attack = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
    const [row] = await raw(svc.db)<{ id: string }[]>`
      insert into sessions (id, tenant_id, identity_id, channel, turns, updated_at)
      values (gen_random_uuid(), ${alpha}, 'user:xss', 'web', 1, now() + interval '10 years') returning id`;
    await raw(svc.db)`
      insert into messages (tenant_id, session_id, role, content, tokens)
      values (${alpha}, ${row?.id}, 'user', ${attack}, 5)`;
    for (const path of [list(), `/console/t/${alpha}/conversations/${row?.id}`]) {
      const { html, status } = await page(path);
      expect(status).toBe(200);
      expect(html).toContain(
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;",
      );
      expect(html).not.toContain("<img src=x");
      expect(html).not.toContain('<script>alert("x")');
    }
  });
});

describe("a person across channels", () => {
  let ada: Awaited<ReturnType<typeof seedPerson>>;
  beforeAll(async () => {
    ada = await seedPerson(svc.db, alpha);
  });

  test("one timeline: web, SMS, voice and e-mail merged by time, labelled, the escalation inline", async () => {
    const { html, status } = await page(`/console/t/${alpha}/conversations/${ada.sessions.web}`);
    expect(status).toBe(200);
    const order = [
      "web: do you open on Sundays?",
      "reply to web",
      "sms: I want to book a table",
      "reply to sms",
      "wants a table for six",
      "voice: is my table ready?",
      "voice reply: yes",
      "email: please send the invoice",
    ].map((text) => html.indexOf(text));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).not.toContain("lookup_booking");
    for (const label of ["Web chat", "SMS", "E-mail", "Voice (call transcript)", "Escalated"])
      expect(html).toContain(label);
    expect(html).toContain(`href="/console/t/${alpha}/contacts/${ada.contactId}"`);
    expect(html).toContain(`href="/console/t/${alpha}/conversations/${ada.sessions.sms}"`);
  });

  test("the contact: found by search, their details, leads and timeline; erasure for admins only", async () => {
    const search = await page(`/console/t/${alpha}/contacts?q=lovelace`);
    expect(search.ids).toEqual([ada.contactId]);
    const byPhone = await page(`/console/t/${alpha}/contacts?q=${encodeURIComponent("(555) 000-1111")}`);
    expect(byPhone.ids).toEqual([ada.contactId]);
    const detail = await page(`/console/t/${alpha}/contacts/${ada.contactId}`);
    expect(detail.status).toBe(200);
    for (const text of ["ada@example.com", "+15550001111", "table for six", "voice: is my table ready?"])
      expect(detail.html).toContain(text);
    expect(detail.html).not.toContain("Erase contact");
    const admin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
    const asAdmin = await page(`/console/t/${alpha}/contacts/${ada.contactId}`, admin);
    expect(asAdmin.html).toContain(
      `data-api="DELETE /api/v1/admin/tenants/${alpha}/contacts/${ada.contactId}"`,
    );
  });

  test("leads: filtered by status, with the export link that downloads them with the session", async () => {
    const open = await page(`/console/t/${alpha}/leads?status=new`);
    expect(open.html).toContain("Ada Lovelace");
    expect(open.html).toContain(`data-api="PATCH /api/v1/admin/tenants/${alpha}/leads/`);
    expect((await page(`/console/t/${alpha}/leads?status=won`)).html).not.toContain("Ada Lovelace");
    expect((await page(`/console/t/${alpha}/leads?status=bogus`)).status).toBe(400);
    const href = open.html.match(/href="([^"]+format=csv[^"]*)"/)?.[1];
    expect(href).toBe(`/api/v1/admin/tenants/${alpha}/leads?status=new&amp;format=csv`);
    const csv = await fetch(`${svc.url}${htmlUnescape(href as string)}`, {
      headers: consoleHeaders(agent, { csrf: false }),
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(await csv.text()).toContain("Ada Lovelace");
  });
});
