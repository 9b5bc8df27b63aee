import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database, Sql } from "../../service/src/db/client";
import { mergeContact } from "../../service/src/db/contacts";
import { upsertOpenLead } from "../../service/src/db/leads";
import { DEFAULT_TENANT_ID, inTenant } from "../../service/src/db/tenant-scope";
import { type AdminService, adminSuite, asKey, asUser, type Body, createTenant, json } from "./admin-helpers";
import { raw } from "./helpers";

/**
 * The admin API of contacts and leads (issue 14): list and search contacts, a contact's conversations,
 * calls and leads, leads as JSON and CSV, a lead's status, and GDPR erasure by contact id, e-mail and phone
 * reaching calls, leads and extractions. Rows are written with the service's own repository functions.
 */

const INTERNAL = "contacts-test-internal-secret-0123";
let db: Database;
let sql: Sql;
let svc: AdminService;
let stop: () => Promise<void>;
let a: Body;
let b: Body;

beforeAll(async () => {
  ({ db, svc, stop } = await adminSuite({ INTERNAL_SHARED_SECRET: INTERNAL, POLLING_INTERVAL: "0" }));
  sql = db.sql;
  a = await createTenant(svc, "contacts-a");
  b = await createTenant(svc, "contacts-b");
});
afterAll(async () => {
  await stop?.();
});

const base = (t: Body) => `/api/v1/admin/tenants/${t.id}`;

/** A person with a call, a web conversation, an extraction and an open lead, in tenant `t`. */
async function person(t: Body, p: { phone: string; email: string; name: string; company?: string }) {
  return inTenant(t.id, async () => {
    const contact = await mergeContact(sql, { ...p, channel: "voice" });
    const [call] = await sql<{ id: string }[]>`
      insert into calls (call_control_id, conversation_id, from_number, contact_id, transcript, summary)
      values (${`leg-${crypto.randomUUID()}`}, ${`conv-${crypto.randomUUID()}`}, ${p.phone}, ${contact.id},
              ${sql.json([{ role: "user", text: "I want to buy", createdAt: "2026-11-30T10:00:00Z" }])},
              'Wants to buy.')
      returning id`;
    const sessionId = crypto.randomUUID();
    await sql`insert into sessions (id, identity_id, channel, contact_id, summary) values (${sessionId}, 'guest:x', 'web', ${contact.id}, 'asked about prices')`;
    await sql`insert into messages (session_id, role, content, tokens) values (${sessionId}, 'user', 'hello', 1)`;
    await sql`insert into extractions (subject_kind, subject_id, contact_id, status, result) values ('call', ${call?.id as string}, ${contact.id}, 'succeeded', ${sql.json({ name: p.name })})`;
    const lead = await upsertOpenLead(sql, {
      contactId: contact.id,
      intent: "purchase",
      urgency: "normal",
      summary: `${p.name} wants to buy`,
      followUps: ["Send a quote"],
      sourceChannel: "voice",
      sourceKind: "call",
      sourceId: call?.id as string,
    });
    return { contactId: contact.id, callId: call?.id as string, sessionId, leadId: lead.id };
  });
}

