import type { Sql } from "./client";

/**
 * A tenant's knowledge: Markdown documents and their searchable chunks. Every function here runs in the
 * caller's tenant scope (db/tenant-scope.ts): row-level security limits it to that tenant's rows, so none
 * filters by tenant itself.
 */

export interface KnowledgeChunk {
  source: string;
  heading: string;
  body: string;
}

export interface KnowledgeHit extends KnowledgeChunk {
  rank: number;
}

export interface KnowledgeDocument {
  slug: string;
  title: string;
  body: string;
}

export interface StoredDocument extends KnowledgeDocument {
  origin: "files" | "api";
  updatedAt: Date;
}

/** The tenant's knowledge version: a hash of its documents, the key of its context cache. */
function refreshVersion(tx: Sql) {
  return tx`
    update tenants set knowledge_version = coalesce((
      select md5(string_agg(slug || ':' || md5(title || E'\\n' || body), ',' order by slug))
      from knowledge_documents), ''), updated_at = now()
    where id = app_tenant()
    returning knowledge_version`;
}

/** Creates or replaces one document and its chunks; returns the tenant's new knowledge version. */
export async function putDocument(
  sql: Sql,
  doc: KnowledgeDocument,
  chunks: readonly KnowledgeChunk[],
  origin: "files" | "api" = "api",
): Promise<string> {
  return sql.begin(async (tx) => {
    await tx`
      insert into knowledge_documents (slug, title, body, origin) values (${doc.slug}, ${doc.title}, ${doc.body}, ${origin})
      on conflict (tenant_id, slug) do update
      set title = excluded.title, body = excluded.body, origin = excluded.origin, updated_at = now()`;
    await tx`delete from knowledge_chunks where document = ${doc.slug}`;
    const rows = chunks.map((c) => ({ ...c, document: doc.slug }));
    if (rows.length > 0)
      await tx`insert into knowledge_chunks ${tx(rows, "source", "heading", "body", "document")}`;
    const [row] = await refreshVersion(tx as unknown as Sql);
    return (row?.knowledgeVersion as string | undefined) ?? "";
  });
}

/** Deletes one document and its chunks; false when the tenant has no such document. */
export async function deleteDocument(sql: Sql, slug: string): Promise<boolean> {
  return sql.begin(async (tx) => {
    const gone = await tx`delete from knowledge_documents where slug = ${slug} returning slug`;
    if (gone.length === 0) return false;
    await tx`delete from knowledge_chunks where document = ${slug}`;
    await refreshVersion(tx as unknown as Sql);
    return true;
  });
}

export async function listDocuments(sql: Sql): Promise<StoredDocument[]> {
  return sql<StoredDocument[]>`
    select slug, title, body, origin, updated_at from knowledge_documents order by slug`;
}

export async function getDocument(sql: Sql, slug: string): Promise<StoredDocument | undefined> {
  const [row] = await sql<StoredDocument[]>`
    select slug, title, body, origin, updated_at from knowledge_documents where slug = ${slug}`;
  return row;
}

/** The documents synced from files that are no longer among `keep`: removed from the directory. */
export async function staleFileDocuments(sql: Sql, keep: readonly string[]): Promise<string[]> {
  const rows = await sql<{ slug: string }[]>`
    select slug from knowledge_documents where origin = 'files' and slug <> all(${keep as string[]}::text[])`;
  return rows.map((r) => r.slug);
}

/** The tenant's chunks in document order and its knowledge version, to send the knowledge whole. */
export async function readKnowledge(sql: Sql): Promise<{ version: string; chunks: KnowledgeChunk[] }> {
  const [row] = await sql<{ version: string | null; chunks: KnowledgeChunk[] }[]>`
    select t.knowledge_version as version,
      coalesce((select json_agg(json_build_object('source', c.source, 'heading', c.heading, 'body', c.body)
                order by c.document, c.id) from knowledge_chunks c), '[]') as chunks
    from tenants t where t.id = app_tenant()`;
  return { version: row?.version ?? "", chunks: row?.chunks ?? [] };
}

/**
 * Full-text search over the tenant's knowledge. `websearch_to_tsquery` is strict (every word must match),
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
