import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { CallEnded, CallInsightsGenerated } from "../../service/src/channels/voice/events";
import { VoiceGreeter } from "../../service/src/channels/voice/greeter";
import type { VoiceNumbers } from "../../service/src/channels/voice/numbers";
import { newVoiceToken } from "../../service/src/channels/voice/url-token";
import { tenantVoiceBlock } from "../../service/src/channels/voice/variables";
import type { Database, Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { createLogger } from "../../service/src/logger";
import { initializationBody, newCallIds } from "../emulators/telnyx-voice";
import { testDatabase } from "./helpers";
import { createTenant } from "./sms-fakes";
import { extraction, type VoiceWorld, voiceWorld } from "./voice-fakes";

/**
 * The voice channel through the inbound pipeline, with fakes of the follow-up interfaces other areas build
 * (CallInsights, Escalations, OutboundEvents): each call is stored and followed up once, however often
 * Telnyx delivers its events and whatever fails on the way; and the dynamic variables on a failing database.
 */

let db: Database;
let inspect: Sql;
let drop: () => Promise<void>;
let tenantId: string;
let world: VoiceWorld;
const CALLER = "+15557654321";
const NUMBER = "+15550100002";

beforeAll(async () => {
  const t = await testDatabase();
  ({ db, inspect, drop } = t);
  await migrate(db.sql);
  tenantId = await createTenant(inspect, `voice-${randomUUID().slice(0, 8)}`);
});
afterAll(async () => {
  await drop?.();
});
beforeEach(() => {
  world = voiceWorld(db, tenantId);
});

function ended(o: Partial<CallEnded> = {}): CallEnded {
  const ids = newCallIds();
  return {
    kind: "ended",
    eventId: randomUUID(),
    callControlId: ids.callControlId,
    conversationId: ids.conversationId,
    callSessionId: ids.callSessionId,
    assistantId: ids.assistantId,
    from: CALLER,
    to: NUMBER,
    durationSec: 61,
    reason: "user_hangup",
    occurredAt: new Date().toISOString(),
    ...o,
  };
}

function transcriptOf(event: CallEnded, userText = "My sink leaks; call me on 415 555 0199.") {
  world.client.conversations.set(event.conversationId, [
    { role: "assistant", text: "Globex, how can I help?", createdAt: "2026-11-30T10:00:00Z" },
    { role: "user", text: userText, createdAt: "2026-11-30T10:00:05Z" },
  ]);
}

const callsOf = (event: CallEnded) =>
  inspect`select id, contact_id, transcript, insights, ended_at from calls where call_control_id = ${event.callControlId}`;

describe("a completed call", () => {
  test("delivered three times: one call row, one contact, afterCall once, one call.completed in the call's transaction", async () => {
    const event = ended();
    transcriptOf(event);
    const acks = [await world.deliver(event), await world.deliver(event), await world.deliver(event)];
    expect(acks.map((a) => a.status)).toEqual(["accepted", "duplicate", "duplicate"]);
    expect(await world.work()).toEqual(["skipped"]);
    const rows = await callsOf(event);
    expect(rows).toHaveLength(1);
    const [contacts] = await inspect`select count(*)::int as n from contacts where phone = ${CALLER}`;
    expect(contacts?.n).toBe(1);
    expect(rows[0]?.contactId).not.toBeNull();
    expect(JSON.stringify(rows[0]?.transcript)).not.toContain("555 0199");
    expect(world.insights.calls).toEqual([rows[0]?.id]);
    expect(world.events.recorded).toHaveLength(1);
    expect(world.events.recorded[0]).toMatchObject({
      event: {
        type: "call.completed",
        orderingKey: rows[0]?.contactId,
        data: { callId: rows[0]?.id, from: CALLER },
      },
      // Recorded with the call (the row visible to it), dispatched after the commit.
      sawCall: true,
      dispatched: true,
    });
    expect(world.escalations.opened).toEqual([]);
  });

  test("a caller who asked for a person: an escalation on the voice channel with the call's summary", async () => {
    world.insights.next = extraction({ wantsPerson: true, summary: "Wants a plumber to call back today." });
    const event = ended();
    transcriptOf(event, "Let me talk to a person please.");
    await world.deliver(event);
    await world.work();
    const [call] = await callsOf(event);
    expect(world.escalations.opened).toEqual([
      {
        channel: "voice",
        conversationId: event.callControlId,
        contactId: call?.contactId,
        reason: "asked_for_person",
        summary: "Wants a plumber to call back today.",
      },
    ]);
  });

  test("Telnyx refusing the transcript: retried, then stored and followed up once", async () => {
    const event = ended();
    transcriptOf(event);
    world.client.failures = [503];
    await world.deliver(event);
    expect(await world.work()).toEqual(["retry"]);
    expect(await callsOf(event)).toHaveLength(0);
    expect(world.events.recorded).toHaveLength(0);
    await inspect`update outbox set lease_until = null where conversation_id = ${event.callControlId}`;
    expect(await world.work()).toEqual(["skipped"]);
    expect(await callsOf(event)).toHaveLength(1);
    expect(world.insights.calls).toHaveLength(1);
    expect(world.events.recorded).toHaveLength(1);
  });

  test("call.completed failing to record: the call is not stored either, and the retry stores both once", async () => {
    const event = ended();
    transcriptOf(event);
    world.events.failNext = true;
    await world.deliver(event);
    expect(await world.work()).toEqual(["retry"]);
    expect(await callsOf(event)).toHaveLength(0);
    expect(world.insights.calls).toEqual([]);
    await inspect`update outbox set lease_until = null where conversation_id = ${event.callControlId}`;
    expect(await world.work()).toEqual(["skipped"]);
    expect(await callsOf(event)).toHaveLength(1);
    expect(world.events.recorded).toHaveLength(1);
  });

  test("a follow-up failing after the call was stored: retried without a second call.completed", async () => {
    const event = ended();
    transcriptOf(event);
    world.insights.throwOnce = true;
    await world.deliver(event);
    expect(await world.work()).toEqual(["retry"]);
    await inspect`update outbox set lease_until = null where conversation_id = ${event.callControlId}`;
    expect(await world.work()).toEqual(["skipped"]);
    expect(await callsOf(event)).toHaveLength(1);
    expect(world.events.recorded).toHaveLength(1);
    // Idempotent per call (the CallInsights contract): the retry asks again for the same call.
    expect(new Set(world.insights.calls).size).toBe(1);
  });

  test("a connection disconnected before the task ran: finished as not connected, nothing stored", async () => {
    const event = ended();
    await world.deliver(event);
    world.disconnect();
    await world.work();
    expect(await callsOf(event)).toHaveLength(0);
    const [row] =
      await inspect`select status, outcome from outbox where conversation_id = ${event.callControlId}`;
    expect(row).toEqual({ status: "skipped", outcome: "channel_not_connected" });
  });

  test("insights first, then the end: one row with both, each stored once", async () => {
    const event = ended();
    transcriptOf(event);
    const insights: CallInsightsGenerated = {
      kind: "insights",
      eventId: randomUUID(),
      callControlId: event.callControlId,
      callSessionId: event.callSessionId,
      insightGroupId: "group-1",
      results: [{ insightId: "summary", result: "Leaking sink" }],
    };
    await world.deliver(insights);
    await world.deliver({ ...insights, eventId: randomUUID() });
    await world.work();
    await world.deliver(event);
    await world.work();
    const rows = await callsOf(event);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.insights).toHaveLength(1);
    expect(rows[0]?.endedAt).not.toBeNull();
    expect(world.events.recorded).toHaveLength(1);
  });
});

