import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "../emulators/intercom";
import { bearer, eventually, raw, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * POST /internal/retention over HTTP: data is made through the real endpoints, some of it is aged past each
 * limit (the database's clock cannot be moved, so its timestamps are), and one call purges exactly that.
 */
const SECRET = "retention-test-intercom-client-secret";
const INTERNAL = "retention-test-internal-secret";
const JWT_SECRET = "retention-test-jwt-secret-0123456789abcdef";

let intercom: IntercomEmulator;
let db: Database;
let drop: () => Promise<void>;
let svc: TestService;

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startTestService(db, {
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_BASE: intercom.url,
    INTERCOM_WEBHOOK_SECRET: SECRET,
    INTERNAL_SHARED_SECRET: INTERNAL,
    JWT_SECRET,
    POLLING_INTERVAL: "0",
    RETENTION_INTERVAL: "0",
    // One answer spends a guest's daily budget.
    BUDGETS: JSON.stringify({
      guest: { daily: 150, monthly: null },
      free: { daily: 50_000, monthly: 500_000 },
      premium: { daily: 200_000, monthly: 3_000_000 },
      enterprise: { daily: null, monthly: null },
    }),
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await intercom?.close();
});

const purge = (base = svc.url, headers: Record<string, string> = { "x-internal-token": INTERNAL }) =>
  fetch(`${base}/internal/retention`, { method: "POST", headers });

async function chat(message: string, headers: Record<string, string> = {}) {
  const res = await svc.post("/api/v1/chat", { message }, headers);
  return { res, body: (await res.json()) as { sessionId: string; sessionToken?: string } };
}

function notify(topic: string, item: Record<string, unknown>) {
  const n = signedNotification(SECRET, topic, item);
  return fetch(`${svc.url}/webhooks/intercom`, { method: "POST", headers: n.headers, body: n.body });
}

const count = async (query: string) => (await raw(db).unsafe<{ n: number }[]>(query))[0]?.n ?? 0;

async function age(table: string, column: string, interval: string, where: string) {
  await raw(db).unsafe(`update ${table} set ${column} = ${column} - interval '${interval}' where ${where}`);
}

/** Three Intercom conversations: answered, handed to a person, and one still waiting (Intercom said 429). */
async function seedIntercom() {
  const answered = intercom.createConversation({ body: "How do I reset my password?" });
  const handedOver = intercom.createConversation({ body: "I want to talk to a person" });
  const waiting = intercom.createConversation({ body: "Where are my invoices?" });
  intercom.failNext({ status: 429, pathIncludes: `/conversations/${waiting.id}`, resetInSeconds: 3600 });
  for (const conv of [answered, handedOver, waiting]) {
    const res = await notify("conversation.user.created", intercom.webhookItem(conv.id, { parts: "none" }));
    expect(res.status).toBe(200);
  }
  await eventually(
    () =>
      count(
        `select count(*)::int as n from outbox where status = 'pending' or (conversation_id = '${waiting.id}' and last_error is null)`,
      ),
    (n) => n === 1,
  );
  return { answered: answered.id, handedOver: handedOver.id, waiting: waiting.id };
}

describe("POST /internal/retention", () => {
  test("refuses callers without the internal credential, with the uniform error body", async () => {
    const attempts: Record<string, string>[] = [{}, { "x-internal-token": "not-the-internal-secret" }];
    for (const headers of attempts) {
      const res = await purge(svc.url, headers);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error).toMatchObject({ code: "unauthorized", requestId: res.headers.get("x-request-id") });
    }
  });

  test("rows older than each limit go, newer rows and pending work stay, and budgets still refuse", async () => {
    const old = await chat("How do I reset my password?");
    const fresh = await chat("How do I invite my team?");
    const overBudget = bearer(fresh.body.sessionToken ?? "");
    expect((await svc.post("/api/v1/chat", { message: "And roles?" }, overBudget)).status).toBe(429);
    const enterprise = bearer(
      await new SignJWT({ tier: "enterprise" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("long-conversation")
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(JWT_SECRET)),
    );
    const live = await chat("What plans are there?", enterprise);
    expect(
      (
        await svc.post(
          "/api/v1/chat",
          { message: "And billing?", sessionId: live.body.sessionId },
          enterprise,
        )
      ).status,
    ).toBe(200);
    const conv = await seedIntercom();

    // Past each limit (defaults: sessions 90 d, ledger 395 d, deliveries 30 d, outbox 30 d, handoffs 90 d,
    // rate-limit windows 48 h).
    const oldSession = `id = '${old.body.sessionId}'`;
    const [{ identityId } = { identityId: "" }] = await raw(db)<{ identityId: string }[]>`
      select identity_id from sessions where id = ${old.body.sessionId}`;
    await age("sessions", "updated_at", "91 days", oldSession);
    await age("messages", "created_at", "91 days", `session_id = '${old.body.sessionId}'`);
    // The live session: its two oldest messages are old, the first of them already in the summary.
    const liveIds = (
      await raw(db)<{ id: string }[]>`
        select id::text from messages where session_id = ${live.body.sessionId} order by messages.id`
    ).map((r) => r.id);
    await age("messages", "created_at", "91 days", `id in (${liveIds[0]}, ${liveIds[1]})`);
    await raw(
      db,
    )`update sessions set summary = 'Asked about plans.', summarized_through = ${liveIds[0] ?? "0"} where id = ${live.body.sessionId}`;
    await age("usage_ledger", "created_at", "396 days", `session_id = '${old.body.sessionId}'`);
    await age("usage_counters", "period_start", "400 days", `identity_id = '${identityId}'`);
    // One window (a new guest's first turn writes only its client-address windows, no per-identity one).
    await age(
      "rate_limit_windows",
      "window_start",
      "49 hours",
      "(key, window_start) = (select key, window_start from rate_limit_windows order by key, window_start limit 1)",
    );
    const [answeredDelivery] = await raw(db)<{ notificationId: string }[]>`
      select notification_id from webhook_deliveries order by received_at limit 1`;
    await age(
      "webhook_deliveries",
      "received_at",
      "31 days",
      `notification_id = '${answeredDelivery?.notificationId}'`,
    );
    await age("outbox", "completed_at", "31 days", `conversation_id = '${conv.answered}'`);
    await age("outbox", "created_at", "100 days", `conversation_id = '${conv.waiting}'`);
    await age("handoffs", "completed_at", "91 days", `conversation_id = '${conv.handedOver}'`);
    await age(
      "intercom_conversations",
      "updated_at",
      "91 days",
      `conversation_id in ('${conv.handedOver}', '${conv.waiting}')`,
    );

    const res = await purge();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { done: boolean; purged: Record<string, number> };
    expect(body).toMatchObject({
      done: true,
      purged: {
        messages: 3,
        sessions: 1,
        usageLedger: 1,
        usageCounters: 2,
        webhookDeliveries: 1,
        outbox: 1,
        handoffs: 1,
        conversations: 1,
        rateLimitWindows: 1,
      },
    });

    // Newer rows stay.
    expect(await count(`select count(*)::int as n from sessions where ${oldSession}`)).toBe(0);
    expect(
      await count(`select count(*)::int as n from messages where session_id = '${fresh.body.sessionId}'`),
    ).toBe(2);
    expect(
      (
        await raw(db)<{ id: string }[]>`
        select id::text from messages where session_id = ${live.body.sessionId} order by messages.id`
      ).map((r) => r.id),
    ).toEqual(liveIds.slice(1));
    expect(await count("select count(*)::int as n from webhook_deliveries")).toBe(2);
    expect(await count("select count(*)::int as n from handoffs")).toBe(0);
    expect(
      await count(`select count(*)::int as n from usage_counters where identity_id = '${identityId}'`),
    ).toBe(0);
    const [{ overBudgetId } = { overBudgetId: "" }] = await raw(db)<{ overBudgetId: string }[]>`
      select identity_id as over_budget_id from sessions where id = ${fresh.body.sessionId}`;
    expect(
      await count(`select count(*)::int as n from usage_counters where identity_id = '${overBudgetId}'`),
    ).toBe(2);
    expect(await count("select count(*)::int as n from rate_limit_windows")).toBeGreaterThanOrEqual(3);
    // Pending work stays, however old, and so does its conversation's state.
    expect(
      await count(
        `select count(*)::int as n from outbox where status = 'pending' and conversation_id = '${conv.waiting}'`,
      ),
    ).toBe(1);
    expect(
      await count(
        `select count(*)::int as n from intercom_conversations where conversation_id = '${conv.waiting}'`,
      ),
    ).toBe(1);
    // The budget of the current day still refuses.
    const refused = await svc.post("/api/v1/chat", { message: "Still there?" }, overBudget);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("budget_exceeded");

    // Nothing left to do: a second call purges nothing.
    const again = (await (await purge()).json()) as { done: boolean; purged: Record<string, number> };
    expect(again.done).toBe(true);
    expect(Object.values(again.purged).every((n) => n === 0)).toBe(true);
  });

  test("a call deletes in bounded batches within its time budget, and the next call continues", async () => {
    const batched = await startTestService(db, {
      INTERNAL_SHARED_SECRET: INTERNAL,
      RETENTION_INTERVAL: "0",
      RETENTION_BATCH_SIZE: "2",
      // No time for a second round: one batch per kind per call.
      RETENTION_TIME_BUDGET_MS: "0",
    });
    try {
      for (let i = 0; i < 5; i++) expect((await notify("conversation.admin.noted", {})).status).toBe(200);
      await age("webhook_deliveries", "received_at", "31 days", "topic = 'conversation.admin.noted'");
      const calls: { done: boolean; deleted: number }[] = [];
      for (let i = 0; i < 3; i++) {
        const body = (await (await purge(batched.url)).json()) as {
          done: boolean;
          purged: { webhookDeliveries: number };
        };
        calls.push({ done: body.done, deleted: body.purged.webhookDeliveries });
      }
      expect(calls).toEqual([
        { done: false, deleted: 2 },
        { done: false, deleted: 2 },
        { done: true, deleted: 1 },
      ]);
    } finally {
      await batched.close();
    }
  });

  test("sessions go in the same call as their messages, however many batches the messages take", async () => {
    const batched = await startTestService(db, {
      INTERNAL_SHARED_SECRET: INTERNAL,
      RETENTION_INTERVAL: "0",
      RETENTION_BATCH_SIZE: "2",
    });
    try {
      const ids: string[] = [];
      for (const message of ["How do I reset my password?", "How do refunds work?", "What plans are there?"])
        ids.push((await chat(message)).body.sessionId);
      const list = ids.map((id) => `'${id}'`).join(", ");
      await age("sessions", "updated_at", "91 days", `id in (${list})`);
      await age("messages", "created_at", "91 days", `session_id in (${list})`);
      const body = (await (await purge(batched.url)).json()) as {
        done: boolean;
        purged: { sessions: number; messages: number };
      };
      expect(body).toMatchObject({ done: true, purged: { sessions: 3, messages: 6 } });
      expect(await count(`select count(*)::int as n from sessions where id in (${list})`)).toBe(0);
    } finally {
      await batched.close();
    }
  });
});
