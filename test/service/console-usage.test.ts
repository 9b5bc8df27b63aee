import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AdminService, adminSuite, asKey, createTenant } from "./admin-helpers";
import { type ConsoleLogin, consoleHeaders, consoleLogin } from "./console-helpers";
import { raw } from "./helpers";

/**
 * The console's usage page (console/pages/usage.tsx): its numbers against usage_ledger, sessions,
 * escalations and budget counters seeded for two tenants (the other tenant's never counted), its CSV
 * downloads and its budget meters; only tenant admins of the tenant (and platform admins) open it.
 */

let svc: AdminService;
let stop: () => Promise<void>;
let alpha: string;
let bravo: string;
let admin: ConsoleLogin;

const DAY = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
const monthStart = `${today.slice(0, 7)}-01`;
const noon = (day: string) => `${day}T12:00:00Z`;

interface Call {
  day: string;
  model: string;
  channel: string;
  purpose?: string;
  tokens: [number, number, number];
  cost: number;
  outcome?: string;
}

async function ledger(tenantId: string, call: Call) {
  const [input, output, thoughts] = call.tokens;
  await raw(svc.db)`
    insert into usage_ledger (tenant_id, identity_id, channel, purpose, provider, model, input_tokens,
      output_tokens, cached_tokens, thoughts_tokens, cost_usd, latency_ms, outcome, created_at)
    values (${tenantId}, 'user:x', ${call.channel}, ${call.purpose ?? "chat"}, 'fake', ${call.model}, ${input},
      ${output}, 0, ${thoughts}, ${call.cost}, 5, ${call.outcome ?? "ok"}, ${noon(call.day)})`;
}

async function activity(tenantId: string, day: string, channel: string, escalated: boolean) {
  const id = randomUUID();
  await raw(svc.db)`
    insert into sessions (id, tenant_id, identity_id, channel, created_at)
    values (${id}, ${tenantId}, 'user:x', ${channel}, ${noon(day)})`;
  if (!escalated) return;
  await raw(svc.db)`
    insert into escalations (tenant_id, channel, conversation_id, session_id, reason, created_at)
    values (${tenantId}, ${channel}, ${id}, ${id}, 'asked for a person', ${noon(day)})`;
}

async function counters(tenantId: string, day: number, month: number) {
  await raw(svc.db)`
    insert into usage_counters (tenant_id, identity_id, period, period_start, tokens)
    values (${tenantId}, 'tenant:total', 'day', ${today}, ${day}),
      (${tenantId}, 'tenant:total', 'month', ${monthStart}, ${month})`;
}

beforeAll(async () => {
  ({ svc, stop } = await adminSuite());
  alpha = (await createTenant(svc, "alpha")).id;
  bravo = (await createTenant(svc, "bravo")).id;
  const budget = { tenantBudget: { dailyTokens: 10_000, monthlyTokens: 100_000 } };
  expect((await svc.call("PATCH", `/api/v1/admin/tenants/${alpha}/settings`, budget, asKey)).status).toBe(
    200,
  );
  const gemini = { model: "gemini-2.5-flash" };
  await ledger(alpha, { ...gemini, day: today, channel: "web", tokens: [100, 50, 0], cost: 0.001 });
  await ledger(alpha, { ...gemini, day: today, channel: "web", tokens: [100, 50, 0], cost: 0.001 });
  await ledger(alpha, {
    model: "local",
    day: today,
    channel: "sms",
    tokens: [10, 5, 0],
    cost: 0,
    outcome: "fallback",
  });
  await ledger(alpha, {
    ...gemini,
    day: yesterday,
    channel: "sms",
    purpose: "summary",
    tokens: [1000, 0, 20],
    cost: 0.01,
  });
  await ledger(alpha, {
    ...gemini,
    day: yesterday,
    channel: "web",
    tokens: [7, 0, 0],
    cost: 0,
    outcome: "error",
  });
  await activity(alpha, today, "web", false);
  await activity(alpha, today, "sms", true);
  await counters(alpha, 1500, 42_000);
  // Bravo's numbers are large and would show in any of alpha's if they leaked.
  await ledger(bravo, { ...gemini, day: today, channel: "web", tokens: [99_999, 0, 0], cost: 9 });
  await activity(bravo, today, "web", true);
  await counters(bravo, 7777, 77_777);
  admin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
});
afterAll(async () => {
  await stop?.();
});