describe("contacts", () => {
  test("listed newest first, a page at a time, and searched by name, e-mail or phone however written", async () => {
    const t = await createTenant(svc, "contacts-list");
    const ada = await person(t, { phone: "+14155550201", email: "ada@example.com", name: "Ada Lovelace" });
    const bob = await person(t, { phone: "+14155550202", email: "bob@example.org", name: "Bob Builder" });
    const cy = await person(t, {
      phone: "+14155550203",
      email: "cy@example.net",
      name: "Cy Twombly",
      company: "Paint Co",
    });
    const first = await json(await svc.call("GET", `${base(t)}/contacts?limit=2`, undefined, asKey));
    expect(first.contacts.map((c: Body) => c.id)).toEqual([cy.contactId, bob.contactId]);
    expect(first.contacts[0]).toMatchObject({ name: "Cy Twombly", company: "Paint Co", channels: ["voice"] });
    const second = await json(
      await svc.call("GET", `${base(t)}/contacts?limit=2&cursor=${first.nextCursor}`, undefined, asKey),
    );
    expect(second.contacts.map((c: Body) => c.id)).toEqual([ada.contactId]);
    expect(second.nextCursor).toBeNull();
    const search = async (q: string) =>
      (
        await json(await svc.call("GET", `${base(t)}/contacts?q=${encodeURIComponent(q)}`, undefined, asKey))
      ).contacts.map((c: Body) => c.name);
    expect(await search("lovelace")).toEqual(["Ada Lovelace"]);
    expect(await search("EXAMPLE.ORG")).toEqual(["Bob Builder"]);
    expect(await search("(415) 555-0203")).toEqual(["Cy Twombly"]);
    expect(await search("paint")).toEqual(["Cy Twombly"]);
    // `%` is a literal, not a wildcard.
    expect(await search("%")).toEqual([]);
  });

  test("a contact's detail has their conversations, calls with summary and transcript, and leads", async () => {
    const p = await person(a, { phone: "+14155550210", email: "dee@example.com", name: "Dee" });
    const res = await svc.call("GET", `${base(a)}/contacts/${p.contactId}`, undefined, asKey);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.contact).toMatchObject({ id: p.contactId, email: "dee@example.com", phone: "+14155550210" });
    expect(body.conversations).toEqual([
      expect.objectContaining({ id: p.sessionId, channel: "web", summary: "asked about prices" }),
    ]);
    expect(body.calls).toEqual([
      expect.objectContaining({
        id: p.callId,
        summary: "Wants to buy.",
        transcript: [expect.objectContaining({ text: "I want to buy" })],
      }),
    ]);
    expect(body.leads).toEqual([
      expect.objectContaining({
        id: p.leadId,
        status: "new",
        source: { channel: "voice", kind: "call", id: p.callId },
      }),
    ]);
  });

  test("bad input is a 4xx with the uniform error body", async () => {
    const bad = await svc.call("GET", `${base(a)}/contacts?cursor=not-a-cursor`, undefined, asKey);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({
      code: "validation_failed",
      requestId: expect.any(String),
    });
    const missing = await svc.call("GET", `${base(a)}/contacts/${crypto.randomUUID()}`, undefined, asKey);
    expect(missing.status).toBe(404);
    expect((await svc.call("GET", `${base(a)}/contacts/not-a-uuid`, undefined, asKey)).status).toBe(400);
  });

  test("agents of the tenant may read; another tenant's agent gets 404, as for a tenant that does not exist", async () => {
    const p = await person(a, { phone: "+14155550211", email: "eve@example.com", name: "Eve" });
    const agent = await asUser({ sub: "agent-a", role: "agent", tenant: a.id });
    expect((await svc.call("GET", `${base(a)}/contacts/${p.contactId}`, undefined, agent)).status).toBe(200);
    const other = await asUser({ sub: "agent-b", role: "agent", tenant: b.id });
    expect((await svc.call("GET", `${base(a)}/contacts/${p.contactId}`, undefined, other)).status).toBe(404);
    // Nor does B's own route show A's contact.
    expect((await svc.call("GET", `${base(b)}/contacts/${p.contactId}`, undefined, asKey)).status).toBe(404);
    // Erasure is for tenant admins.
    expect((await svc.call("DELETE", `${base(a)}/contacts/${p.contactId}`, undefined, agent)).status).toBe(
      403,
    );
  });
});

