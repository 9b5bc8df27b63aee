import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { GeminiProvider } from "../../service/src/adapters/gemini";
import { LocalKnowledgeProvider } from "../../service/src/adapters/local-model";
import type { Sql } from "../../service/src/db/client";
import { upsertContactByPhone } from "../../service/src/db/contacts";
import { migrate } from "../../service/src/db/migrate";
import { createTenant } from "../../service/src/db/platform";
import { inTenant } from "../../service/src/db/tenant-scope";
import { erasePerson } from "../../service/src/engine/erasure";
import { Extractor } from "../../service/src/engine/extraction/extractor";
import { extractionSweep } from "../../service/src/engine/extraction/idle-sweep";
import { ContactInsights } from "../../service/src/engine/extraction/insights";
import { changeLeadStatus } from "../../service/src/engine/extraction/leads";
import type { OutboundEvent, OutboundEvents } from "../../service/src/engine/follow-up";
import type { Sweep } from "../../service/src/engine/sweeps";
import { createLogger } from "../../service/src/logger";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { testDatabase } from "./helpers";
import { modelStack } from "./tenant-fixtures";

/**
 * Contacts, summaries and leads from finished conversations: after a call (the voice channel's
 * CallInsights) and for chat/SMS sessions gone quiet (the poll's sweep), with the local rules and with
 * Gemini's structured output through the real SDK against the emulator. Events go to a fake OutboundEvents
 * that records what would be delivered and when it was dispatched.
 */

const log = createLogger({ level: "silent" });
let sql: Sql;
let inspect: Sql;
let drop: () => Promise<void>;
let gemini: GeminiEmulator;

class FakeEvents implements OutboundEvents {
  recorded: OutboundEvent[] = [];
  dispatched = 0;
  async record(tx: Sql, event: OutboundEvent) {
    // Recorded in the caller's transaction: it must be able to use it.
    await tx`select 1`;
    this.recorded.push(event);
    return async () => {
      this.dispatched++;
    };
  }
}

beforeAll(async () => {
  const t = await testDatabase();
  sql = t.db.sql;
  inspect = t.inspect;
  drop = t.drop;
  await migrate(sql);
  gemini = await startGeminiEmulator();
});
afterAll(async () => {
  await drop?.();
  await gemini?.close();
});

let counter = 0;
async function tenant(settings: Record<string, unknown> = {}) {
  counter++;
  return (await createTenant(sql, { slug: `insights-${counter}`, name: `Insights ${counter}`, settings })).id;
}

const BOOKING_CALL = [
  {
    role: "assistant",
    text: "Hello, thanks for calling. Our prices start at $40.",
    createdAt: "2026-11-30T10:00:00Z",
  },
  {
    role: "user",
    text: "Hi, this is Ada Lovelace. I'd like to book an appointment for Tuesday, it's urgent. My email is Ada@Example.com",
    createdAt: "2026-11-30T10:00:05Z",
  },
  { role: "tool", text: "calendar lookup", createdAt: "2026-11-30T10:00:06Z" },
  { role: "assistant", text: "Tuesday at 10 works.", createdAt: "2026-11-30T10:00:07Z" },
];

async function storeCall(tenantId: string, from: string, transcript: unknown[]) {
  return inTenant(tenantId, async () => {
    const [row] = await sql<{ id: string }[]>`
      insert into calls (call_control_id, conversation_id, from_number, to_number, transcript, duration_sec, reason)
      values (${`leg-${crypto.randomUUID()}`}, ${`conv-${crypto.randomUUID()}`}, ${from}, '+15550001111', ${sql.json(transcript as never)}, 42, 'user_hangup')
      returning id`;
    return row?.id as string;
  });
}

function localInsights(events: OutboundEvents) {
  const extractor = new Extractor({ provider: new LocalKnowledgeProvider(sql), model: "unused" });
  return new ContactInsights({ sql, extractor, events, log });
}

function geminiInsights(events: OutboundEvents) {
  const provider = new GeminiProvider({ apiKey: gemini.apiKey, baseUrl: gemini.url, timeoutMs: 5000, log });
  const extractor = new Extractor({ provider, model: "gemini-2.5-flash-lite" });
  return new ContactInsights({ sql, extractor, events, log });
}

