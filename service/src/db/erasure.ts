import type { Sql, TransactionSql } from "./client";
import { providerSessionKey } from "./provider-sessions";
import { identityLimitKey, tenantLimitKey } from "./rate-limits";

export interface ErasureSubject {
  /** Identities of the person: `user:<external id>`, `intercom:<contact id>`. */
  identityIds: string[];
  /** Their Intercom contact, when Intercom knows them. */
  contactId: string | null;
  /** Their phone number (E.164), when they texted: their SMS thread, contact and delivery records. */
  phone?: string | null | undefined;
  /** Their e-mail address (lower-case): the contact with it and everything of that contact. */
  email?: string | null | undefined;
  /** Contacts (contacts.id) of the person: with their handles, conversations, calls, leads, extractions. */
  contactIds?: readonly string[] | undefined;
}

/** A contact erased, with the handles it had: a CRM that holds the person erases them too. */
export interface ErasedContact {
  id: string;
  phone: string | null;
  email: string | null;
  intercomContactId: string | null;
}

export interface ErasureAudit {
  actor: string;
  requestId: string;
  /** A non-reversible reference to the subject (an HMAC with a server key), never the subject itself. */
  subjectRef: string;
  /** The person was deleted in Intercom: worth a record even when nothing was kept here. */
  deletedUpstream: boolean;
}

export interface ErasureCounts {
  sessions: number;
  messages: number;
  handoffs: number;
  outbox: number;
  intercomConversations: number;
  usageLedgerAnonymised: number;
  usageCounters: number;
  rateLimitWindows: number;
  providerSessions: number;
  /** Escalations of their conversations (web: their sessions), with the notifications of them. */
  escalations: number;
  contacts: number;
  smsMessages: number;
  /** Gmail messages the e-mail channel recorded from or to them (threading facts, addresses). */
  emailMessages: number;
  calls: number;
  leads: number;
  extractions: number;
}

/**
 * GDPR erasure of one person, in one transaction: their sessions and messages (by identity, and every
 * Intercom conversation of their contact), the conversations' outbox rows, handoffs and bridge state,
 * their budget counters and rate-limit windows; usage ledger rows stay for cost accounting with the
 * identity and session blanked. Webhook deliveries keep only Intercom's notification id and topic, nothing
 * of the person, and stay for deduplication. Escalations of those conversations go, with their notifications. A phone number's SMS thread (conversation id = the number),
 * its contact row, delivery records and quota notices go too. Its consent events (sms_consent) stay: the
 * record that this number opted out is what keeps the tenant from texting it again, and carriers and the
 * TCPA expect it kept (GDPR art. 17(3)(b), (e)); it holds the number, the keyword and when, no messages.
 * The person's contacts (by id, phone or e-mail) go with everything linked to them: their calls (and calls
 * from their numbers), leads, extractions, and the sessions linked to them (a web chat where they gave an
 * address). Records the erasure (counts only) when anything was erased.
 */