const get = (path: string, login = admin) => fetch(`${svc.url}${path}`, { headers: consoleHeaders(login) });
const csv = async (chart: string, days = 7) => {
  const res = await get(`/console/t/${alpha}/usage.csv?chart=${chart}&days=${days}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
  expect(res.headers.get("content-disposition")).toMatch(new RegExp(`attachment; filename="usage-${chart}-`));
  return (await res.text()).trim().split("\r\n");
};
const quietDays = (n: number, columns: number) =>
  Array.from({ length: n }, () => `,${Array(columns).fill('"0"').join(",")}`);

describe("the usage page", () => {
  test("shows every chart as SVG with its table and CSV link, and the budget meters", async () => {
    const res = await get(`/console/t/${alpha}/usage?days=7`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const title of [
      "Tokens per day by model",
      "Cost per day by channel (USD)",
      "Answers per day by outcome",
    ])
      expect(html).toContain(title);
    expect(html.match(/<svg viewBox="0 0 720 260" role="img"/g)).toHaveLength(7);
    expect(html.match(/<summary>Show as table<\/summary>/g)).toHaveLength(7);
    expect(html).toContain(`/console/t/${alpha}/usage.csv?chart=outcomes&amp;days=7`);
    expect(html).toMatch(/<meter id="budget-day" min="0" max="10000"[^>]* value="1500"/);
    expect(html).toContain("1,500 of 10,000 tokens (15%)");
    expect(html).toContain("42,000 of 100,000 tokens (42%)");
    expect(html).not.toContain("7,777");
    expect(html).toContain("1,342 in 7 days"); // alpha's tokens: 1,027 yesterday + 315 today
  });

  test("counts tokens per day by model, the tenant's own only", async () => {
    const lines = await csv("tokens-by-model");
    expect(lines[0]).toBe('"day","gemini-2.5-flash","local","total"');
    expect(lines.slice(-2)).toEqual([`"${yesterday}","1027","0","1027"`, `"${today}","300","15","315"`]);
    expect(lines).toHaveLength(8);
    expect(lines.slice(1, 6).map((l) => l.slice(12))).toEqual(quietDays(5, 3));
  });

  test("counts cost per day by channel", async () => {
    const lines = await csv("cost-by-channel");
    expect(lines[0]).toBe('"day","sms","web","total"');
    expect(lines.slice(-2)).toEqual([`"${yesterday}","0.01","0","0.01"`, `"${today}","0","0.002","0.002"`]);
  });

  test("counts answers by outcome, with the day's escalations as handed off", async () => {
    const lines = await csv("outcomes");
    expect(lines[0]).toBe('"day","Answered","Fallback answer","Failed","Handed off","total"');
    expect(lines.slice(-2)).toEqual([`"${yesterday}","0","0","1","0","1"`, `"${today}","2","1","0","1","4"`]);
  });

  test("counts conversations and escalations per day by channel", async () => {
    expect((await csv("conversations")).slice(-1)).toEqual([`"${today}","1","1","2"`]);
    expect((await csv("escalations")).slice(-1)).toEqual([`"${today}","1","1"`]);
    expect((await csv("escalations", 30)).length).toBe(31);
  });

  test("refuses an unknown chart or period", async () => {
    expect((await get(`/console/t/${alpha}/usage.csv?chart=secrets&days=7`)).status).toBe(400);
    expect((await get(`/console/t/${alpha}/usage?days=1000`)).status).toBe(400);
  });

  test("is for the tenant's admins: an agent gets 403, another tenant's admin 404", async () => {
    const agent = await consoleLogin(svc.db, { role: "agent", tenantId: alpha });
    expect((await get(`/console/t/${alpha}/usage`, agent)).status).toBe(403);
    const other = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: bravo });
    expect((await get(`/console/t/${alpha}/usage`, other)).status).toBe(404);
    expect((await get(`/console/t/${alpha}/usage.csv?chart=outcomes`, other)).status).toBe(404);
  });

  test("says so when no budget is set", async () => {
    const own = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: bravo });
    const html = await (await get(`/console/t/${bravo}/usage`, own)).text();
    expect(html).toContain("7,777 tokens used; no budget set.");
  });
});