describe("after a call, with the local rules (the offline default)", () => {
  test("the call gets its summary, the caller a contact with the e-mail and name they gave, and a lead", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const insights = localInsights(events);
    const callId = await storeCall(t, "+14155550123", BOOKING_CALL);
    const result = await inTenant(t, () => insights.afterCall(callId));
    expect(result.extraction).toMatchObject({
      name: "Ada Lovelace",
      email: "ada@example.com",
      intent: "booking",
      urgency: "high",
      wantsPerson: false,
    });
    const rows = await inTenant(t, async () => ({
      contact: await sql`select phone, email, name, channels from contacts where id = ${result.contactId}`,
      call: await sql<
        { summary: string; contactId: string }[]
      >`select summary, contact_id from calls where id = ${callId}`,
      leads: await sql`select id, status, intent, source_kind, source_id from leads`,
    }));
    expect(rows.contact).toEqual([
      { phone: "+14155550123", email: "ada@example.com", name: "Ada Lovelace", channels: ["voice"] },
    ]);
    expect(rows.call[0]?.contactId).toBe(result.contactId);
    expect(rows.call[0]?.summary).toContain("book an appointment");
    expect(rows.leads).toEqual([
      { id: result.leadId, status: "new", intent: "booking", sourceKind: "call", sourceId: callId },
    ]);
    expect(events.recorded.map((e) => [e.type, e.orderingKey])).toEqual([["lead.created", result.contactId]]);
    expect(events.recorded[0]?.data).toMatchObject({
      lead: { id: result.leadId, intent: "booking", source: { channel: "voice", kind: "call", id: callId } },
      contact: { id: result.contactId, email: "ada@example.com", phone: "+14155550123" },
    });
    expect(events.dispatched).toBe(1);
  });

  test("the same call event three times: one extraction, one lead, one event", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const insights = localInsights(events);
    const callId = await storeCall(t, "+14155550124", BOOKING_CALL);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await inTenant(t, () => insights.afterCall(callId)));
    expect(new Set(results.map((r) => r.leadId)).size).toBe(1);
    expect(results[2]?.extraction?.intent).toBe("booking");
    expect(events.recorded).toHaveLength(1);
    const [counts] = await inspect<{ extractions: number; leads: number }[]>`
      select (select count(*)::int from extractions where tenant_id = ${t}) as extractions,
             (select count(*)::int from leads where tenant_id = ${t}) as leads`;
    expect(counts).toEqual({ extractions: 1, leads: 1 });
  });

  test("a second call of the same caller updates their open lead (lead.updated, same contact order key)", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const insights = localInsights(events);
    const firstCall = await storeCall(t, "+14155550125", BOOKING_CALL);
    const first = await inTenant(t, () => insights.afterCall(firstCall));
    const second = await inTenant(t, async () =>
      insights.afterCall(
        await storeCall(t, "+14155550125", [
          { role: "user", text: "How much is the premium plan? I want to buy it." },
        ]),
      ),
    );
    expect(second.contactId).toBe(first.contactId);
    expect(second.leadId).toBe(first.leadId);
    expect(events.recorded.map((e) => e.type)).toEqual(["lead.created", "lead.updated"]);
    expect(events.recorded[1]).toMatchObject({
      orderingKey: first.contactId,
      data: { lead: { intent: "purchase" } },
    });
    // The first call's event delivered again: the same answer (the lead it made), nothing recorded.
    const again = await inTenant(t, () => insights.afterCall(firstCall));
    expect(again).toMatchObject({ contactId: first.contactId, leadId: first.leadId });
    expect(events.recorded).toHaveLength(2);
  });

  test("an intent outside the tenant's lead criteria makes a contact and a summary, no lead", async () => {
    const t = await tenant({ leads: { intents: ["purchase"] } });
    const events = new FakeEvents();
    const callId = await storeCall(t, "+14155550126", BOOKING_CALL);
    const result = await inTenant(t, () => localInsights(events).afterCall(callId));
    expect(result.extraction?.intent).toBe("booking");
    expect(result.contactId).not.toBeNull();
    expect(result.leadId).toBeNull();
    expect(events.recorded).toEqual([]);
  });

  test("a run that fails while applying (events down) is left failed, thrown, and retried once by the sweep", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    let down = true;
    const flaky: OutboundEvents = {
      record: (tx, event) => {
        if (down) throw Object.assign(new Error("outbox unavailable"), { code: "EOUTBOX" });
        return events.record(tx, event);
      },
    };
    const insights = localInsights(flaky);
    const callId = await storeCall(t, "+14155550129", BOOKING_CALL);
    await expect(inTenant(t, () => insights.afterCall(callId))).rejects.toThrow("outbox unavailable");
    const row = async () =>
      (
        await inTenant(
          t,
          () => sql<{ status: string; error: string }[]>`
        select status, error from extractions where subject_id = ${callId}`,
        )
      )[0];
    expect(await row()).toEqual({ status: "failed", error: "the extraction could not be applied (EOUTBOX)" });
    // Nothing of the run was kept: no lead, no summary (the lead and the event are one transaction).
    const [call] = await inTenant(
      t,
      () => sql<{ summary: string | null }[]>`select summary from calls where id = ${callId}`,
    );
    expect(call?.summary).toBeNull();
    down = false;
    const sweep = extractionSweep({ sql, insights, log }, { defaultIdleMinutes: 30, batch: 50 });
    expect(await runFor(sweep, callId)).toBe(1);
    expect((await row())?.status).toBe("succeeded");
    expect(events.recorded.map((e) => e.type)).toEqual(["lead.created"]);
  });

  test("a caller asking for a person is read as such", async () => {
    const t = await tenant();
    const callId = await storeCall(t, "+14155550127", [
      { role: "user", text: "My internet is not working. Can I talk to a real person please?" },
    ]);
    const result = await inTenant(t, () => localInsights(new FakeEvents()).afterCall(callId));
    expect(result.extraction).toMatchObject({ intent: "support", wantsPerson: true });
    expect(result.leadId).toBeNull();
  });

  test("a call that is not stored (or another tenant's) gives nothing and writes nothing", async () => {
    const t = await tenant();
    const other = await tenant();
    const callId = await storeCall(other, "+14155550128", BOOKING_CALL);
    const result = await inTenant(t, () => localInsights(new FakeEvents()).afterCall(callId));
    expect(result).toEqual({ extraction: null, contactId: null, leadId: null });
    const [row] = await inspect<
      { n: number }[]
    >`select count(*)::int as n from extractions where subject_id = ${callId}`;
    expect(row?.n).toBe(0);
  });
});

