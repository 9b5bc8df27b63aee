import type { Sql } from "./client";

export interface KnowledgeChunk {
  source: string;
  heading: string;
  body: string;
}

export interface KnowledgeHit extends KnowledgeChunk {
  rank: number;
}

/**
 * Replaces the knowledge base when its content changed (version = content hash); instances starting
 * together serialize on the row lock of the version key.
 */
export async function syncKnowledge(
  sql: Sql,
  version: string,
  chunks: readonly KnowledgeChunk[],
): Promise<boolean> {
  return sql.begin(async (tx) => {
    await tx`insert into app_state (key, value) values ('knowledge_version', '') on conflict do nothing`;
    const [current] = await tx<{ value: string }[]>`
      select value from app_state where key = 'knowledge_version' for update`;
    if (current?.value === version) return false;
    await tx`delete from knowledge_chunks`;
    if (chunks.length > 0)
      await tx`insert into knowledge_chunks ${tx(chunks as KnowledgeChunk[], "source", "heading", "body")}`;
    await tx`update app_state set value = ${version}, updated_at = now() where key = 'knowledge_version'`;
    return true;
  });
}

/**
 * Full-text search over the knowledge base. `websearch_to_tsquery` is strict (every word must match),
 * so the question's words are OR-ed instead and ranked, which suits natural-language questions.
 */
export async function searchKnowledge(sql: Sql, question: string, limit: number): Promise<KnowledgeHit[]> {
  const words = question
    .toLowerCase()
    .match(/[\p{L}\p{N}]{2,}/gu)
    ?.slice(0, 32);
  if (!words || words.length === 0) return [];
  const query = words.join(" or ");
  return sql<KnowledgeHit[]>`
    with q as (select websearch_to_tsquery('english', ${query}) as query)
    select source, heading, body, ts_rank_cd(search, q.query, 32)::float8 as rank
    from knowledge_chunks, q
    where search @@ q.query
    order by rank desc, id
    limit ${limit}`;
}
