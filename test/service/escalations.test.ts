import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database, Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { setSlackWebhookRef } from "../../service/src/db/notifications";
import { purgeResolvedEscalations } from "../../service/src/db/retention";
import { asPlatform, inTenant } from "../../service/src/db/tenant-scope";
import { saveUnbilledMessages } from "../../service/src/db/turns";
import { parseWeeklyHours } from "../../service/src/domain/business-hours";
import type { PreparedTurn } from "../../service/src/engine/conversation-engine";
import { type EscalationSettings, TenantEscalations } from "../../service/src/engine/escalations";
import { FALLBACK_REPLY } from "../../service/src/engine/fallback";
import { WebHandoff } from "../../service/src/engine/web-handoff";
import { createLogger } from "../../service/src/logger";
import { FakeOutboundEvents } from "./escalation-fakes";
import { LogCapture, testDatabase } from "./helpers";
import { FakeQueue } from "./pipeline-fakes";
import { createTenant } from "./sms-fakes";

/**
 * Escalations on a real database: opening one (or joining the conversation's unresolved one) with its
 * notifications and its event in one transaction, the customer's notice by business hours, claim and
 * resolve with the bot's silence and resumption.
 */

let db: Database;
let inspect: Sql;
let drop: () => Promise<void>;
let tenantA: string;

const weekdays = {
  ...(parseWeeklyHours("Mon-Fri 09:00-17:00") as { days: Set<number>; start: number; end: number }),
  timeZone: "Europe/Berlin",
};
// Friday 2026-03-06: 11:00 in Berlin (open), then 18:30 (closed until Monday).
const OPEN = new Date("2026-03-06T10:00:00Z");
const CLOSED = new Date("2026-03-06T17:30:00Z");

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  inspect = t.inspect;
  drop = t.drop;
  await migrate(db.sql);
  tenantA = await createTenant(inspect, "esc-a");
});
afterAll(async () => {
  await drop?.();
});

function desk(opts: { now?: Date; settings?: Partial<EscalationSettings>; mailer?: boolean } = {}) {
  const events = new FakeOutboundEvents();
  const queue = new FakeQueue();
  const settings: EscalationSettings = {
    emails: ["team@example.com", "boss@example.com"],
    resumeBotOnResolve: true,
    intercomInbox: true,
    hours: weekdays,
    ...opts.settings,
  };
  const escalations = new TenantEscalations({
    sql: db.sql,
    events,
    queue,
    log: createLogger({ level: "info", destination: new LogCapture() }),
    settings: async () => settings,
    mailer: opts.mailer ?? true,
    now: () => opts.now ?? OPEN,
  });
  return { escalations, events, queue };
}

const request = (conversationId: string = randomUUID()) => ({
  channel: "web" as const,
  conversationId,
  contactId: null,
  reason: "customer_request",
  summary: "Wants a refund for order 12",
});

const notificationsOf = (escalationId: string) =>
  inspect<{ kind: string; target: string; status: string }[]>`
    select kind, target, status from notifications where escalation_id = ${escalationId} order by kind, target`;

describe("opening an escalation", () => {
  test("writes one notification per target and the escalation.created event, dispatched after commit", async () => {
    await inTenant(tenantA, () => setSlackWebhookRef(db.sql, "db:slack-ref"));
    const { escalations, events, queue } = desk();
    const opened = await inTenant(tenantA, () => escalations.open(request()));
    expect(opened.created).toBe(true);
    expect(await notificationsOf(opened.id)).toEqual([
      { kind: "email", target: "boss@example.com", status: "pending" },
      { kind: "email", target: "team@example.com", status: "pending" },
      { kind: "slack", target: "db:slack-ref", status: "pending" },
    ]);
    expect(events.recorded).toMatchObject([
      {
        type: "escalation.created",
        tenantId: tenantA,
        data: { id: opened.id, status: "open", channel: "web" },
      },
    ]);
    expect(events.dispatched).toBe(1);
    expect(queue.tasks.map((t) => [t.kind, t.tenantId])).toEqual([
      ["notification", tenantA],
      ["notification", tenantA],
      ["notification", tenantA],
    ]);
    await inTenant(tenantA, () => setSlackWebhookRef(db.sql, null));
  });

  test("a second handoff of the conversation joins its unresolved escalation: nobody is told twice", async () => {
    const { escalations, events, queue } = desk();
    const first = request();
    const a = await inTenant(tenantA, () => escalations.open(first));
    const b = await inTenant(tenantA, () => escalations.open({ ...first, reason: "low_confidence" }));
    expect(b).toMatchObject({ id: a.id, created: false });
    expect(events.types()).toEqual(["escalation.created"]);
    expect(queue.tasks).toHaveLength(2);
    expect(await notificationsOf(a.id)).toHaveLength(2);
  });

  test("the event and the escalation commit together: a failed record leaves no escalation", async () => {
    const { escalations, events } = desk();
    events.failRecord = true;
    const conversationId = randomUUID();
    await expect(inTenant(tenantA, () => escalations.open(request(conversationId)))).rejects.toThrow();
    const rows = await inspect`select 1 from escalations where conversation_id = ${conversationId}`;
    expect(rows).toHaveLength(0);
  });

  test("without a mailer no e-mail is promised; without any target the escalation still opens", async () => {
    const { escalations, queue } = desk({ mailer: false });
    const opened = await inTenant(tenantA, () => escalations.open(request()));
    expect(opened.created).toBe(true);
    expect(await notificationsOf(opened.id)).toEqual([]);
    expect(queue.tasks).toEqual([]);
  });
});

