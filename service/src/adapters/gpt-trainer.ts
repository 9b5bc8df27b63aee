import type { Sql } from "../db/client";
import { findProviderSession, saveProviderSession } from "../db/provider-sessions";
import {
  estimateTokens,
  type GenerateRequest,
  type GenerateResult,
  ModelError,
  type ModelProvider,
} from "../ports/model-provider";

export interface GptTrainerOptions {
  apiKey: string;
  chatbotUuid: string;
  /** @default "https://app.gpt-trainer.com/api/v1" */
  baseUrl?: string | undefined;
  timeoutMs: number;
  sql: Sql;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/**
 * GPT-trainer, the original bridge's backend: a hosted chatbot with its own knowledge and memory, so it
 * gets only the newest message, in one GPT-trainer session per conversation (kept in the database so every
 * instance continues the same one). It reports no token usage: counts are estimated.
 */
export class GptTrainerProvider implements ModelProvider {
  readonly name = "gpt-trainer";
  private readonly base: string;

  constructor(private readonly opts: GptTrainerOptions) {
    this.base = (opts.baseUrl ?? "https://app.gpt-trainer.com/api/v1").replace(/\/+$/, "");
  }

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.opts.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      throw new ModelError("gpt-trainer call failed", {
        retryable: true,
        upstream: "gpt-trainer",
        cause: error,
      });
    }
    if (!res.ok) {
      const retryAfter = Number(res.headers.get("retry-after"));
      throw new ModelError(`gpt-trainer ${res.status}`, {
        status: res.status,
        retryable: RETRYABLE.has(res.status),
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
        upstream: "gpt-trainer",
      });
    }
    return res;
  }

  private async session(conversationKey: string, signal?: AbortSignal): Promise<string> {
    const found = await findProviderSession(this.opts.sql, conversationKey);
    if (found) return found;
    const res = await this.post(`/chatbot/${this.opts.chatbotUuid}/session/create`, {}, signal);
    const created = (await res.json()) as { uuid?: string };
    if (!created.uuid)
      throw new ModelError("gpt-trainer returned no session uuid", {
        retryable: true,
        upstream: "gpt-trainer",
      });
    // Two instances racing create two sessions; the first stored wins and both continue it.
    return saveProviderSession(this.opts.sql, conversationKey, created.uuid);
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const query = [...req.turns].reverse().find((t) => t.role === "user")?.text ?? "";
    if (req.purpose === "summary") {
      // GPT-trainer keeps its own memory; a summary is not worth a hosted-bot call.
      return { text: "", model: "gpt-trainer", usage: zero(), functionCalls: [] };
    }
    const session = await this.session(req.conversationKey ?? "default", req.signal);
    const res = await this.post(`/session/${session}/message/stream`, { query }, req.signal);
    let text = "";
    if (res.body) {
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const delta = decoder.decode(chunk, { stream: true });
        if (!delta) continue;
        text += delta;
        await req.onDelta?.(delta);
      }
      const tail = decoder.decode();
      if (tail) {
        text += tail;
        await req.onDelta?.(tail);
      }
    }
    return {
      text,
      model: "gpt-trainer",
      finishReason: "STOP",
      usage: {
        inputTokens: estimateTokens(query),
        outputTokens: estimateTokens(text),
        cachedTokens: 0,
        thoughtsTokens: 0,
      },
      functionCalls: [],
    };
  }
}

function zero() {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, thoughtsTokens: 0 };
}
