import type { StoredMessage } from "../domain/turn";
import type { Sql } from "./client";

export interface MessageRow extends Omit<StoredMessage, "role"> {
  /** `agent`: a person of the tenant answered (migration 00019). */
  role: StoredMessage["role"] | "agent";
  model: string | null;
  createdAt: Date;
}

// Ids are selected as text (bigint precision in JSON), so ordering must name the table's column:
// a bare `order by id` would sort the text ("10" before "9").

export async function listMessages(
  sql: Sql,
  sessionId: string,
  page: { limit: number; before?: string | undefined },
): Promise<MessageRow[]> {
  const rows = await sql<MessageRow[]>`
    select id::text, role, content, tokens, model, created_at from messages
    where session_id = ${sessionId} ${page.before ? sql`and id < ${page.before}` : sql``}
    order by messages.id desc
    limit ${page.limit}`;
  return rows.reverse();
}