const GOOD = {
  name: "Grace Hopper",
  email: "GRACE@navy.example",
  phone: "(415) 555-0199",
  company: "Navy",
  intent: "purchase",
  urgency: "normal",
  summary: "Grace wants to buy 20 seats of the team plan.",
  wantsPerson: false,
  followUps: ["Send a quote for 20 seats"],
};

describe("after a call, with Gemini's structured output (real SDK, emulator)", () => {
  beforeEach(() => gemini.reset());

  test("the request asks for JSON of the extraction schema; the answer is validated and applied", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    gemini.enqueue({ kind: "text", text: JSON.stringify(GOOD) });
    const callId = await storeCall(t, "+14155550130", [{ role: "user", text: "I want 20 seats" }]);
    const result = await inTenant(t, () => geminiInsights(events).afterCall(callId));
    const request = gemini.requests.find((r) => r.path.endsWith(":generateContent"));
    const config = (request?.body as { generationConfig: Record<string, unknown> }).generationConfig;
    expect(config.responseMimeType).toBe("application/json");
    expect(config.responseJsonSchema).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["intent"]),
    });
    expect(JSON.stringify(request?.body)).toContain("Customer: I want 20 seats");
    // Normalised: the e-mail lower-cased, the phone E.164; the caller's own number is the contact's phone.
    expect(result.extraction).toMatchObject({
      email: "grace@navy.example",
      phone: "+14155550199",
      intent: "purchase",
    });
    const [contact] = await inTenant(t, () => sql`select phone, email, name, company from contacts`);
    expect(contact).toEqual({
      phone: "+14155550130",
      email: "grace@navy.example",
      name: "Grace Hopper",
      company: "Navy",
    });
    expect(events.recorded.map((e) => e.type)).toEqual(["lead.created"]);
    const [call] = await inTenant(t, () => sql`select summary from calls where id = ${callId}`);
    expect(call?.summary).toBe(GOOD.summary);
    // The model call is in the tenant's usage ledger (cost reporting), under the caller's number.
    const ledger = await inTenant(
      t,
      () => sql`select identity_id, channel, purpose, provider, outcome from usage_ledger`,
    );
    expect(ledger).toEqual([
      {
        identityId: "phone:+14155550130",
        channel: "voice",
        purpose: "extraction",
        provider: "gemini",
        outcome: "ok",
      },
    ]);
  });

  test("output that fails the schema is a failed extraction, retried once by the sweep, never a crash", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const insights = geminiInsights(events);
    const sweep = extractionSweep({ sql, insights, log }, { defaultIdleMinutes: 30, batch: 50 });
    gemini.enqueue(
      { kind: "text", text: JSON.stringify({ ...GOOD, intent: "world domination" }) },
      { kind: "text", text: '{"name": "truncat' },
    );
    const callId = await storeCall(t, "+14155550131", [{ role: "user", text: "hello" }]);
    const first = await inTenant(t, () => insights.afterCall(callId));
    expect(first).toEqual({ extraction: null, contactId: null, leadId: null });
    const row = async () =>
      (
        await inTenant(
          t,
          () => sql<{ status: string; attempts: number; error: string; result: unknown }[]>`
        select status, attempts, error, result from extractions where subject_id = ${callId}`,
        )
      )[0];
    expect(await row()).toMatchObject({ status: "failed", attempts: 1, result: null });
    expect((await row())?.error).toContain("intent");
    // The sweep retries it once: the truncated answer fails too; then it is left alone.
    expect(await runFor(sweep, callId)).toBe(1);
    expect(await row()).toMatchObject({ status: "failed", attempts: 2 });
    expect((await row())?.error).toContain("not JSON");
    const calls = gemini.requests.length;
    expect(await runFor(sweep, callId)).toBe(0);
    expect(gemini.requests.length).toBe(calls);
    expect(events.recorded).toEqual([]);
    const [call] = await inTenant(
      t,
      () => sql<{ summary: string | null }[]>`select summary from calls where id = ${callId}`,
    );
    expect(call?.summary).toBeNull();
  });

  test("a retry that succeeds applies the extraction", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const insights = geminiInsights(events);
    const sweep = extractionSweep({ sql, insights, log }, { defaultIdleMinutes: 30, batch: 50 });
    gemini.enqueue({ kind: "error", status: 503 }, { kind: "text", text: JSON.stringify(GOOD) });
    const callId = await storeCall(t, "+14155550132", [{ role: "user", text: "I want 20 seats" }]);
    expect((await inTenant(t, () => insights.afterCall(callId))).extraction).toBeNull();
    expect(await runFor(sweep, callId)).toBe(1);
    const [row] = await inTenant(
      t,
      () => sql`select status, attempts from extractions where subject_id = ${callId}`,
    );
    expect(row).toEqual({ status: "succeeded", attempts: 2 });
    expect(events.recorded.map((e) => e.type)).toEqual(["lead.created"]);
  });
});

