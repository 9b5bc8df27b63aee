import type { Sql } from "./client";

export interface SessionRow {
  id: string;
  identityId: string;
  channel: string;
  externalRef: string | null;
  summary: string | null;
  summarizedThrough: string;
  turns: number;
  createdAt: Date;
  updatedAt: Date;
}

export async function findSession(sql: Sql, id: string): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`select * from sessions where id = ${id}`;
  return row;
}

export async function insertSession(
  sql: Sql,
  s: { id: string; identityId: string; channel: string; externalRef?: string | undefined },
): Promise<SessionRow> {
  const [row] = await sql<SessionRow[]>`
    insert into sessions (id, identity_id, channel, external_ref)
    values (${s.id}, ${s.identityId}, ${s.channel}, ${s.externalRef ?? null})
    on conflict (channel, external_ref) where external_ref is not null
    do update set updated_at = sessions.updated_at
    returning *`;
  if (!row) throw new Error("session insert returned no row");
  return row;
}

export async function findSessionByRef(sql: Sql, channel: string, externalRef: string) {
  const [row] = await sql<SessionRow[]>`
    select * from sessions where channel = ${channel} and external_ref = ${externalRef}`;
  return row;
}

export async function saveSummary(sql: Sql, id: string, summary: string, through: string) {
  await sql`
    update sessions set summary = ${summary}, summarized_through = ${through}
    where id = ${id} and summarized_through < ${through}`;
}
