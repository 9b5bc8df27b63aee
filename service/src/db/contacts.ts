import type { Sql } from "./client";

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
