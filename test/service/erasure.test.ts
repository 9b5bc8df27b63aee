import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type IntercomEmulator, postNewConversation, startIntercomEmulator } from "../emulators/intercom";
import { bearer, eventually, raw, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * GDPR erasure end to end: a person's data is seeded in every table through the real endpoints (chat with
 * their JWT, Intercom conversations through signed webhooks against the emulator), then erased with
 * DELETE /intercom/contacts/{externalId}; no table may hold anything of them afterwards.
 */
const SECRET = "erasure-test-intercom-client-secret";
const ADMIN_KEY = "erasure-test-admin-key-0123456789";
const JWT_SECRET = "erasure-test-jwt-secret-0123456789abcdef";
// Users' ids are namespaced by issuer (`user:<issuer>#<sub>`): the erasure must find them under it.
const JWT_ISSUER = "https://id.erasure.example/";

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
    ADMIN_API_KEY: ADMIN_KEY,
    JWT_SECRET,
    JWT_ISSUER,
    POLLING_INTERVAL: "0",
    RETENTION_INTERVAL: "0",
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await intercom?.close();
});

/** A user's HS256 token; with an issuer unless `issuer` is null (a deployment that names none). */
const userToken = (sub: string, claims: Record<string, unknown> = {}, issuer: string | null = JWT_ISSUER) => {
  const jwt = new SignJWT({ tier: "free", ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("1h");
  return (issuer ? jwt.setIssuer(issuer) : jwt).sign(new TextEncoder().encode(JWT_SECRET));
};

/** A person with a chat session and two Intercom conversations: one answered, one handed to a person. */
async function seedPerson(externalId: string, marker: string) {
  const chat = await svc.post(
    "/api/v1/chat",
    { message: `How do I reset my password? ${marker}` },
    bearer(await userToken(externalId)),
  );
  expect(chat.status).toBe(200);
  const { sessionId } = (await chat.json()) as { sessionId: string };

  const contact = intercom.createContact({ external_id: externalId, email: `${externalId}@example.com` });
  const answered = intercom.createConversation({
    body: `How do I turn on two-factor? ${marker}`,
    contact: contact.id,
  });
  const handedOver = intercom.createConversation({
    body: `I want to talk to a person ${marker}`,
    contact: contact.id,
  });
  for (const conv of [answered, handedOver]) {
    const res = await postNewConversation(svc.url, SECRET, intercom, conv.id);
    expect(res.status).toBe(200);
  }
  await eventually(
    async () =>
      (await raw(db)`select count(*)::int as n from outbox where status = 'pending'`)[0]?.n as number,
    (n) => n === 0,
  );
  return {
    sessionId,
    contactId: contact.id,
    conversations: [answered.id, handedOver.id],
    identifiers: [externalId, contact.id, answered.id, handedOver.id, sessionId, marker],
  };
}

/** Every row of every table of the schema, as text: whatever a person's data is stored in, it shows here. */
async function everyRow(): Promise<{ table: string; row: string }[]> {
  const tables = await raw(db)<{ tableName: string }[]>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`;
  const rows: { table: string; row: string }[] = [];
  for (const { tableName } of tables) {
    const found = await raw(db).unsafe<{ row: string }[]>(`select t::text as row from "${tableName}" t`);
    rows.push(...found.map((r) => ({ table: tableName, row: r.row })));
  }
  return rows;
}

const mentioning = (rows: { table: string; row: string }[], needles: string[]) =>
  rows.filter((r) => needles.some((n) => r.row.includes(n)));

const admin = { authorization: `Bearer ${ADMIN_KEY}` };

describe("GDPR erasure", () => {
  test("reaches every table holding the person, spares another person, and leaves a record without their data", async () => {
    const ada = await seedPerson("gdpr_ada", "zebra-ada-7731");
    const bob = await seedPerson("gdpr_bob", "okapi-bob-2294");

    // Seeded in every kind of table that can hold a person.
    const before = await everyRow();
    const tablesWithAda = new Set(mentioning(before, ada.identifiers).map((r) => r.table));
    for (const table of [
      "sessions",
      "messages",
      "usage_ledger",
      "usage_counters",
      "rate_limit_windows",
      "outbox",
      "handoffs",
      "intercom_conversations",
    ]) {
      expect(tablesWithAda, table).toContain(table);
    }

    const res = await fetch(`${svc.url}/intercom/contacts/gdpr_ada`, { method: "DELETE", headers: admin });
    expect(res.status).toBe(200);
    // Two sessions: the web chat and the answered conversation (the handed-over one never reached the model).
    expect(await res.json()).toEqual({ deleted: true, intercomContactId: ada.contactId, sessionsDeleted: 2 });
    expect(intercom.contacts.has(ada.contactId)).toBe(false);

    const after = await everyRow();
    expect(mentioning(after, ada.identifiers)).toEqual([]);
    expect(
      (await raw(db)`select count(*)::int as n from usage_ledger where identity_id = 'erased'`)[0]?.n,
    ).toBeGreaterThanOrEqual(2);

    // The other person is untouched.
    const bobBefore = mentioning(before, bob.identifiers).map((r) => r.row);
    const bobAfter = mentioning(after, bob.identifiers).map((r) => r.row);
    expect(bobAfter.sort()).toEqual(bobBefore.sort());

    // The record: who, when, how much; nothing that names the person or what they wrote.
    const requestId = res.headers.get("x-request-id") ?? "";
    const records = await raw(db)<{ actor: string; erasedAt: Date; counts: Record<string, number> }[]>`
      select actor, erased_at, counts from erasures where request_id = ${requestId}`;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      actor: "admin-api-key",
      counts: { sessions: 2, handoffs: 1, outbox: 2, intercomConversations: 2, intercomContact: 1 },
    });
    expect(records[0]?.counts.messages).toBeGreaterThanOrEqual(4);
    const [recordText] = await raw(db)<{ row: string }[]>`
      select e::text as row from erasures e where request_id = ${requestId}`;
    expect(mentioning([{ table: "erasures", row: recordText?.row ?? "" }], ada.identifiers)).toEqual([]);
    // And the audit log names it by its record, with the counts, never the person.
    const [audited] = await raw(db)<
      { actor: string; target: string; summary: { counts: Record<string, number> } }[]
    >`
      select actor, target, summary from audit_log where action = 'erasure.completed' and request_id = ${requestId}`;
    expect(audited).toMatchObject({ actor: "admin-api-key", summary: { counts: { sessions: 2 } } });
    expect(mentioning([{ table: "audit_log", row: JSON.stringify(audited) }], ada.identifiers)).toEqual([]);
    const line = svc.logs.events("gdpr.erasure").at(-1);
    expect(line).toMatchObject({ actor: "admin-api-key", counts: { sessions: 2 } });
    expect(ada.identifiers.filter((id) => JSON.stringify(line).includes(id))).toEqual([]);

    // Append-only, and a second request finds nothing left.
    await expect(raw(db)`delete from erasures`).rejects.toThrow(/append-only/);
    await expect(raw(db)`update erasures set actor = 'someone'`).rejects.toThrow(/append-only/);
    const again = await fetch(`${svc.url}/intercom/contacts/gdpr_ada`, { method: "DELETE", headers: admin });
    expect(again.status).toBe(404);
  });

  test("without Intercom configured, an admin's erasure still reaches local data and names the admin", async () => {
    const plain = await startTestService(db, {
      ADMIN_API_KEY: ADMIN_KEY,
      JWT_SECRET,
      RETENTION_INTERVAL: "0",
    });
    try {
      const chat = await plain.post(
        "/api/v1/chat",
        { message: "What plans do you offer? heron-cy-5501" },
        bearer(await userToken("gdpr_cy", {}, null)),
      );
      expect(chat.status).toBe(200);
      const res = await fetch(`${plain.url}/intercom/contacts/gdpr_cy`, {
        method: "DELETE",
        headers: bearer(await userToken("ops-lead", { role: "admin" }, null)),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ deleted: true, intercomContactId: null, sessionsDeleted: 1 });
      expect(mentioning(await everyRow(), ["gdpr_cy", "heron-cy-5501"])).toEqual([]);
      const [record] = await raw(db)<{ actor: string }[]>`
        select actor from erasures where request_id = ${res.headers.get("x-request-id") ?? ""}`;
      expect(record?.actor).toBe("user:ops-lead");
    } finally {
      await plain.close();
    }
  });
});