describe("the customer's notice", () => {
  test("promises a reply shortly in business hours, and names the next opening after them", async () => {
    const inHours = await inTenant(tenantA, () => desk({ now: OPEN }).escalations.open(request()));
    expect(inHours.notice).toBe("Thanks. A person from our team will reply to you here shortly.");
    const after = await inTenant(tenantA, () => desk({ now: CLOSED }).escalations.open(request()));
    expect(after.notice).toBe(
      "Thanks. Our team is away now; a person will reply to you here once we open at 09:00 GMT+1 on Monday.",
    );
    const sms = await inTenant(tenantA, () =>
      desk({ now: CLOSED }).escalations.open({ ...request(), channel: "sms" }),
    );
    expect(sms.notice).toContain("text you back here once we open at 09:00 GMT+1 on Monday");
  });

  test("the tenant's own handoff messages replace the generated ones", async () => {
    const settings = { message: "Hang on, Sam is coming.", afterHoursMessage: "We reply on Monday." };
    const inHours = await inTenant(tenantA, () => desk({ now: OPEN, settings }).escalations.open(request()));
    expect(inHours.notice).toBe("Hang on, Sam is coming.");
    const after = await inTenant(tenantA, () => desk({ now: CLOSED, settings }).escalations.open(request()));
    expect(after.notice).toBe("We reply on Monday.");
  });
});

describe("claiming and resolving", () => {
  test("a claim silences the bot; another person's claim is refused; resolving resumes the bot", async () => {
    const { escalations, events } = desk();
    const conversationId = `+1415555${Math.floor(1000 + Math.random() * 8999)}`;
    await inspect`
      insert into intercom_conversations (tenant_id, channel, conversation_id, mode)
      values (${tenantA}, 'sms', ${conversationId}, 'human')`;
    const opened = await inTenant(tenantA, () =>
      escalations.open({ ...request(conversationId), channel: "sms" }),
    );
    expect(await inTenant(tenantA, () => escalations.silenced("sms", conversationId))).toBe(false);
    const claimed = await inTenant(tenantA, () => escalations.claim(opened.id, "user:ann"));
    expect(claimed).toMatchObject({ status: "claimed", claimedBy: "user:ann" });
    expect(await inTenant(tenantA, () => escalations.silenced("sms", conversationId))).toBe(true);
    expect(await inTenant(tenantA, () => escalations.claim(opened.id, "user:ann"))).toMatchObject({
      status: "claimed",
    });
    expect(await inTenant(tenantA, () => escalations.claim(opened.id, "user:bob"))).toBe("claimed_by_other");
    const resolved = await inTenant(tenantA, () => escalations.resolve(opened.id, "user:ann"));
    expect(resolved).toMatchObject({ resolved: true, row: { status: "resolved", resolvedBy: "user:ann" } });
    expect(events.types()).toEqual(["escalation.created", "escalation.resolved"]);
    expect(await inTenant(tenantA, () => escalations.silenced("sms", conversationId))).toBe(false);
    const [mode] = await inspect<{ mode: string }[]>`
      select mode from intercom_conversations where tenant_id = ${tenantA} and conversation_id = ${conversationId}`;
    expect(mode?.mode).toBe("bot");
    // Resolved twice: the same row, no second event; a claim of it is refused.
    expect(await inTenant(tenantA, () => escalations.resolve(opened.id, "user:bob"))).toMatchObject({
      resolved: false,
    });
    expect(events.types()).toHaveLength(2);
    expect(await inTenant(tenantA, () => escalations.claim(opened.id, "user:bob"))).toBe("resolved");
    // A new handoff after resolution opens a new escalation.
    const again = await inTenant(tenantA, () =>
      escalations.open({ ...request(conversationId), channel: "sms" }),
    );
    expect(again).toMatchObject({ created: true });
    expect(again.id).not.toBe(opened.id);
  });

  test("a tenant that keeps people on resolved conversations: the bot stays silent after resolution", async () => {
    const { escalations } = desk({ settings: { resumeBotOnResolve: false } });
    const conversationId = `+1415556${Math.floor(1000 + Math.random() * 8999)}`;
    await inspect`
      insert into intercom_conversations (tenant_id, channel, conversation_id, mode)
      values (${tenantA}, 'sms', ${conversationId}, 'human')`;
    const opened = await inTenant(tenantA, () =>
      escalations.open({ ...request(conversationId), channel: "sms" }),
    );
    await inTenant(tenantA, () => escalations.resolve(opened.id, "user:ann"));
    const [mode] = await inspect<{ mode: string }[]>`
      select mode from intercom_conversations where tenant_id = ${tenantA} and conversation_id = ${conversationId}`;
    expect(mode?.mode).toBe("human");
  });

  test("an unknown escalation is not found", async () => {
    const { escalations } = desk();
    expect(await inTenant(tenantA, () => escalations.claim(randomUUID(), "user:ann"))).toBe("not_found");
    expect(await inTenant(tenantA, () => escalations.resolve(randomUUID(), "user:ann"))).toBeUndefined();
  });
});

