import type { Sql } from "./client";

export const LEAD_STATUSES = ["new", "contacted", "qualified", "won", "lost"] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export interface LeadRow {
  id: string;
  contactId: string;
  status: LeadStatus;
  intent: string;
  urgency: string | null;
  summary: string | null;
  followUps: string[];
  sourceChannel: string;
  sourceKind: "call" | "session";
  sourceId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A lead with its contact's handles: what the admin API lists and the CSV export holds. */
export interface LeadWithContact extends LeadRow {
  contactName: string | null;
  contactEmail: string | null;
  contactPhone: string | null;
  contactCompany: string | null;
}

export interface LeadInput {
  contactId: string;
  intent: string;
  urgency: string;
  summary: string;
  followUps: string[];
  sourceChannel: string;
  sourceKind: "call" | "session";
  sourceId: string;
}

const LEAD_COLUMNS =
  "id, contact_id, status, intent, urgency, summary, follow_ups, source_channel, source_kind, source_id, created_at, updated_at";

/**
 * The contact's open lead, created, or updated with what the latest conversation found (its intent,
 * urgency and summary; follow-ups added to those already listed). `created` tells which, for the event.
 */
export async function upsertOpenLead(sql: Sql, input: LeadInput): Promise<LeadRow & { created: boolean }> {
  const [row] = await sql<(LeadRow & { created: boolean })[]>`
    insert into leads as l (contact_id, intent, urgency, summary, follow_ups, source_channel, source_kind, source_id)
    values (${input.contactId}, ${input.intent}, ${input.urgency}, ${input.summary},
            ${sql.json(input.followUps)}, ${input.sourceChannel}, ${input.sourceKind}, ${input.sourceId})
    on conflict (tenant_id, contact_id) where status not in ('won', 'lost') do update set
      intent = excluded.intent,
      urgency = excluded.urgency,
      summary = excluded.summary,
      follow_ups = (select coalesce(jsonb_agg(distinct f), '[]'::jsonb)
                    from jsonb_array_elements(l.follow_ups || excluded.follow_ups) f),
      source_channel = excluded.source_channel,
      source_kind = excluded.source_kind,
      source_id = excluded.source_id,
      updated_at = now()
    returning ${sql.unsafe(LEAD_COLUMNS)}, (xmax = 0) as created`;
  if (!row) throw new Error("lead upsert returned no row");
  return row;
}

export interface LeadPage {
  status?: LeadStatus | undefined;
  limit: number;
  /** Keyset: the last lead of the previous page (newest first). */
  after?: { createdAt: Date; id: string } | undefined;
}

export function listLeads(sql: Sql, page: LeadPage): Promise<LeadWithContact[]> {
  return sql<LeadWithContact[]>`
    select l.id, l.contact_id, l.status, l.intent, l.urgency, l.summary, l.follow_ups, l.source_channel,
      l.source_kind, l.source_id, l.created_at, l.updated_at,
      c.name as contact_name, c.email as contact_email, c.phone as contact_phone, c.company as contact_company
    from leads l join contacts c on c.id = l.contact_id
    where (${page.status ?? null}::text is null or l.status = ${page.status ?? null})
      ${page.after ? sql`and (l.created_at, l.id) < (${page.after.createdAt}, ${page.after.id}::uuid)` : sql``}
    order by l.created_at desc, l.id desc
    limit ${page.limit}`;
}

export async function findLead(sql: Sql, id: string): Promise<LeadRow | undefined> {
  const [row] = await sql<LeadRow[]>`select ${sql.unsafe(LEAD_COLUMNS)} from leads where id = ${id}`;
  return row;
}

/**
 * A person's decision on a lead. Reopening a closed lead while the contact has another open one is refused
 * by the one-open-lead index (unique violation): the caller answers 409.
 */
export async function setLeadStatus(sql: Sql, id: string, status: LeadStatus): Promise<LeadRow | undefined> {
  const [row] = await sql<LeadRow[]>`
    update leads set status = ${status}, updated_at = now() where id = ${id}
    returning ${sql.unsafe(LEAD_COLUMNS)}`;
  return row;
}

export function leadsOfContact(sql: Sql, contactId: string): Promise<LeadRow[]> {
  return sql<LeadRow[]>`
    select ${sql.unsafe(LEAD_COLUMNS)} from leads where contact_id = ${contactId} order by created_at desc, id desc`;
}

/** The lead a conversation (a call, a session) created or last updated, if it still names it. */
export async function leadOfSource(
  sql: Sql,
  source: { kind: "call" | "session"; id: string },
): Promise<LeadRow | undefined> {
  const [row] = await sql<LeadRow[]>`
    select ${sql.unsafe(LEAD_COLUMNS)} from leads where source_kind = ${source.kind} and source_id = ${source.id}
    order by updated_at desc limit 1`;
  return row;
}
