import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Sql } from "../../service/src/db/client";
import { mergeContact } from "../../service/src/db/contacts";
import { migrate } from "../../service/src/db/migrate";
import { createTenant } from "../../service/src/db/platform";
import { inTenant } from "../../service/src/db/tenant-scope";
import { testDatabase } from "./helpers";

let sql: Sql;
let drop: () => Promise<void>;
let tenantId: string;
let n = 0;

beforeAll(async () => {
  const t = await testDatabase();
  sql = t.db.sql;
  drop = t.drop;
  await migrate(sql);
  tenantId = (await createTenant(sql, { slug: "merge", name: "Merge Co" })).id;
});
afterAll(async () => {
  await drop?.();
});

const inT = <T>(work: () => Promise<T>) => inTenant(tenantId, work);
const unique = () => {
  n++;
  return { phone: `+1415555${String(1000 + n)}`, email: `person${n}@example.com`, intercom: `ic-${n}` };
};

describe("contacts merged across channels", () => {
  test("a person found by phone, then by e-mail with the same phone, is one contact with both", async () => {
    const h = unique();
    const bySms = await inT(() => mergeContact(sql, { phone: h.phone, channel: "sms" }));
    const byCall = await inT(() =>
      mergeContact(sql, { phone: h.phone, email: h.email.toUpperCase(), name: "Ada", channel: "voice" }),
    );
    expect(byCall.id).toBe(bySms.id);
    expect(byCall).toMatchObject({ phone: h.phone, email: h.email, name: "Ada" });
    expect(byCall.channels.sort()).toEqual(["sms", "voice"]);
    const byMail = await inT(() => mergeContact(sql, { email: h.email, channel: "web" }));
    expect(byMail.id).toBe(bySms.id);
    expect(byMail.channels.sort()).toEqual(["sms", "voice", "web"]);
  });

  test("an Intercom contact is found by its Intercom id and gains the e-mail it lacked", async () => {
    const h = unique();
    const first = await inT(() => mergeContact(sql, { intercomContactId: h.intercom, channel: "intercom" }));
    const again = await inT(() => mergeContact(sql, { intercomContactId: h.intercom, email: h.email }));
    expect(again.id).toBe(first.id);
    expect(again.email).toBe(h.email);
  });

  test("two contacts that turn out to be one person are merged: the older keeps its id, rows move to it", async () => {
    const h = unique();
    const byPhone = await inT(() => mergeContact(sql, { phone: h.phone, channel: "sms" }));
    const byMail = await inT(() => mergeContact(sql, { email: h.email, name: "Grace", channel: "web" }));
    expect(byMail.id).not.toBe(byPhone.id);
    // The newer one has a session, a call and an open lead; the older one an open lead too.
    const sessionId = crypto.randomUUID();
    await inT(async () => {
      await sql`insert into sessions (id, identity_id, channel, contact_id) values (${sessionId}, 'user:g', 'web', ${byMail.id})`;
      await sql`insert into calls (call_control_id, conversation_id, contact_id) values (${`leg-${n}`}, ${`conv-${n}`}, ${byMail.id})`;
      for (const [contact, follow] of [
        [byPhone.id, "call back"],
        [byMail.id, "send a quote"],
      ] as const) {
        await sql`insert into leads (contact_id, intent, source_channel, source_kind, source_id, follow_ups)
                  values (${contact}, 'purchase', 'web', 'session', 's', ${sql.json([follow])})`;
      }
    });
    const merged = await inT(() => mergeContact(sql, { phone: h.phone, email: h.email, channel: "voice" }));
    expect(merged.id).toBe(byPhone.id);
    expect(merged.mergedIds).toEqual([byMail.id]);
    expect(merged).toMatchObject({ phone: h.phone, email: h.email, name: "Grace" });
    expect(merged.channels.sort()).toEqual(["sms", "voice", "web"]);
    const rows = await inT(async () => ({
      contacts: await sql`select id from contacts where id = ${byMail.id}`,
      session: await sql<{ contactId: string }[]>`select contact_id from sessions where id = ${sessionId}`,
      calls: await sql<
        { contactId: string }[]
      >`select contact_id from calls where conversation_id = ${`conv-${n}`}`,
      leads: await sql<
        { followUps: string[] }[]
      >`select follow_ups from leads where contact_id = ${byPhone.id}`,
    }));
    expect(rows.contacts).toHaveLength(0);
    expect(rows.session[0]?.contactId).toBe(byPhone.id);
    expect(rows.calls[0]?.contactId).toBe(byPhone.id);
    // One open lead per contact: the kept one took the other's follow-ups.
    expect(rows.leads).toHaveLength(1);
    expect(rows.leads[0]?.followUps).toEqual(["call back", "send a quote"]);
  });

  test("a merge with no handle at all is refused", async () => {
    await expect(inT(() => mergeContact(sql, { name: "Nobody" }))).rejects.toThrow(/phone, an e-mail/);
  });

  test("concurrent merges of the same new person make one contact", async () => {
    const h = unique();
    const made = await inT(() =>
      Promise.all([
        mergeContact(sql, { phone: h.phone, email: h.email }),
        mergeContact(sql, { email: h.email }),
        mergeContact(sql, { phone: h.phone }),
      ]),
    );
    expect(new Set(made.map((c) => c.id)).size).toBe(1);
  });
});
