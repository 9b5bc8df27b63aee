import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type AdminService, adminSuite, createTenant } from "./admin-helpers";
import { type ConsoleLogin, consoleHeaders, consoleLogin } from "./console-helpers";
import { raw } from "./helpers";

/** The console's escalation pages (docs/console.md, "Escalations"): the queue, its stream, one escalation. */

let svc: AdminService;
let db: Database;
let stop: () => Promise<void>;
let alpha: string;
let bravo: string;
let agent: ConsoleLogin;

const XSS = `<img src=x onerror=alert(1)><script>alert(2)</script>`;

async function escalation(
  tenantId: string,
  e: { channel?: string; conversation: string; summary?: string; status?: string; minutesAgo?: number },
) {
  const [row] = await raw(db)<{ id: string }[]>`
    insert into escalations (tenant_id, channel, conversation_id, reason, summary, status, claimed_by, created_at)
    values (${tenantId}, ${e.channel ?? "sms"}, ${e.conversation}, 'customer_request', ${e.summary ?? null},
      ${e.status ?? "open"}, ${e.status === "claimed" ? "someone@example.com" : null},
      now() - make_interval(mins => ${e.minutesAgo ?? 0}))
    returning id::text`;
  return row?.id as string;
}

const page = async (path: string, login = agent) =>
  fetch(`${svc.url}${path}`, { headers: consoleHeaders(login, { csrf: false }), redirect: "manual" });

beforeAll(async () => {
  ({ db, svc, stop } = await adminSuite());
  alpha = (await createTenant(svc, "esc-pages-alpha", "Alpha")).id;
  bravo = (await createTenant(svc, "esc-pages-bravo", "Bravo")).id;
  agent = await consoleLogin(db, { role: "agent", tenantId: alpha });
});
afterAll(async () => {
  await stop?.();
});

describe("the escalation queue", () => {
  test("lists open ones first, oldest first, then claimed, with the customer's words as text", async () => {
    await escalation(alpha, { conversation: "+15550001001", summary: "newer open", minutesAgo: 5 });
    await escalation(alpha, {
      conversation: "+15550001002",
      summary: "claimed one",
      status: "claimed",
      minutesAgo: 90,
    });
    await escalation(alpha, { conversation: "+15550001003", summary: `older open ${XSS}`, minutesAgo: 30 });
    const res = await page(`/console/t/${alpha}/escalations`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const at = (s: string) => html.indexOf(s);
    expect(at("older open")).toBeGreaterThan(0);
    expect(at("older open")).toBeLessThan(at("newer open"));
    expect(at("newer open")).toBeLessThan(at("claimed one"));
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>alert(2)");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain(`data-api="POST /api/v1/admin/tenants/${alpha}/escalations/`);
    expect(html).toContain("30 min");
  });

  test("a status filter shows only that status", async () => {
    const html = await (await page(`/console/t/${alpha}/escalations?status=claimed`)).text();
    expect(html).toContain("claimed one");
    expect(html).not.toContain("newer open");
  });

  test("another tenant's queue and escalation are 404 for this agent", async () => {
    const theirs = await escalation(bravo, { conversation: "+15550001009", summary: "bravo secret" });
    expect((await page(`/console/t/${bravo}/escalations`)).status).toBe(404);
    const viaOwn = await page(`/console/t/${alpha}/escalations/${theirs}`);
    expect(viaOwn.status).toBe(404);
    expect(await viaOwn.text()).not.toContain("bravo secret");
  });

  test("the stream sends the queue's marker, and a new one when an escalation arrives", async () => {
    const controller = new AbortController();
    const res = await fetch(`${svc.url}/console/t/${alpha}/escalations/stream`, {
      headers: consoleHeaders(agent, { csrf: false }),
      signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const events: { open: number; marker: string }[] = [];
    let buffer = "";
    const next = async () => {
      for (;;) {
        const match = /event: queue\ndata: (.*)\n/.exec(buffer);
        if (match) {
          buffer = buffer.slice((match.index ?? 0) + match[0].length);
          return JSON.parse(match[1] as string) as { open: number; marker: string };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += new TextDecoder().decode(value);
      }
    };
    events.push(await next());
    await escalation(alpha, { conversation: "+15550001004", summary: "just arrived" });
    events.push(await next());
    controller.abort();
    expect(events[1]?.open).toBe((events[0]?.open ?? 0) + 1);
    expect(events[1]?.marker).not.toBe(events[0]?.marker);
  });
});

describe("an escalation's page", () => {
  test("shows the conversation as text, the summary, and an answer form with its own reply id", async () => {
    const sessionId = crypto.randomUUID();
    await raw(db)`insert into sessions (id, identity_id, channel, external_ref, tenant_id)
      values (${sessionId}, 'phone:+15550001005', 'sms', '+15550001005', ${alpha})`;
    await raw(db)`insert into messages (session_id, role, content, tokens, tenant_id) values
      (${sessionId}, 'user', ${`hello ${XSS}`}, 3, ${alpha}), (${sessionId}, 'assistant', 'We open at 9.', 3, ${alpha})`;
    const id = await escalation(alpha, { conversation: "+15550001005", summary: "wants a refund" });
    const html = await (await page(`/console/t/${alpha}/escalations/${id}`)).text();
    expect(html).toContain("wants a refund");
    expect(html).toContain("We open at 9.");
    expect(html).toContain("hello &lt;img src=x");
    expect(html).not.toContain("<script>alert(2)");
    expect(html).toContain(`data-api="POST /api/v1/admin/tenants/${alpha}/escalations/${id}/reply"`);
    expect(html).toMatch(/name="replyId" value="[0-9a-f-]{36}"/);
  });

  test("a phone call's page offers a call back instead of an answer form", async () => {
    const id = await escalation(alpha, { channel: "voice", conversation: "+15550001006" });
    const html = await (await page(`/console/t/${alpha}/escalations/${id}`)).text();
    expect(html).toContain('href="tel:+15550001006"');
    expect(html).not.toContain("/reply");
  });
});