describe("leads", () => {
  test("listed with their contact, filtered by status, and exported as CSV with formula cells defused", async () => {
    const t = await createTenant(svc, "leads-csv");
    const evil = await person(t, {
      phone: "+14155550220",
      email: "x@example.com",
      name: '=HYPERLINK("http://evil","x")',
    });
    const plain = await person(t, {
      phone: "+14155550221",
      email: "y@example.com",
      name: 'Yo "Quotes", Inc',
    });
    await inTenant(t.id, () => sql`update leads set status = 'won' where id = ${plain.leadId}`);
    const all = await json(await svc.call("GET", `${base(t)}/leads`, undefined, asKey));
    expect(all.leads.map((l: Body) => l.id)).toEqual([plain.leadId, evil.leadId]);
    expect(all.leads[1]).toMatchObject({
      intent: "purchase",
      contact: { email: "x@example.com", phone: "+14155550220" },
    });
    const won = await json(await svc.call("GET", `${base(t)}/leads?status=won`, undefined, asKey));
    expect(won.leads.map((l: Body) => l.id)).toEqual([plain.leadId]);

    const viaAccept = await svc.call("GET", `${base(t)}/leads`, undefined, { ...asKey, accept: "text/csv" });
    expect(viaAccept.headers.get("content-type")).toMatch(/^text\/csv/);
    const csv = await viaAccept.text();
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      '"id","status","intent","urgency","name","email","phone","company","summary","follow_ups","source_channel","source_kind","source_id","created_at","updated_at"',
    );
    expect(lines).toHaveLength(3);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csv).toContain(`"Yo ""Quotes"", Inc"`);
    expect(csv).toContain(`"'+14155550220"`);
    expect(csv).not.toMatch(/(^|,)"=/m);
    const viaQuery = await svc.call("GET", `${base(t)}/leads?format=csv&status=won`, undefined, asKey);
    expect((await viaQuery.text()).trimEnd().split("\r\n")).toHaveLength(2);
  });

  test("a lead's status is set by an agent, audited; a bad status is 400, another tenant's lead 404", async () => {
    const p = await person(a, { phone: "+14155550230", email: "gus@example.com", name: "Gus" });
    const agent = await asUser({ sub: "agent-a", role: "agent", tenant: a.id });
    const res = await svc.call("PATCH", `${base(a)}/leads/${p.leadId}`, { status: "contacted" }, agent);
    expect(res.status).toBe(200);
    expect((await json(res)).lead).toMatchObject({ id: p.leadId, status: "contacted" });
    const [audit] = await raw(db)<{ action: string; target: string }[]>`
      select action, target from audit_log where action = 'lead.updated' and target = ${p.leadId}`;
    expect(audit).toBeTruthy();
    const bad = await svc.call("PATCH", `${base(a)}/leads/${p.leadId}`, { status: "maybe" }, agent);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe("validation_failed");
    expect((await svc.call("PATCH", `${base(b)}/leads/${p.leadId}`, { status: "won" }, asKey)).status).toBe(
      404,
    );
  });

  test("reopening a lead while the contact has another open one is a 409", async () => {
    const p = await person(a, { phone: "+14155550231", email: "hal@example.com", name: "Hal" });
    expect((await svc.call("PATCH", `${base(a)}/leads/${p.leadId}`, { status: "lost" }, asKey)).status).toBe(
      200,
    );
    await inTenant(a.id, () =>
      upsertOpenLead(sql, {
        contactId: p.contactId,
        intent: "booking",
        urgency: "normal",
        summary: "again",
        followUps: [],
        sourceChannel: "web",
        sourceKind: "session",
        sourceId: p.sessionId,
      }),
    );
    const res = await svc.call("PATCH", `${base(a)}/leads/${p.leadId}`, { status: "new" }, asKey);
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("lead_conflict");
  });
});

