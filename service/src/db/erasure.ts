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
  contacts: number;
  smsMessages: number;
  /** Phone calls from the number (their transcripts and insights), its contact's or not. */
  calls: number;
}

/**
 * GDPR erasure of one person, in one transaction: their sessions and messages (by identity, and every
 * Intercom conversation of their contact), the conversations' outbox rows, handoffs and bridge state,
 * their budget counters and rate-limit windows; usage ledger rows stay for cost accounting with the
 * identity and session blanked. Webhook deliveries keep only Intercom's notification id and topic, nothing
 * of the person, and stay for deduplication. A phone number's SMS thread (conversation id = the number),
 * its contact row, delivery records and quota notices go too. Its consent events (sms_consent) stay: the
 * record that this number opted out is what keeps the tenant from texting it again, and carriers and the
 * TCPA expect it kept (GDPR art. 17(3)(b), (e)); it holds the number, the keyword and when, no messages.
 * Records the erasure (counts only) when anything was erased.
 */
export async function eraseSubject(
  sql: Sql,
  subject: ErasureSubject,
  audit: ErasureAudit,
): Promise<{ counts: ErasureCounts; erasureId: string | null }> {
  return sql.begin(async (tx) => {
    const intercom = await conversationsOf(tx, subject);
    // A conversation without a known contact is answered as `intercom:<conversation id>`.
    const identities = [...subject.identityIds, ...intercom.map((c) => `intercom:${c}`)];
    const phone = subject.phone ?? null;
    // An SMS thread is the number itself, answered as `phone:<number>`.
    if (phone) identities.push(`phone:${phone}`);
    const conversations = phone ? [...intercom, phone] : intercom;
    const counts = { ...(await eraseRows(tx, identities, conversations)), ...(await erasePhone(tx, phone)) };
    const erased = Object.values(counts).some((n) => n > 0);
    if (!erased && !audit.deletedUpstream) return { counts, erasureId: null };
    const [row] = await tx<{ id: string }[]>`
      insert into erasures (actor, request_id, subject_ref, counts)
      values (${audit.actor}, ${audit.requestId}, ${audit.subjectRef},
              ${tx.json({ ...counts, intercomContact: audit.deletedUpstream ? 1 : 0 })})
      returning id::text`;
    return { counts, erasureId: row?.id ?? null };
  }) as Promise<{ counts: ErasureCounts; erasureId: string | null }>;
}

async function erasePhone(tx: TransactionSql, phone: string | null) {
  if (!phone) return { contacts: 0, smsMessages: 0, calls: 0 };
  const [calls, contacts, smsMessages] = await Promise.all([
    // Before the contact: a call of the number is counted whether or not the contact's cascade reaches it.
    tx`delete from calls where from_number = ${phone}`,
    tx`delete from contacts where phone = ${phone}`,
    tx`delete from sms_messages where customer_phone = ${phone}`,
    tx`delete from sms_quota_notices where phone = ${phone}`,
  ]);
  return { contacts: contacts.count, smsMessages: smsMessages.count, calls: calls.count };
}

async function conversationsOf(tx: TransactionSql, subject: ErasureSubject): Promise<string[]> {
  const rows = await tx<{ conversationId: string }[]>`
    select conversation_id from intercom_conversations
    where ${subject.contactId}::text is not null and contact_id = ${subject.contactId}
    union
    select external_ref from sessions
    where channel = 'intercom' and external_ref is not null and identity_id = any(${subject.identityIds}::text[])`;
  return rows.map((r) => r.conversationId);
}

async function eraseRows(
  tx: TransactionSql,
  identities: string[],
  conversations: string[],
): Promise<Omit<ErasureCounts, "contacts" | "smsMessages" | "calls">> {
  const sessionIds = (
    await tx<{ id: string }[]>`
      select id from sessions
      where identity_id = any(${identities}::text[])
         or (channel = 'intercom' and external_ref = any(${conversations}::text[]))
      for update`
  ).map((r) => r.id);
  const rateKeys = identities.flatMap((id) => [id, identityLimitKey(id)].map(tenantLimitKey));
  const gptTrainerKeys = sessionIds.map(providerSessionKey);
  const [messages, sessions, handoffs, outbox, conversationRows, ledger, counters, windows, provider] =
    await Promise.all([
      tx`delete from messages where session_id = any(${sessionIds}::uuid[])`,
      tx`delete from sessions where id = any(${sessionIds}::uuid[])`,
      tx`delete from handoffs where conversation_id = any(${conversations}::text[])`,
      tx`delete from outbox where conversation_id = any(${conversations}::text[])`,
      tx`delete from intercom_conversations where conversation_id = any(${conversations}::text[])`,
      tx`update usage_ledger set identity_id = 'erased', session_id = null where identity_id = any(${identities}::text[])`,
      tx`delete from usage_counters where identity_id = any(${identities}::text[])`,
      tx`delete from rate_limit_windows where key = any(${rateKeys}::text[])`,
      tx`delete from app_state where key = any(${gptTrainerKeys}::text[])`,
    ]);
  return {
    sessions: sessions.count,
    messages: messages.count,
    handoffs: handoffs.count,
    outbox: outbox.count,
    intercomConversations: conversationRows.count,
    usageLedgerAnonymised: ledger.count,
    usageCounters: counters.count,
    rateLimitWindows: windows.count,
    providerSessions: provider.count,
  };
}