/** Runs the sweep and says how many times it picked this subject (other files' rows are other tenants'). */
async function runFor(sweep: Sweep, subjectId: string): Promise<number> {
  const before = await inspect<
    { attempts: number }[]
  >`select attempts from extractions where subject_id = ${subjectId}`;
  await sweep.run();
  const after = await inspect<
    { attempts: number }[]
  >`select attempts from extractions where subject_id = ${subjectId}`;
  return (after[0]?.attempts ?? 0) - (before[0]?.attempts ?? 0);
}

describe("quiet chat and SMS conversations, from the poll's sweep", () => {
  async function session(
    t: string,
    identity: string,
    channel: string,
    texts: string[],
    quietMinutes: number,
  ) {
    const id = crypto.randomUUID();
    await inTenant(t, async () => {
      await sql`insert into sessions (id, identity_id, channel, external_ref) values (${id}, ${identity}, ${channel}, ${channel === "sms" ? identity.slice(6) : null})`;
      await addMessages(id, texts);
    });
    await quiet(id, quietMinutes);
    return id;
  }
  async function addMessages(sessionId: string, texts: string[]) {
    for (const [i, text] of texts.entries()) {
      const role = i % 2 === 0 ? "user" : "assistant";
      await sql`insert into messages (session_id, role, content, tokens) values (${sessionId}, ${role}, ${text}, 1)`;
    }
  }
  const quiet = (id: string, minutes: number) =>
    inspect`update sessions set updated_at = now() - make_interval(mins => ${minutes}) where id = ${id}`;

  test("an SMS thread quiet for the idle time is extracted once; new messages make it due again", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const sweep = extractionSweep(
      { sql, insights: localInsights(events), log },
      { defaultIdleMinutes: 30, batch: 50 },
    );
    const id = await session(
      t,
      "phone:+14155550140",
      "sms",
      ["Can I get a quote for 3 licences?", "Sure."],
      45,
    );
    const busy = await session(t, "phone:+14155550141", "sms", ["I want to buy a plan"], 5);
    await sweep.run();
    const extracted = async () =>
      inspect<{ subjectId: string; attempts: number; throughMessageId: string }[]>`
        select subject_id, attempts, through_message_id::text from extractions where tenant_id = ${t} order by subject_id`;
    expect((await extracted()).map((r) => r.subjectId)).toEqual([id]);
    const [linked] = await inTenant(
      t,
      () =>
        sql<{ contactId: string; phone: string; channels: string[] }[]>`
        select s.contact_id, c.phone, c.channels from sessions s join contacts c on c.id = s.contact_id where s.id = ${id}`,
    );
    expect(linked).toMatchObject({ phone: "+14155550140", channels: ["sms"] });
    // The quiet conversation is closed (with what was read in it), and its lead created, in that order.
    expect(events.recorded.map((e) => e.type)).toEqual(["conversation.closed", "lead.created"]);
    expect(events.recorded[0]).toMatchObject({
      orderingKey: linked?.contactId,
      data: { sessionId: id, channel: "sms", contactId: linked?.contactId, intent: "purchase" },
    });
    // Nothing new: nothing done on the next polls.
    await sweep.run();
    expect(await extracted()).toHaveLength(1);
    expect(events.recorded).toHaveLength(2);
    // The conversation went on and went quiet again: read again, closed again, the open lead updated.
    await inTenant(t, () => addMessages(id, ["Actually make it 5 licences, how much?"]));
    await quiet(id, 40);
    await sweep.run();
    expect(events.recorded.map((e) => e.type)).toEqual([
      "conversation.closed",
      "lead.created",
      "conversation.closed",
      "lead.updated",
    ]);
    expect(busy).toBeTruthy();
  });

  test("a tenant's own idle time decides when its conversations are read", async () => {
    const t = await tenant({ extraction: { idleMinutes: 120 } });
    const sweep = extractionSweep(
      { sql, insights: localInsights(new FakeEvents()), log },
      { defaultIdleMinutes: 30, batch: 50 },
    );
    const id = await session(t, "phone:+14155550142", "sms", ["I'd like to book a table"], 60);
    await sweep.run();
    const n = async () =>
      (await inspect<{ n: number }[]>`select count(*)::int as n from extractions where subject_id = ${id}`)[0]
        ?.n;
    expect(await n()).toBe(0);
    await quiet(id, 130);
    await sweep.run();
    expect(await n()).toBe(1);
  });

  test("an Intercom conversation's contact is the Intercom contact the pipeline recorded", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const sweep = extractionSweep(
      { sql, insights: localInsights(events), log },
      { defaultIdleMinutes: 30, batch: 50 },
    );
    const id = crypto.randomUUID();
    await inTenant(t, async () => {
      await sql`insert into sessions (id, identity_id, channel, external_ref) values (${id}, 'intercom:ic-77', 'intercom', 'conv-77')`;
      await sql`insert into intercom_conversations (channel, conversation_id, contact_id) values ('intercom', 'conv-77', 'ic-77')`;
      await addMessages(id, ["I want to book a demo for Friday"]);
    });
    await quiet(id, 45);
    await sweep.run();
    const [contact] = await inTenant(
      t,
      () =>
        sql`select c.intercom_contact_id, c.channels from sessions s join contacts c on c.id = s.contact_id where s.id = ${id}`,
    );
    expect(contact).toEqual({ intercomContactId: "ic-77", channels: ["intercom"] });
    expect(events.recorded.map((e) => e.type)).toEqual(["conversation.closed", "lead.created"]);
  });

  test("a web chat without any handle gets a summary but no contact; one with an e-mail gets both", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const sweep = extractionSweep(
      { sql, insights: localInsights(events), log },
      { defaultIdleMinutes: 30, batch: 50 },
    );
    const anonymous = await session(t, "guest:abc", "web", ["What is the price of the pro plan?"], 31);
    // Stored unredacted (a tenant with redaction off): the rules read the address the customer typed.
    const known = await session(
      t,
      "guest:def",
      "web",
      ["I want to buy the pro plan, I'm at bob@example.org"],
      31,
    );
    await sweep.run();
    const rows = await inTenant(
      t,
      () =>
        sql<
          { id: string; contactId: string | null }[]
        >`select id, contact_id from sessions where id in (${anonymous}, ${known})`,
    );
    expect(rows.find((r) => r.id === anonymous)?.contactId).toBeNull();
    const knownContact = rows.find((r) => r.id === known)?.contactId;
    expect(knownContact).toBeTruthy();
    const [contact] = await inTenant(
      t,
      () => sql`select email, channels from contacts where id = ${knownContact as string}`,
    );
    expect(contact).toEqual({ email: "bob@example.org", channels: ["web"] });
    // Both conversations closed (the anonymous one with no contact); one lead, of the buyer.
    expect(events.recorded.map((e) => e.type).sort()).toEqual([
      "conversation.closed",
      "conversation.closed",
      "lead.created",
    ]);
  });
});