export async function eraseSubject(
  sql: Sql,
  subject: ErasureSubject,
  audit: ErasureAudit,
  /** Runs in the erasure's transaction when anything was erased (the `contact.erased` event's record). */
  within?: (tx: Sql, erased: { contacts: ErasedContact[]; counts: ErasureCounts }) => Promise<void>,
): Promise<{ counts: ErasureCounts; erasureId: string | null; contacts: ErasedContact[] }> {
  return sql.begin(async (tx) => {
    const people = await contactsOf(tx, subject);
    const phones = [
      ...new Set([subject.phone, ...people.map((p) => p.phone)].filter((p): p is string => !!p)),
    ];
    const intercomIds = people.map((p) => p.intercomContactId).filter((c): c is string => !!c);
    const intercom = await conversationsOf(tx, { ...subject, intercomIds });
    // A conversation without a known contact is answered as `intercom:<conversation id>`.
    const identities = [
      ...subject.identityIds,
      ...intercomIds.map((c) => `intercom:${c}`),
      ...intercom.map((c) => `intercom:${c}`),
    ];
    // An SMS thread is the number itself, answered as `phone:<number>`.
    for (const phone of phones) identities.push(`phone:${phone}`);
    const contactIds = people.map((p) => p.id);
    // An e-mail thread is answered as `email:<address>`; its conversation is `<mailbox>:<Gmail thread>`.
    const emails = emailsOf(subject, people);
    for (const email of emails) identities.push(`email:${email}`);
    const threads = await emailThreadsOf(tx, emails, contactIds);
    const conversations = [...intercom, ...phones, ...threads];
    const { counts: rowCounts, sessionIds } = await eraseRows(tx, identities, conversations, contactIds);
    const followUps = await eraseFollowUps(tx, contactIds, phones, sessionIds);
    // Before the contacts: their e-mail rows would otherwise go by cascade, uncounted.
    const emailMessages = await eraseEmailMessages(tx, emails, contactIds);
    const counts = {
      ...rowCounts,
      ...(await erasePhones(tx, phones, contactIds)),
      emailMessages,
      ...followUps,
    };
    const erased = Object.values(counts).some((n) => n > 0);
    if (!erased && !audit.deletedUpstream) return { counts, erasureId: null, contacts: people };
    const [row] = await tx<{ id: string }[]>`
      insert into erasures (actor, request_id, subject_ref, counts)
      values (${audit.actor}, ${audit.requestId}, ${audit.subjectRef},
              ${tx.json({ ...counts, intercomContact: audit.deletedUpstream ? 1 : 0 })})
      returning id::text`;
    if (erased && within) await within(tx as unknown as Sql, { contacts: people, counts });
    return { counts, erasureId: row?.id ?? null, contacts: people };
  }) as Promise<{ counts: ErasureCounts; erasureId: string | null; contacts: ErasedContact[] }>;
}

function emailsOf(subject: ErasureSubject, people: ErasedContact[]): string[] {
  const all = [subject.email, ...people.map((p) => p.email)].filter((e): e is string => !!e);
  return [...new Set(all.map((e) => e.toLowerCase()))];
}

/** The e-mail conversations (`<mailbox connection>:<Gmail thread>`) the person wrote in or was answered in. */
async function emailThreadsOf(tx: TransactionSql, emails: string[], contactIds: string[]): Promise<string[]> {
  const rows = await tx<{ conversationId: string }[]>`
    select distinct connection_id::text || ':' || thread_id as conversation_id from email_messages
    where from_address = any(${emails}::text[]) or contact_id = any(${contactIds}::uuid[])`;
  return rows.map((r) => r.conversationId);
}

/** Every Gmail message recorded from the person, and Switchboard's replies and notices to those messages. */
async function eraseEmailMessages(tx: TransactionSql, emails: string[], contactIds: string[]) {
  const [row] = await tx<{ erased: number }[]>`
    with inbound as (
      delete from email_messages
      where direction = 'inbound' and (from_address = any(${emails}::text[]) or contact_id = any(${contactIds}::uuid[]))
      returning connection_id, gmail_id
    ),
    outbound as (
      delete from email_messages
      where direction = 'outbound'
        and (contact_id = any(${contactIds}::uuid[])
             or (connection_id, answers_gmail_id) in (select connection_id, gmail_id from inbound))
      returning 1
    )
    select (select count(*) from inbound)::int + (select count(*) from outbound)::int as erased`;
  return row?.erased ?? 0;
}

/** The person's contacts: named by id, or holding their phone number, e-mail address or Intercom id. */
async function contactsOf(tx: TransactionSql, subject: ErasureSubject): Promise<ErasedContact[]> {
  const ids = [...(subject.contactIds ?? [])];
  const phone = subject.phone ?? null;
  const email = subject.email ?? null;
  return tx<ErasedContact[]>`
    select id, phone, email, intercom_contact_id from contacts
    where id = any(${ids}::uuid[])
       or (${phone}::text is not null and phone = ${phone})
       or (${email}::text is not null and email = ${email})
       or (${subject.contactId}::text is not null and intercom_contact_id = ${subject.contactId})
    for update`;
}

/**
 * A contact's calls, leads and extractions, and the calls from their numbers; extractions of their
 * sessions (erased above) too: an extraction keeps the name and handles it found.
 */