describe("dynamic variables when the database fails", () => {
  const token = newVoiceToken();
  const connection = {
    connectionId: randomUUID(),
    phoneNumber: NUMBER,
    credentials: { publicKey: "", apiKey: "k", voiceToken: token },
  };
  const numbers = (byNumber: VoiceNumbers["byNumber"]): VoiceNumbers => ({
    byNumber,
    byConnectionId: async () => ({ kind: "unknown" }),
    refused: () => {},
    secretsOf: async () => undefined,
  });
  const block = tenantVoiceBlock(
    { name: "Globex", settings: { promptVariables: { hours: "9 to 5" } } },
    { days: new Set([1, 2, 3, 4, 5]), start: 540, end: 1020, timeZone: "UTC" },
  );
  const request = (body: string) => ({
    body: new TextEncoder().encode(body),
    header: () => undefined,
    url: "https://voice.test/webhooks/telnyx/voice/dynamic-variables",
    receivedAt: new Date(),
  });
  const body = initializationBody({ from: CALLER, to: NUMBER }, newCallIds());
  const never = () => new Promise<never>(() => {});
  const log = createLogger({ level: "silent" });

  test("a caller statement that never answers: the tenant's block, no caller, still an answer", async () => {
    const hung = (() => never()) as unknown as Sql;
    const greeter = new VoiceGreeter({
      sql: hung,
      log,
      numbers: numbers(async () => ({ kind: "found", tenantId, connection })),
      tenantBlock: async () => block,
      callerTimeoutMs: 50,
    });
    const answer = await greeter.answer(request(body), token);
    expect(answer).toMatchObject({
      status: "ok",
      variables: { business_name: "Globex", hours: "9 to 5", caller_name: "", caller_open_escalations: "0" },
    });
  });

  test("a caller statement that fails: the same", async () => {
    const failing = (() => Promise.reject(new Error("connection refused"))) as unknown as Sql;
    const greeter = new VoiceGreeter({
      sql: failing,
      log,
      numbers: numbers(async () => ({ kind: "found", tenantId, connection })),
      tenantBlock: async () => block,
    });
    const answer = await greeter.answer(request(body), token);
    expect(answer).toMatchObject({
      status: "ok",
      variables: { business_name: "Globex", caller_known: "false" },
    });
  });

  test("routing that never answers (a cold cache on a stuck database): the safe defaults", async () => {
    const greeter = new VoiceGreeter({
      sql: db.sql,
      log,
      numbers: numbers(() => never()),
      tenantBlock: async () => block,
      routeTimeoutMs: 50,
    });
    const answer = await greeter.answer(request(body), token);
    expect(answer).toMatchObject({ status: "ok", variables: { business_name: "", caller_name: "" } });
  });

  test("a token that is not this connection's is refused, another connection's included", async () => {
    const greeter = new VoiceGreeter({
      sql: db.sql,
      log,
      numbers: numbers(async () => ({ kind: "found", tenantId, connection })),
      tenantBlock: async () => block,
    });
    for (const wrong of [newVoiceToken(), token.slice(0, -1), `${token}A`, ""])
      expect(await greeter.answer(request(body), wrong)).toEqual({ status: "rejected" });
    const tokenless = { ...connection, credentials: { publicKey: "", apiKey: "k" } };
    const old = new VoiceGreeter({
      sql: db.sql,
      log,
      numbers: numbers(async () => ({ kind: "found", tenantId, connection: tokenless })),
      tenantBlock: async () => block,
    });
    expect(await old.answer(request(body), token)).toEqual({ status: "rejected" });
  });

  test("routing that throws: the safe defaults", async () => {
    const greeter = new VoiceGreeter({
      sql: db.sql,
      log,
      numbers: numbers(() => Promise.reject(new Error("secret store unavailable"))),
      tenantBlock: async () => block,
    });
    const answer = await greeter.answer(request(body), undefined);
    expect(answer).toMatchObject({ status: "ok", variables: { business_name: "" } });
  });
});
