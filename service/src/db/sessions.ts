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

export async function findSessionByRef(sql: Sql, channel: string, externalRef: string) {
  const [row] = await sql<SessionRow[]>`
    select * from sessions where channel = ${channel} and external_ref = ${externalRef}`;
  return row;
}
