import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type AdminService, adminSuite, asKey, asUser, type Body, createTenant, json } from "./admin-helpers";
import { raw } from "./helpers";

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let a: Body;
let b: Body;

/** A ledger row of a tenant at a UTC time (the test seeds through its superuser connection; the API reads). */
async function spend(tenant: Body, at: string, model: string, channel: string, tokens: number, cost: number) {
  await raw(db).unsafe(
    `insert into usage_ledger (tenant_id, identity_id, channel, purpose, provider, model, input_tokens,
       output_tokens, cached_tokens, thoughts_tokens, cost_usd, latency_ms, outcome, created_at)
     values ($1, 'u', $2, 'chat', 'gemini', $3, $4, $4, 1, 0, $5, 10, 'ok', $6)`,
    [tenant.id, channel, model, tokens, cost, at],
  );
}

/** An outbound text's record of a tenant at a UTC time (`skipped` + sms_quota_reached: a quota hit). */
async function text(tenant: Body, at: string, status: string, errorCode: string | null = null) {
  await raw(db).unsafe(
    `insert into sms_messages (tenant_id, direction, provider, customer_phone, business_phone, status, error_code,
       created_at)
     values ($1, 'outbound', 'twilio', '+14155550100', '+12125550100', $2, $3, $4)`,
    [tenant.id, status, errorCode, at],
  );
}

beforeAll(async () => {
  ({ db, svc, stop } = await adminSuite());
  a = await createTenant(svc, "usage-a");
  b = await createTenant(svc, "usage-b");
  await spend(a, "2026-03-01T00:00:00Z", "gemini-2.5-flash", "web", 100, 0.001);
  await spend(a, "2026-03-01T23:59:59Z", "gemini-2.5-flash", "web", 50, 0.0005);
  await spend(a, "2026-03-01T12:00:00Z", "gemini-2.5-pro", "intercom", 10, 0.01);
  await spend(a, "2026-03-02T00:00:00Z", "gemini-2.5-flash", "web", 7, 0.0001);
  await spend(a, "2026-02-28T23:59:59Z", "gemini-2.5-flash", "web", 1000, 1);
  await spend(b, "2026-03-01T10:00:00Z", "gemini-2.5-flash", "web", 999, 9);
  await text(a, "2026-03-01T08:00:00Z", "delivered");
  await text(a, "2026-03-01T09:00:00Z", "sent");
  await text(a, "2026-03-01T10:00:00Z", "undelivered", "30003");
  await text(a, "2026-03-01T11:00:00Z", "skipped", "sms_quota_reached");
  await raw(db).unsafe(
    `insert into sms_consent (tenant_id, phone, status, source, keyword, at)
     values ($1, '+14155550100', 'opted_out', 'keyword', 'STOP', '2026-03-01T12:00:00Z')`,
    [a.id],
  );
  await text(b, "2026-03-01T08:00:00Z", "delivered");
});
afterAll(async () => {
  await stop?.();
});

const usage = (tenant: Body, query: string) => `/api/v1/admin/tenants/${tenant.id}/usage?${query}`;

describe("usage per day, model and channel", () => {
  test("rows by UTC day within the range (both ends included), with totals; another tenant's spend is not in it", async () => {
    const admin = await asUser({ sub: "usage-admin", role: "tenant_admin", tenant: a.id });
    const res = await svc.call("GET", usage(a, "from=2026-03-01&to=2026-03-01"), undefined, admin);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.rows).toEqual([
      {
        day: "2026-03-01",
        model: "gemini-2.5-flash",
        channel: "web",
        requests: 2,
        inputTokens: 150,
        outputTokens: 150,
        cachedTokens: 2,
        costUsd: 0.0015,
      },
      expect.objectContaining({ model: "gemini-2.5-pro", channel: "intercom", requests: 1, costUsd: 0.01 }),
    ]);
    expect(body.totals).toEqual({
      requests: 3,
      inputTokens: 160,
      outputTokens: 160,
      cachedTokens: 3,
      costUsd: 0.0115,
    });
  });

  test("SMS counts per day: sent, failed, opted out and quota hits; another tenant's texts are not in it", async () => {
    const res = await svc.call("GET", usage(a, "from=2026-03-01&to=2026-03-02"), undefined, asKey);
    expect(res.status).toBe(200);
    expect((await json(res)).sms).toEqual([
      { day: "2026-03-01", sent: 2, failed: 1, optedOut: 1, quotaHits: 1 },
    ]);
  });

  test("CSV on request", async () => {
    const res = await svc.call("GET", usage(a, "from=2026-03-01&to=2026-03-02&format=csv"), undefined, asKey);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toBe("day,model,channel,requests,input_tokens,output_tokens,cached_tokens,cost_usd");
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('"2026-03-02","gemini-2.5-flash","web",1,7,7,1,0.0001');
  });

  test("bad ranges are 400s; another tenant's admin gets 404", async () => {
    expect((await svc.call("GET", usage(a, "from=2026-03-02&to=2026-03-01"), undefined, asKey)).status).toBe(
      400,
    );
    expect((await svc.call("GET", usage(a, "from=2020-01-01&to=2026-03-01"), undefined, asKey)).status).toBe(
      400,
    );
    expect((await svc.call("GET", usage(a, "from=March"), undefined, asKey)).status).toBe(400);
    const adminOfB = await asUser({ sub: "usage-b-admin", role: "tenant_admin", tenant: b.id });
    expect(
      (await svc.call("GET", usage(a, "from=2026-03-01&to=2026-03-01"), undefined, adminOfB)).status,
    ).toBe(404);
  });
});
