import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Sql } from "../db/client";
import {
  deleteDocument,
  type KnowledgeChunk,
  type KnowledgeDocument,
  listDocuments,
  putDocument,
  readKnowledge,
  searchKnowledge,
  staleFileDocuments,
} from "../db/knowledge";
import { estimateTokens } from "../ports/model-provider";

/** One chunk per `##` section (or the whole file when it has none), titled with its heading. */
export function chunkMarkdown(source: string, markdown: string): KnowledgeChunk[] {
  const text = markdown.replace(/\r\n/g, "\n");
  const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? source;
  const sections = text.split(/^(?=##\s)/m);
  const chunks: KnowledgeChunk[] = [];
  for (const section of sections) {
    const heading = /^##\s+(.+)$/m.exec(section)?.[1]?.trim();
    const body = section.replace(/^#{1,2}\s+.+$/gm, "").trim();
    if (!body) continue;
    chunks.push({ source, heading: heading ? `${title}: ${heading}` : title, body });
  }
  return chunks;
}

/** A document's chunks: its title is the heading of every section, as a `# title` line would make it. */
export function documentChunks(doc: KnowledgeDocument, source = doc.slug): KnowledgeChunk[] {
  const markdown = /^#\s+/m.test(doc.body) ? doc.body : `# ${doc.title}\n\n${doc.body}`;
  return chunkMarkdown(source, markdown);
}

async function markdownFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".md"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** `billing/refunds.md` → `billing-refunds`: a document slug (lowercase letters, digits, `-`). */
export function slugOfPath(path: string): string {
  return path
    .replace(/\.md$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
}

/**
 * The deployment's Markdown directory (KNOWLEDGE_DIR) as the current tenant's `files` documents: changed
 * files are written again, removed ones deleted; documents added through the admin API are left alone.
 * Runs in the default tenant's scope at start.
 */
export async function syncKnowledgeFiles(sql: Sql, dir: string): Promise<void> {
  const files = await markdownFiles(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const stored = new Map((await listDocuments(sql)).map((d) => [d.slug, d]));
  const slugs: string[] = [];
  for (const file of files) {
    const source = relative(dir, file);
    const body = await readFile(file, "utf8");
    const slug = slugOfPath(source);
    if (!slug) continue;
    slugs.push(slug);
    const title = /^#\s+(.+)$/m.exec(body)?.[1]?.trim() ?? source;
    const current = stored.get(slug);
    if (current?.origin === "api") continue; // an admin's document of that name wins over the file
    if (current && current.body === body && current.title === title) continue;
    await putDocument(sql, { slug, title, body }, documentChunks({ slug, title, body }, source), "files");
  }
  for (const slug of await staleFileDocuments(sql, slugs)) await deleteDocument(sql, slug);
}

export interface KnowledgeBase {
  /** Every article, for grounding when it is small enough to send (and cache) whole. */
  fullText: string;
  tokens: number;
  chunks: number;
  /** The few sections that match a question, for a knowledge base too large to send whole. */
  search(question: string, limit?: number): Promise<string>;
}

/** A tenant's knowledge as the engine uses it; `sql` must be awaited in that tenant's scope. */
export async function loadKnowledgeBase(sql: Sql): Promise<KnowledgeBase> {
  const { chunks } = await readKnowledge(sql);
  const fullText = chunks.map((c) => `## ${c.heading}\n${c.body}`).join("\n\n");
  return {
    fullText,
    tokens: estimateTokens(fullText),
    chunks: chunks.length,
    async search(question, limit = 3) {
      const hits = await searchKnowledge(sql, question, limit);
      return hits.map((h) => `## ${h.heading}\n${h.body}`).join("\n\n");
    },
  };
}
