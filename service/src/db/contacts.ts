import type { Sql, TransactionSql } from "./client";

/** A person of the current tenant, as the channels share them. */
export interface Contact {
  id: string;
  phone: string | null;
  email: string | null;
  name: string | null;
  intercomContactId: string | null;
}

/**
 * The tenant's contact with this phone number (E.164), created on first contact. One statement: the
 * upsert touches nothing when the contact exists, so a reply costs no write.
 */
export async function upsertContactByPhone(sql: Sql, phone: string): Promise<Contact> {
  const [row] = await sql<Contact[]>`
    with created as (
      insert into contacts (phone) values (${phone})
      on conflict (tenant_id, phone) where phone is not null do nothing
      returning id, phone, email, name, intercom_contact_id
    )
    select * from created
    union all
    select id, phone, email, name, intercom_contact_id from contacts
    where phone = ${phone} and not exists (select 1 from created)`;
  if (!row) throw new Error("contact upsert returned no row");
  return row;
}

export async function findContactByPhone(sql: Sql, phone: string): Promise<Contact | undefined> {
  const [row] = await sql<Contact[]>`
    select id, phone, email, name, intercom_contact_id from contacts where phone = ${phone}`;
  return row;
}

/** What a channel or an extraction knows of a person; handles already normalised (E.164, lower-case). */
export interface ContactHandles {
  /** A contact already known to be this person (a session's linked contact): merged with the rest. */
  id?: string | null | undefined;
  phone?: string | null | undefined;
  email?: string | null | undefined;
  intercomContactId?: string | null | undefined;
  name?: string | null | undefined;
  company?: string | null | undefined;
  /** The channel the person came through (`sms`, `web`, `voice`, `intercom`), added to `channels`. */
  channel?: string | null | undefined;
}

export interface MergedContact extends Contact {
  company: string | null;
  channels: string[];
  /** Contacts found to be this same person and folded into it (their rows now point here). */
  mergedIds: string[];
}

const CONTACT_COLUMNS = "id, phone, email, name, intercom_contact_id, company, channels";

/**
 * The tenant's one contact for these handles: found by any of them (phone, e-mail, Intercom id), created
 * when none matches, with the handles it lacked filled in. When the handles match two or more contacts
 * (a caller's phone, and the e-mail they once typed in the widget), those are one person: the oldest
 * keeps its id, the others' conversations, calls, extractions and leads move to it, and they are deleted.
 * A handle the kept contact has already (another e-mail) is not overwritten. Serialised per tenant by a
 * transaction-scoped advisory lock, so two merges of the same person never create two contacts.
 */
export async function mergeContact(sql: Sql, handles: ContactHandles): Promise<MergedContact> {
  try {
    return await mergeOnce(sql, handles);
  } catch (error) {
    // The SMS path creates a contact by phone without the lock: a merge that raced it finds it next time.
    if ((error as { code?: string }).code !== "23505") throw error;
    return mergeOnce(sql, handles);
  }
}

