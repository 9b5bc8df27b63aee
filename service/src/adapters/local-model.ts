import type { Sql } from "../db/client";
import { type KnowledgeHit, searchKnowledge } from "../db/knowledge";
import type { KnowledgeFallback } from "../ports/knowledge-fallback";
import {
  estimateTokens,
  type GenerateRequest,
  type GenerateResult,
  type ModelProvider,
} from "../ports/model-provider";

export const NO_ANSWER =
  "I don't have an answer to that: it isn't covered by our help center articles. Try rephrasing your question, or ask to talk to a person.";

/**
 * The offline provider: answers from the Markdown knowledge base through PostgreSQL full-text search, and
 * says plainly when the knowledge base has no answer. No network, no key; also the fallback when the
 * configured model is down.
 */
export class LocalKnowledgeProvider implements ModelProvider, KnowledgeFallback {
  readonly name = "local";

  constructor(
    private readonly sql: Sql,
    private readonly opts: { minRank: number } = { minRank: 0.05 },
  ) {}

  async answer(question: string): Promise<KnowledgeHit | undefined> {
    const [best] = await searchKnowledge(this.sql, question, 1);
    return best && best.rank >= this.opts.minRank ? best : undefined;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const last = [...req.turns].reverse().find((t) => t.role === "user")?.text ?? "";
    let text: string;
    let confident = true;
    let sources: string[] = [];
    if (req.purpose === "summary") {
      text = extractiveSummary(last);
    } else {
      const hit = await this.answer(last);
      confident = hit !== undefined;
      sources = hit ? [hit.source] : [];
      text = hit ? `**${hit.heading}**\n\n${hit.body.trim()}\n\n(Source: ${hit.source})` : NO_ANSWER;
    }
    if (req.onDelta) {
      // Stream word groups so the SSE path behaves like a real model's.
      for (const piece of text.match(/\S+\s*/g) ?? []) await req.onDelta(piece);
    }
    const input = req.systemInstruction + (req.summary ?? "") + req.turns.map((t) => t.text).join("\n");
    return {
      text,
      model: "local",
      finishReason: confident ? "STOP" : "NO_ANSWER",
      usage: {
        inputTokens: estimateTokens(input),
        outputTokens: estimateTokens(text),
        cachedTokens: 0,
        thoughtsTokens: 0,
      },
      functionCalls: [],
      sources,
    };
  }
}

/** Without a model, a summary keeps the customer's own words, newest last, within ~120 words. */
function extractiveSummary(prompt: string): string {
  const previous = /Summary so far:\n([\s\S]*?)\n\n/.exec(prompt)?.[1] ?? "";
  const asked = [...prompt.matchAll(/^Customer: (.+)$/gm)].map((m) => m[1]);
  const words = `${previous} ${asked.join(" / ")}`.trim().split(/\s+/);
  return words.slice(Math.max(0, words.length - 120)).join(" ");
}