describe("GDPR erasure reaches contacts, calls, leads and extractions", () => {
  async function left(t: Body, p: Awaited<ReturnType<typeof person>>) {
    const [row] = await raw(db)<Record<string, number>[]>`
      select (select count(*)::int from contacts where id = ${p.contactId}) as contacts,
             (select count(*)::int from calls where id = ${p.callId}) as calls,
             (select count(*)::int from leads where id = ${p.leadId}) as leads,
             (select count(*)::int from sessions where id = ${p.sessionId}) as sessions,
             (select count(*)::int from extractions where tenant_id = ${t.id} and subject_id = ${p.callId}) as extractions`;
    return row;
  }
  const none = { contacts: 0, calls: 0, leads: 0, sessions: 0, extractions: 0 };

  test("by contact id", async () => {
    const p = await person(a, { phone: "+14155550240", email: "ivy@example.com", name: "Ivy" });
    const keep = await person(a, { phone: "+14155550241", email: "jo@example.com", name: "Jo" });
    const res = await svc.call("DELETE", `${base(a)}/contacts/${p.contactId}`, undefined, asKey);
    expect(res.status).toBe(200);
    expect((await json(res)).counts).toMatchObject({
      contacts: 1,
      calls: 1,
      leads: 1,
      sessions: 1,
      extractions: 1,
    });
    expect(await left(a, p)).toEqual(none);
    expect(await left(a, keep)).toEqual({ contacts: 1, calls: 1, leads: 1, sessions: 1, extractions: 1 });
    expect((await svc.call("DELETE", `${base(a)}/contacts/${p.contactId}`, undefined, asKey)).status).toBe(
      404,
    );
  });

  test("by e-mail (any case)", async () => {
    const p = await person(a, { phone: "+14155550242", email: "kim@example.com", name: "Kim" });
    const res = await svc.call("DELETE", `${base(a)}/contacts/email/KIM@example.com`, undefined, asKey);
    expect(res.status).toBe(200);
    expect(await left(a, p)).toEqual(none);
    expect(
      (await svc.call("DELETE", `${base(a)}/contacts/email/not-an-email`, undefined, asKey)).status,
    ).toBe(400);
  });

  test("by phone: the number's calls go too, even one not linked to the contact", async () => {
    const p = await person(a, { phone: "+14155550243", email: "lu@example.com", name: "Lu" });
    const [loose] = await inTenant(
      a.id,
      () => sql<{ id: string }[]>`
      insert into calls (call_control_id, conversation_id, from_number) values ('leg-loose', 'conv-loose', '+14155550243') returning id`,
    );
    const res = await svc.call(
      "DELETE",
      `${base(a)}/contacts/phone/${encodeURIComponent("+1 415 555 0243")}`,
      undefined,
      asKey,
    );
    expect(res.status).toBe(200);
    expect(await left(a, p)).toEqual(none);
    const [call] = await raw(db)<
      { n: number }[]
    >`select count(*)::int as n from calls where id = ${loose?.id as string}`;
    expect(call?.n).toBe(0);
  });

  test("one tenant's erasure leaves the other tenant's contact with the same handles", async () => {
    const inA = await person(a, { phone: "+14155550244", email: "mo@example.com", name: "Mo" });
    const inB = await person(b, { phone: "+14155550244", email: "mo@example.com", name: "Mo" });
    expect(
      (await svc.call("DELETE", `${base(a)}/contacts/email/mo@example.com`, undefined, asKey)).status,
    ).toBe(200);
    expect(await left(a, inA)).toEqual(none);
    expect(await left(b, inB)).toEqual({ contacts: 1, calls: 1, leads: 1, sessions: 1, extractions: 1 });
  });
});