describe("events of people's decisions", () => {
  test("a lead's status change records lead.updated in its transaction, ordered by the contact", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const first = await inTenant(t, async () =>
      localInsights(events).afterCall(await storeCall(t, "+14155550150", BOOKING_CALL)),
    );
    const lead = await inTenant(t, () => changeLeadStatus({ sql, events }, first.leadId as string, "won"));
    expect(lead?.status).toBe("won");
    expect(events.recorded.map((e) => [e.type, e.orderingKey])).toEqual([
      ["lead.created", first.contactId],
      ["lead.updated", first.contactId],
    ]);
    expect(events.recorded[1]?.data).toMatchObject({ lead: { id: first.leadId, status: "won" } });
    expect(events.dispatched).toBe(2);
    // Another tenant's lead: nothing changed, nothing recorded.
    const other = await tenant();
    expect(
      await inTenant(other, () => changeLeadStatus({ sql, events }, first.leadId as string, "lost")),
    ).toBeUndefined();
    expect(events.recorded).toHaveLength(2);
  });

  test("an erasure records contact.erased with the contact's id and handles, for the CRM to erase too", async () => {
    const t = await tenant();
    const events = new FakeEvents();
    const result = await inTenant(t, async () =>
      localInsights(new FakeEvents()).afterCall(await storeCall(t, "+14155550151", BOOKING_CALL)),
    );
    const erased = await inTenant(t, () =>
      erasePerson(
        { sql, key: Buffer.alloc(32, 1), log, events },
        {
          externalId: "email:ada@example.com",
          userIdentityIds: [],
          contactId: null,
          email: "ada@example.com",
          actor: "test",
          requestId: "req-1",
        },
      ),
    );
    expect(erased.counts).toMatchObject({ contacts: 1, calls: 1, leads: 1, extractions: 1 });
    expect(events.recorded).toEqual([
      {
        type: "contact.erased",
        orderingKey: result.contactId,
        data: {
          contactId: result.contactId,
          handles: { phone: "+14155550151", email: "ada@example.com", intercomContactId: null },
        },
      },
    ]);
    expect(events.dispatched).toBe(1);
  });
});

describe("conversations linked to their contact as they happen (the engine)", () => {
  test("a texting customer's session is their number's contact from the first turn; a typed e-mail joins it", async () => {
    const t = await tenant();
    const stack = await modelStack(sql);
    const phone = "+14155550160";
    const turn = (message: string) =>
      stack.engine.respond({
        identity: { id: `phone:${phone}`, kind: "phone", tier: "free" },
        channel: "sms",
        externalRef: phone,
        message,
      });
    const contact = await inTenant(t, () => upsertContactByPhone(sql, phone));
    const { sessionId } = await inTenant(t, () => turn("hello there"));
    const linked = async () =>
      (
        await inTenant(
          t,
          () => sql<{ contactId: string; email: string | null; n: number }[]>`
        select s.contact_id, c.email, (select count(*)::int from contacts) as n
        from sessions s join contacts c on c.id = s.contact_id where s.id = ${sessionId}`,
        )
      )[0];
    expect(await linked()).toEqual({ contactId: contact.id, email: null, n: 1 });
    await inTenant(t, () => turn("my email is Sky@Example.com"));
    expect(await linked()).toEqual({ contactId: contact.id, email: "sky@example.com", n: 1 });
  });
});
