import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Sql } from "../db/client";
import { type KnowledgeChunk, searchKnowledge, syncKnowledge } from "../db/knowledge";
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

async function markdownFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".md"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

export interface KnowledgeBase {
  /** Every article, for grounding when it is small enough to send (and cache) whole. */
  fullText: string;
  tokens: number;
  chunks: number;
  /** The few sections that match a question, for a knowledge base too large to send whole. */
  search(question: string, limit?: number): Promise<string>;
}

/** Loads the Markdown knowledge base into PostgreSQL (only when it changed) and returns its view. */
export async function loadKnowledgeBase(sql: Sql, dir: string): Promise<KnowledgeBase> {
  const files = await markdownFiles(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const chunks: KnowledgeChunk[] = [];
  for (const file of files) chunks.push(...chunkMarkdown(relative(dir, file), await readFile(file, "utf8")));
  const version = createHash("sha256").update(JSON.stringify(chunks)).digest("hex").slice(0, 16);
  await syncKnowledge(sql, version, chunks);
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