describe("the web chat's fallback", () => {
  const turn = (sessionId: string) =>
    ({
      input: { identity: { id: "anon:x", kind: "anonymous", tier: "guest" }, channel: "web", message: "hi" },
      session: undefined,
      history: [],
      sessionId,
      text: "hi",
      budget: { status: "ok", remaining: null },
      startedAt: 0,
    }) as unknown as PreparedTurn;

  test("that promised a person opens an escalation; an article or an answer does not", async () => {
    const { escalations, events } = desk();
    const web = new WebHandoff({
      sql: db.sql,
      escalations,
      rules: { requestPattern: /\bperson\b/i, lowConfidenceLimit: 2, maxAttempts: 5 },
    });
    // The engine stored the fallback's turn before: the session exists.
    const promised = randomUUID();
    await inTenant(tenantA, () =>
      saveUnbilledMessages(
        db.sql,
        { sessionId: promised, identityId: "anon:x", channel: "web", externalRef: null },
        [{ role: "user", content: "hi", tokens: 1 }],
      ),
    );
    const id = await inTenant(tenantA, () =>
      web.after(turn(promised), { outcome: "fallback", reply: FALLBACK_REPLY }),
    );
    const [row] = await inspect<{ id: string; reason: string }[]>`
      select id::text, reason from escalations where conversation_id = ${promised}`;
    expect(row).toEqual({ id, reason: "model_unavailable" });
    expect(events.types()).toEqual(["escalation.created"]);
    const article = await inTenant(tenantA, () =>
      web.after(turn(randomUUID()), {
        outcome: "fallback",
        reply: "I can't reach the assistant right now, but …",
      }),
    );
    const answered = await inTenant(tenantA, () =>
      web.after(turn(randomUUID()), { outcome: "answered", reply: FALLBACK_REPLY }),
    );
    expect([article, answered]).toEqual([undefined, undefined]);
    expect(events.types()).toHaveLength(1);
  });
});

describe("retention", () => {
  test("a resolved escalation goes after the handoffs' time, with its notifications; an open one never", async () => {
    const { escalations } = desk();
    const old = await inTenant(tenantA, () => escalations.open(request()));
    const recent = await inTenant(tenantA, () => escalations.open(request()));
    const waiting = await inTenant(tenantA, () => escalations.open(request()));
    await inTenant(tenantA, async () => {
      await escalations.resolve(old.id, "agent-1");
      await escalations.resolve(recent.id, "agent-1");
    });
    await inspect`update escalations set resolved_at = now() - interval '40 days' where id = ${old.id}`;
    await inspect`update escalations set created_at = now() - interval '400 days' where id = ${waiting.id}`;
    const purged = await asPlatform(() => purgeResolvedEscalations(db.sql, 30, 1000));
    expect(purged).toBe(1);
    const left = await inspect<{ id: string }[]>`
      select id::text from escalations where id in (${old.id}, ${recent.id}, ${waiting.id}) order by id`;
    expect(left.map((r) => r.id).sort()).toEqual([recent.id, waiting.id].sort());
    expect(await notificationsOf(old.id)).toEqual([]);
  });
});
