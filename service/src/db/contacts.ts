import type { Sql } from "./client";

/**
 * The tenant's contact with this phone number (E.164), made on first contact: every channel that knows a
 * person by their number (SMS now, calls later) joins the same record. One statement; the unique index
 * settles two first texts racing.
 */
export async function contactByPhone(sql: Sql, phone: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    with made as (
      insert into contacts (phone) values (${phone})
      on conflict (tenant_id, phone) where phone is not null do nothing
      returning id
    )
    select id from made
    union all
    select id from contacts where phone = ${phone}
    limit 1`;
  if (!row) throw new Error("contact not found after insert");
  return row.id;
}