async function mergeOnce(sql: Sql, handles: ContactHandles): Promise<MergedContact> {
  const email = handles.email?.trim().toLowerCase() || null;
  const phone = handles.phone || null;
  const intercom = handles.intercomContactId || null;
  const id = handles.id || null;
  if (!(email || phone || intercom || id))
    throw new Error("a contact needs a phone, an e-mail or an Intercom id");
  return (await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('contacts:' || app_tenant()::text))`;
    const found = await tx<MergedContact[]>`
      select ${tx.unsafe(CONTACT_COLUMNS)} from contacts
      where (${id}::uuid is not null and id = ${id}::uuid)
         or (${phone}::text is not null and phone = ${phone})
         or (${email}::text is not null and email = ${email})
         or (${intercom}::text is not null and intercom_contact_id = ${intercom})
      order by created_at, id
      for update`;
    const [keep, ...others] = found;
    if (!keep && !(email || phone || intercom)) throw new Error("the contact to merge into is gone");
    if (!keep)
      return {
        ...(await insertContact(tx, { ...handles, email, phone, intercomContactId: intercom })),
        mergedIds: [],
      };
    const otherIds = others.map((o) => o.id);
    if (otherIds.length > 0) await foldInto(tx, keep.id, otherIds);
    // The kept contact's own handles win; what it lacks comes from the folded ones, then from the input.
    const pick = <K extends "phone" | "email" | "intercomContactId" | "name" | "company">(key: K) =>
      keep[key] ?? others.find((o) => o[key])?.[key] ?? null;
    const channels = [
      ...new Set([
        ...keep.channels,
        ...others.flatMap((o) => o.channels),
        ...(handles.channel ? [handles.channel] : []),
      ]),
    ];
    const [row] = await tx<MergedContact[]>`
      update contacts set
        phone = ${pick("phone") ?? phone},
        email = ${pick("email") ?? email},
        intercom_contact_id = ${pick("intercomContactId") ?? intercom},
        name = ${pick("name") ?? handles.name ?? null},
        company = ${pick("company") ?? handles.company ?? null},
        channels = ${channels}::text[],
        updated_at = now()
      where id = ${keep.id}
      returning ${tx.unsafe(CONTACT_COLUMNS)}`;
    if (!row) throw new Error("merged contact vanished");
    return { ...row, mergedIds: otherIds };
  })) as MergedContact;
}

async function insertContact(
  tx: TransactionSql,
  h: ContactHandles,
): Promise<Contact & { company: string | null; channels: string[] }> {
  const [row] = await tx<MergedContact[]>`
    insert into contacts (phone, email, intercom_contact_id, name, company, channels)
    values (${h.phone ?? null}, ${h.email ?? null}, ${h.intercomContactId ?? null}, ${h.name ?? null},
            ${h.company ?? null}, ${h.channel ? [h.channel] : []}::text[])
    returning ${tx.unsafe(CONTACT_COLUMNS)}`;
  if (!row) throw new Error("contact insert returned no row");
  return row;
}

/**
 * Moves everything of `from` to `to` and deletes `from`. Two open leads cannot both stay (one open lead
 * per contact): the kept contact's open lead takes the other's follow-ups, and the other is deleted.
 */
async function foldInto(tx: TransactionSql, to: string, from: string[]) {
  await tx`update sessions set contact_id = ${to} where contact_id = any(${from}::uuid[])`;
  await tx`update calls set contact_id = ${to} where contact_id = any(${from}::uuid[])`;
  await tx`update extractions set contact_id = ${to} where contact_id = any(${from}::uuid[])`;
  // Cascading with a folded contact, an e-mail's record would go, and with it what keeps it answered once.
  await tx`update email_messages set contact_id = ${to} where contact_id = any(${from}::uuid[])`;
  const [open] = await tx<{ id: string }[]>`
    select id from leads where contact_id = ${to} and status not in ('won', 'lost')`;
  if (open) {
    await tx`
      update leads set follow_ups = leads.follow_ups || coalesce((
          select jsonb_agg(f) from leads o, jsonb_array_elements(o.follow_ups) f
          where o.contact_id = any(${from}::uuid[]) and o.status not in ('won', 'lost')), '[]'::jsonb),
        updated_at = now()
      where id = ${open.id}`;
    await tx`delete from leads where contact_id = any(${from}::uuid[]) and status not in ('won', 'lost')`;
  } else {
    // The oldest of the others' open leads becomes the kept contact's; any further one is folded away too.
    await tx`
      delete from leads where contact_id = any(${from}::uuid[]) and status not in ('won', 'lost')
        and id <> (select id from leads where contact_id = any(${from}::uuid[]) and status not in ('won', 'lost')
                   order by created_at, id limit 1)`;
  }
  await tx`update leads set contact_id = ${to} where contact_id = any(${from}::uuid[])`;
  await tx`delete from contacts where id = any(${from}::uuid[])`;
}

/** A contact as the admin API lists it. */
export interface ContactRow extends Contact {
  company: string | null;
  channels: string[];
  createdAt: Date;
  updatedAt: Date;
}

const ROW_COLUMNS = "id, phone, email, name, intercom_contact_id, company, channels, created_at, updated_at";

/** `%` and `_` are literal in a search: `like` would read them as wildcards. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The tenant's contacts, newest first, a page at a time (keyset: the last row of the previous page);
 * `q` searches name, e-mail, phone and company (case-insensitive, a substring).
 */
export function listContacts(
  sql: Sql,
  page: { q?: string | undefined; limit: number; after?: { createdAt: Date; id: string } | undefined },
): Promise<ContactRow[]> {
  const pattern = page.q ? likePattern(page.q) : null;
  return sql<ContactRow[]>`
    select ${sql.unsafe(ROW_COLUMNS)} from contacts
    where (${pattern}::text is null
           or name ilike ${pattern} or email ilike ${pattern} or phone like ${pattern} or company ilike ${pattern})
      ${page.after ? sql`and (created_at, id) < (${page.after.createdAt}, ${page.after.id}::uuid)` : sql``}
    order by created_at desc, id desc
    limit ${page.limit}`;
}

export async function findContact(sql: Sql, id: string): Promise<ContactRow | undefined> {
  const [row] = await sql<ContactRow[]>`select ${sql.unsafe(ROW_COLUMNS)} from contacts where id = ${id}`;
  return row;
}

/** A contact's conversations (engine sessions of any channel), newest first. */
export function sessionsOfContact(sql: Sql, contactId: string, limit: number) {
  return sql<
    { id: string; channel: string; summary: string | null; turns: number; createdAt: Date; updatedAt: Date }[]
  >`
    select id, channel, summary, turns, created_at, updated_at from sessions
    where contact_id = ${contactId} order by updated_at desc, id desc limit ${limit}`;
}

/** A contact's calls with their summaries and transcripts, newest first. */
export function callsOfContact(sql: Sql, contactId: string, limit: number) {
  return sql<
    {
      id: string;
      fromNumber: string | null;
      toNumber: string | null;
      durationSec: number | null;
      reason: string | null;
      summary: string | null;
      transcript: unknown;
      endedAt: Date | null;
      createdAt: Date;
    }[]
  >`
    select id, from_number, to_number, duration_sec, reason, summary, transcript, ended_at, created_at from calls
    where contact_id = ${contactId} order by created_at desc, id desc limit ${limit}`;
}