async function eraseFollowUps(
  tx: TransactionSql,
  contactIds: string[],
  phones: string[],
  sessionIds: string[],
) {
  const callIds = (
    await tx<{ id: string }[]>`
      delete from calls where contact_id = any(${contactIds}::uuid[]) or from_number = any(${phones}::text[])
      returning id::text`
  ).map((r) => r.id);
  const [leads, extractions] = await Promise.all([
    tx`delete from leads where contact_id = any(${contactIds}::uuid[])`,
    tx`delete from extractions
       where contact_id = any(${contactIds}::uuid[])
          or (subject_kind = 'session' and subject_id = any(${sessionIds}::text[]))
          or (subject_kind = 'call' and subject_id = any(${callIds}::text[]))`,
  ]);
  return { calls: callIds.length, leads: leads.count, extractions: extractions.count };
}

async function erasePhones(tx: TransactionSql, phones: string[], contactIds: string[]) {
  const [contacts, smsMessages] = await Promise.all([
    tx`delete from contacts where id = any(${contactIds}::uuid[]) or phone = any(${phones}::text[])`,
    tx`delete from sms_messages where customer_phone = any(${phones}::text[])`,
    tx`delete from sms_quota_notices where phone = any(${phones}::text[])`,
  ]);
  return { contacts: contacts.count, smsMessages: smsMessages.count };
}

async function conversationsOf(
  tx: TransactionSql,
  subject: ErasureSubject & { intercomIds: string[] },
): Promise<string[]> {
  const contacts = subject.contactId ? [subject.contactId, ...subject.intercomIds] : subject.intercomIds;
  const rows = await tx<{ conversationId: string }[]>`
    select conversation_id from intercom_conversations
    where contact_id = any(${contacts}::text[])
    union
    select external_ref from sessions
    where channel = 'intercom' and external_ref is not null and identity_id = any(${subject.identityIds}::text[])`;
  return rows.map((r) => r.conversationId);
}

type RowCounts = Omit<
  ErasureCounts,
  "contacts" | "smsMessages" | "emailMessages" | "calls" | "leads" | "extractions"
>;

async function eraseRows(
  tx: TransactionSql,
  identities: string[],
  conversations: string[],
  contactIds: string[],
): Promise<{ counts: RowCounts; sessionIds: string[] }> {
  // A web chat is linked to its contact once the customer gave a handle (sessions.contact_id).
  const sessionIds = (
    await tx<{ id: string }[]>`
      select id from sessions
      where identity_id = any(${identities}::text[])
         or (channel = 'intercom' and external_ref = any(${conversations}::text[]))
         or contact_id = any(${contactIds}::uuid[])
      for update`
  ).map((r) => r.id);
  const rateKeys = identities.flatMap((id) => [id, identityLimitKey(id)].map(tenantLimitKey));
  const gptTrainerKeys = sessionIds.map(providerSessionKey);
  // An escalation's conversation is the channel's key: the web's is the session id.
  const escalated = [...conversations, ...sessionIds];
  const [
    messages,
    sessions,
    handoffs,
    outbox,
    conversationRows,
    ledger,
    counters,
    windows,
    provider,
    escalations,
  ] = await Promise.all([
    tx`delete from messages where session_id = any(${sessionIds}::uuid[])`,
    tx`delete from sessions where id = any(${sessionIds}::uuid[])`,
    tx`delete from handoffs where conversation_id = any(${conversations}::text[])`,
    tx`delete from outbox where conversation_id = any(${conversations}::text[])`,
    tx`delete from intercom_conversations where conversation_id = any(${conversations}::text[])`,
    tx`update usage_ledger set identity_id = 'erased', session_id = null where identity_id = any(${identities}::text[])`,
    tx`delete from usage_counters where identity_id = any(${identities}::text[])`,
    tx`delete from rate_limit_windows where key = any(${rateKeys}::text[])`,
    tx`delete from app_state where key = any(${gptTrainerKeys}::text[])`,
    tx`delete from escalations where conversation_id = any(${escalated}::text[])`,
  ]);
  return {
    sessionIds,
    counts: {
      sessions: sessions.count,
      messages: messages.count,
      handoffs: handoffs.count,
      outbox: outbox.count,
      intercomConversations: conversationRows.count,
      usageLedgerAnonymised: ledger.count,
      usageCounters: counters.count,
      rateLimitWindows: windows.count,
      providerSessions: provider.count,
      escalations: escalations.count,
    },
  };
}