describe("composed: the poll's sweep extracts a call whose after-call run was lost (local rules)", () => {
  test("the call gets its contact, summary and lead, visible through the admin API", async () => {
    const t = await createTenant(svc, "contacts-sweep");
    const [call] = await inTenant(
      t.id,
      () => sql<{ id: string }[]>`
      insert into calls (call_control_id, conversation_id, from_number, transcript, created_at)
      values ('leg-sweep', 'conv-sweep', '+14155550250',
              ${sql.json([{ role: "user", text: "Hi, my name is Nia Long. I'd like to book a table for four.", createdAt: "2026-11-30T10:00:00Z" }])},
              now() - interval '10 minutes')
      returning id`,
    );
    const poll = await svc.call("POST", "/internal/poll", undefined, { "x-internal-token": INTERNAL });
    expect(poll.status).toBe(200);
    expect((await json(poll)).sweeps.extraction).toMatchObject({ extracted: expect.any(Number) });
    const contacts = await json(await svc.call("GET", `${base(t)}/contacts?q=nia`, undefined, asKey));
    expect(contacts.contacts).toEqual([
      expect.objectContaining({ name: "Nia Long", phone: "+14155550250", channels: ["voice"] }),
    ]);
    const detail = await json(
      await svc.call("GET", `${base(t)}/contacts/${contacts.contacts[0].id}`, undefined, asKey),
    );
    expect(detail.calls[0]).toMatchObject({ id: call?.id, summary: expect.stringContaining("book a table") });
    expect(detail.leads).toEqual([expect.objectContaining({ intent: "booking", status: "new" })]);
  });
});

describe("composed: a web chat where the customer types their e-mail (redaction on)", () => {
  test("the session is linked to a contact with the address at once; the quiet sweep makes the lead", async () => {
    const res = await svc.call("POST", "/api/v1/chat", {
      message: "I want to buy the pro plan for my team, reach me at Pat@Example.com",
    });
    expect(res.status).toBe(200);
    const { sessionId } = await json(res);
    const [stored] = await raw(db)<{ content: string; contactId: string | null }[]>`
      select m.content, s.contact_id from messages m join sessions s on s.id = m.session_id
      where s.id = ${sessionId} and m.role = 'user'`;
    // What the model saw and the history keeps is redacted; the contact has the address.
    expect(stored?.content).toContain("[EMAIL]");
    expect(stored?.content).not.toContain("Pat@");
    const tenant = `/api/v1/admin/tenants/${DEFAULT_TENANT_ID}`;
    const found = await json(await svc.call("GET", `${tenant}/contacts?q=pat@example.com`, undefined, asKey));
    expect(found.contacts).toEqual([
      expect.objectContaining({ id: stored?.contactId, email: "pat@example.com", channels: ["web"] }),
    ]);
    await raw(db)`update sessions set updated_at = now() - interval '31 minutes' where id = ${sessionId}`;
    await svc.call("POST", "/internal/poll", undefined, { "x-internal-token": INTERNAL });
    const leads = await json(await svc.call("GET", `${tenant}/leads`, undefined, asKey));
    expect(leads.leads).toEqual([
      expect.objectContaining({
        intent: "purchase",
        contact: expect.objectContaining({ email: "pat@example.com" }),
        source: { channel: "web", kind: "session", id: sessionId },
      }),
    ]);
  });
});

describe("lead criteria and idle time in the tenant's settings", () => {
  test("validated by the admin API, shown with their effective value", async () => {
    const t = await createTenant(svc, "contacts-settings");
    const path = `${base(t)}/settings`;
    const before = await json(await svc.call("GET", path, undefined, asKey));
    expect(before.effective.leads).toEqual({ intents: ["purchase", "booking"] });
    const bad = await svc.call("PATCH", path, { leads: { intents: ["world domination"] } }, asKey);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe("invalid_settings");
    expect((await svc.call("PATCH", path, { extraction: { idleMinutes: 0 } }, asKey)).status).toBe(400);
    const ok = await svc.call(
      "PATCH",
      path,
      { leads: { intents: ["support"] }, extraction: { idleMinutes: 90 } },
      asKey,
    );
    expect(ok.status).toBe(200);
    const after = await json(await svc.call("GET", path, undefined, asKey));
    expect(after.settings).toMatchObject({
      leads: { intents: ["support"] },
      extraction: { idleMinutes: 90 },
    });
    expect(after.effective.leads).toEqual({ intents: ["support"] });
  });
});
