import type { Sql } from "../../service/src/db/client";
import { mergeContact } from "../../service/src/db/contacts";
import { claimExtraction, finishExtraction } from "../../service/src/db/extractions";
import { upsertOpenLead } from "../../service/src/db/leads";
import { linkSessionContact } from "../../service/src/db/session-insights";
import { SHARED } from "./tenant-fixtures";

/** What the contacts seed gives a tenant: its contact of SHARED.phone with a call, an extraction and a lead. */
export interface ContactsSeed {
  /** The contact of SHARED.phone (SHARED.email too), linked to the tenant's web session. */
  personContactId: string;
  callId: string;
  extractionId: string;
  leadId: string;
}

/**
 * Contacts, calls, extractions and leads (issue 14) of one tenant, in its scope, through the repository
 * functions; every text carries the tenant's marker. Both tenants' person has the same phone and e-mail.
 */
export async function seedContacts(sql: Sql, marker: string, webSessionId: string): Promise<ContactsSeed> {
  const contact = await mergeContact(sql, {
    phone: SHARED.phone,
    email: SHARED.email,
    name: `${marker} person`,
    channel: "voice",
  });
  await linkSessionContact(sql, webSessionId, contact.id);
  const [call] = await sql<{ id: string }[]>`
    insert into calls (call_control_id, conversation_id, from_number, contact_id, transcript, summary)
    values (${`leg-${SHARED.conversationId}`}, ${SHARED.conversationId}, ${SHARED.phone}, ${contact.id},
            ${sql.json([{ role: "user", text: `${marker} wants to buy` }])}, ${`${marker} call summary`})
    returning id`;
  const callId = call?.id as string;
  const extraction = await claimExtraction(sql, { kind: "call", id: callId });
  await finishExtraction(sql, extraction?.id as string, {
    status: "succeeded",
    result: { summary: `${marker} extraction` },
    model: "rules",
    contactId: contact.id,
  });
  const lead = await upsertOpenLead(sql, {
    contactId: contact.id,
    intent: "purchase",
    urgency: "normal",
    summary: `${marker} lead`,
    followUps: [`${marker} follow-up`],
    sourceChannel: "voice",
    sourceKind: "call",
    sourceId: callId,
  });
  return { personContactId: contact.id, callId, extractionId: extraction?.id as string, leadId: lead.id };
}
