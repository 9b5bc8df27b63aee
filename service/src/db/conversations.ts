import type { Sql } from "./client";

/**
 * The console's reading of conversations (engine sessions of every channel): a filtered list a page at a
 * time, and the status each one has from its escalations. Tenant isolation is row-level security's; the
 * `tenant_id = app_tenant()` terms are for the planner (the indexes of migration 00020 lead with the
 * tenant), never what keeps another tenant's rows out.
 */

/** open: the assistant has it (never handed to a person); escalated: a person is wanted or has it;
 * resolved: it was handed to a person and every escalation of it is resolved. */
export const CONVERSATION_STATUSES = ["open", "escalated", "resolved"] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/**
 * A row's place in the list: its `updated_at` as PostgreSQL's own text (exact to the microsecond, which a
 * JavaScript Date is not: a cursor rounded to the millisecond would skip or repeat rows) and its id.
 */
export interface ListPosition {
  at: string;
  id: string;
}

export interface ConversationFilter {
  channel?: string | undefined;
  status?: ConversationStatus | undefined;
  /** A contact's id, or text found in a contact's name, e-mail or phone. */
  contact?: string | undefined;
  /** Last activity on or after `from`, before `until` (ISO instants). */
  from?: string | undefined;
  until?: string | undefined;
  /** Text found in one of the conversation's messages. */
  q?: string | undefined;
}

export interface ConversationPage {
  limit: number;
  /** Keyset: rows older than this one (the next page), or newer (the previous page). */
  after?: ListPosition | undefined;
  before?: ListPosition | undefined;
}

export interface ConversationListRow {
  id: string;
  channel: string;
  turns: number;
  summary: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** `updated_at` as text: the row's keyset position. */
  at: string;
  contactId: string | null;
  contactName: string | null;
  contactPhone: string | null;
  contactEmail: string | null;
  status: ConversationStatus;
  lastRole: string | null;
  lastMessage: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `%` and `_` are literal in a search: `like` would read them as wildcards. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The filters as one SQL condition on `s` (sessions), `c` (its contact) and `st` (its status). */
function conditions(sql: Sql, f: ConversationFilter) {
  const contact = f.contact?.trim();
  const byContact = !contact
    ? sql``
    : UUID.test(contact)
      ? sql`and s.contact_id = ${contact}::uuid`
      : sql`and (c.name ilike ${likePattern(contact)} or c.email ilike ${likePattern(contact)}
                 or c.phone like ${likePattern(contact)})`;
  return sql`
    ${f.channel ? sql`and s.channel = ${f.channel}` : sql``}
    ${f.status ? sql`and st.status = ${f.status}` : sql``}
    ${byContact}
    ${f.from ? sql`and s.updated_at >= ${f.from}::timestamptz` : sql``}
    ${f.until ? sql`and s.updated_at < ${f.until}::timestamptz` : sql``}
    ${f.q ? sql`and exists (select 1 from messages m where m.session_id = s.id and m.content ilike ${likePattern(f.q)})` : sql``}`;
}

/**
 * One page of the tenant's conversations by last activity, newest first, in one statement: the filters,
 * each row's contact, status and last message. Reads `limit` rows (ask one more to know whether another
 * page follows); `before` reads the newer page backwards and hands it back newest first too.
 */
export function conversationListQuery(sql: Sql, f: ConversationFilter, page: ConversationPage) {
  const back = page.before !== undefined;
  const at = page.before ?? page.after;
  const keyset = at
    ? back
      ? sql`and (s.updated_at, s.id) > (${at.at}::timestamptz, ${at.id}::uuid)`
      : sql`and (s.updated_at, s.id) < (${at.at}::timestamptz, ${at.id}::uuid)`
    : sql``;
  return sql<ConversationListRow[]>`
    select s.id, s.channel, s.turns, s.summary, s.created_at, s.updated_at, s.updated_at::text as at,
      s.contact_id, c.name as contact_name, c.phone as contact_phone, c.email as contact_email,
      st.status, last.role as last_role, last.content as last_message
    from sessions s
    left join contacts c on c.id = s.contact_id
    cross join lateral (
      select case
        when exists (select 1 from escalations e where e.session_id = s.id and e.status <> 'resolved') then 'escalated'
        when exists (select 1 from escalations e where e.session_id = s.id) then 'resolved'
        else 'open' end as status) st
    left join lateral (
      select m.role, m.content from messages m where m.session_id = s.id order by m.id desc limit 1) last on true
    where s.tenant_id = app_tenant() ${conditions(sql, f)} ${keyset}
    order by ${back ? sql`s.updated_at, s.id` : sql`s.updated_at desc, s.id desc`}
    limit ${page.limit}`;
}

export async function listConversations(
  sql: Sql,
  f: ConversationFilter,
  page: ConversationPage,
): Promise<ConversationListRow[]> {
  const rows = await conversationListQuery(sql, f, page);
  return page.before ? [...rows].reverse() : [...rows];
}
