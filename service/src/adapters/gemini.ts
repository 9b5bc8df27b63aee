import {
  ApiError,
  type Content,
  type GenerateContentConfig,
  type GenerateContentResponse,
  GoogleGenAI,
  type Tool,
} from "@google/genai";
import type { Sql } from "../db/client";
import type { Logger } from "../logger";
import {
  estimateTokens,
  type GenerateRequest,
  type GenerateResult,
  ModelError,
  type ModelProvider,
} from "../ports/model-provider";
import { ContextCacheRegistry } from "./context-caches";

export interface GeminiOptions {
  apiKey?: string | undefined;
  /** Keyless through Vertex AI with the runtime identity (roles/aiplatform.user). */
  vertex?: { project: string; location: string } | undefined;
  /** Another host: a regional endpoint, a proxy, or an emulator in tests. */
  baseUrl?: string | undefined;
  timeoutMs: number;
  /** Context caching, shared by all instances through the database. Off when unset. */
  cache?: { sql: Sql; ttlSeconds: number } | undefined;
  log: Logger;
}

// Below these sizes Gemini refuses to create a cached content.
// https://ai.google.dev/gemini-api/docs/caching
const CACHE_MIN_TOKENS: [RegExp, number][] = [
  [/pro/, 4096],
  [/./, 1024],
];
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
/** A request never references a cache about to expire. */
const CACHE_MARGIN_MS = 60_000;

export class GeminiProvider implements ModelProvider {
  readonly name = "gemini";
  readonly structuredOutput = true;
  private readonly ai: GoogleGenAI;
  /** Keys whose cache creation was refused (too small, unsupported model): send those inline. */
  private readonly uncacheable = new Set<string>();
  private readonly caches: ContextCacheRegistry | undefined;
  /** Cache lookups and creations under way, by key: concurrent turns wait for one, never create two. */
  private readonly pending = new Map<string, Promise<string | undefined>>();

  constructor(private readonly opts: GeminiOptions) {
    this.caches = opts.cache ? new ContextCacheRegistry(opts.cache.sql, CACHE_MARGIN_MS) : undefined;
    const httpOptions = { timeout: opts.timeoutMs, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) };
    this.ai = opts.vertex
      ? new GoogleGenAI({
          vertexai: true,
          project: opts.vertex.project,
          location: opts.vertex.location,
          httpOptions,
        })
      : new GoogleGenAI({ apiKey: opts.apiKey ?? "", httpOptions });
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const tools: Tool[] | undefined = req.tools?.length
      ? [
          {
            functionDeclarations: req.tools.map((t) => ({
              ...t,
              parametersJsonSchema: t.parameters,
              parameters: undefined,
            })),
          },
        ]
      : undefined;
    const cachedContent =
      req.context && req.contextIsStable
        ? await this.cachedContext(req, tools).catch(() => undefined)
        : undefined;

    const contents: Content[] = req.turns.map((t) => ({ role: t.role, parts: [{ text: t.text }] }));
    if (req.summary) {
      contents.unshift(
        { role: "user", parts: [{ text: `Summary of our conversation so far:\n${req.summary}` }] },
        { role: "model", parts: [{ text: "Understood." }] },
      );
    }
    // A cached content carries the system instruction and tools; the API rejects them twice.
    const config: GenerateContentConfig = {
      temperature: req.temperature,
      maxOutputTokens: req.maxOutputTokens,
      abortSignal: req.signal,
      // Structured output: Gemini constrains its answer to the schema (docs: ai.google.dev/gemini-api/docs/structured-output).
      ...(req.responseJsonSchema
        ? { responseMimeType: "application/json", responseJsonSchema: req.responseJsonSchema }
        : {}),
      ...(cachedContent
        ? { cachedContent }
        : {
            systemInstruction: req.context
              ? `${req.systemInstruction}\n\n${contextBlock(req.context)}`
              : req.systemInstruction,
            ...(tools ? { tools } : {}),
          }),
    };

    try {
      return await this.call(req, contents, config);
    } catch (error) {
      // A cache can vanish before its recorded expiry (deleted, or another region): retry inline once.
      if (cachedContent && error instanceof ModelError && (error.status === 403 || error.status === 404)) {
        if (this.caches) await this.caches.forget(this.cacheKey(this.caches, req, tools));
        const { cachedContent: _dropped, ...inline } = config;
        return this.call(req, contents, {
          ...inline,
          systemInstruction: `${req.systemInstruction}\n\n${contextBlock(req.context ?? "")}`,
          ...(tools ? { tools } : {}),
        });
      }
      throw error;
    }
  }

  private async call(
    req: GenerateRequest,
    contents: Content[],
    config: GenerateContentConfig,
  ): Promise<GenerateResult> {
    try {
      if (!req.onDelta) {
        const response = await this.ai.models.generateContent({ model: req.model, contents, config });
        return toResult(req.model, response, response.text ?? "");
      }
      const stream = await this.ai.models.generateContentStream({ model: req.model, contents, config });
      let text = "";
      let last: GenerateContentResponse | undefined;
      const calls: GenerateResult["functionCalls"] = [];
      for await (const chunk of stream) {
        last = chunk;
        const delta = chunk.text ?? "";
        for (const call of chunk.functionCalls ?? [])
          calls.push({ name: call.name ?? "", args: call.args ?? {} });
        if (delta) {
          text += delta;
          await req.onDelta(delta);
        }
      }
      const result = toResult(req.model, last, text);
      return { ...result, functionCalls: calls };
    } catch (error) {
      throw toModelError(error);
    }
  }

  private cacheKey(caches: ContextCacheRegistry, req: GenerateRequest, tools: Tool[] | undefined): string {
    return caches.key({
      model: req.model,
      systemInstruction: req.systemInstruction,
      context: req.context ?? "",
      tools,
    });
  }

  /** The name of a cached content holding the system instruction, grounding and tools, creating it once. */
  private async cachedContext(req: GenerateRequest, tools: Tool[] | undefined): Promise<string | undefined> {
    const caches = this.caches;
    if (!caches || !req.context) return undefined;
    const estimated = estimateTokens(req.systemInstruction) + estimateTokens(req.context);
    const minimum = CACHE_MIN_TOKENS.find(([pattern]) => pattern.test(req.model))?.[1] ?? 4096;
    if (estimated < minimum) return undefined;
    const key = this.cacheKey(caches, req, tools);
    if (this.uncacheable.has(key)) return undefined;
    const under = this.pending.get(key);
    if (under) return under;
    const found = caches.find(key).then((name) => name ?? this.createCache(req, tools, key, estimated));
    this.pending.set(key, found);
    return found.finally(() => this.pending.delete(key));
  }

  private async createCache(
    req: GenerateRequest,
    tools: Tool[] | undefined,
    key: string,
    estimated: number,
  ): Promise<string | undefined> {
    const caches = this.caches;
    const ttlSeconds = this.opts.cache?.ttlSeconds ?? 0;
    if (!caches || !req.context) return undefined;
    try {
      const created = await this.ai.caches.create({
        model: req.model,
        config: {
          displayName: `switchboard-${key.slice(0, 12)}`,
          systemInstruction: req.systemInstruction,
          contents: [{ role: "user", parts: [{ text: contextBlock(req.context) }] }],
          ...(tools ? { tools } : {}),
          ttl: `${ttlSeconds}s`,
        },
      });
      if (!created.name) return undefined;
      const expiresAt = created.expireTime
        ? new Date(created.expireTime)
        : new Date(Date.now() + ttlSeconds * 1000);
      await caches.save({
        key,
        name: created.name,
        model: req.model,
        tokens: created.usageMetadata?.totalTokenCount ?? estimated,
        expiresAt,
      });
      return created.name;
    } catch (error) {
      const modelError = toModelError(error);
      if (modelError.status === 400) this.uncacheable.add(key);
      this.opts.log.warn(
        { event: "context_cache.unavailable", status: modelError.status },
        "context cache not created",
      );
      return undefined;
    }
  }
}

function contextBlock(context: string): string {
  return `# Knowledge base\nAnswer from these articles when they cover the question.\n\n${context}`;
}

function toResult(
  model: string,
  response: GenerateContentResponse | undefined,
  text: string,
): GenerateResult {
  const usage = response?.usageMetadata;
  const candidate = response?.candidates?.[0];
  return {
    text,
    model: response?.modelVersion ?? model,
    finishReason: candidate?.finishReason,
    usage: {
      inputTokens: usage?.promptTokenCount ?? 0,
      outputTokens: usage?.candidatesTokenCount ?? 0,
      cachedTokens: usage?.cachedContentTokenCount ?? 0,
      thoughtsTokens: usage?.thoughtsTokenCount ?? 0,
    },
    functionCalls: (response?.functionCalls ?? []).map((c) => ({ name: c.name ?? "", args: c.args ?? {} })),
  };
}

/** Google's error body (JSON in the SDK's message) → a classified ModelError with the upstream's wait. */
export function toModelError(error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  if (error instanceof ApiError) {
    const body = parseErrorBody(error.message);
    return new ModelError(`gemini ${error.status}: ${body?.status ?? "error"}`, {
      status: error.status,
      retryable: RETRYABLE.has(error.status),
      retryAfterMs: retryDelayMs(body?.details),
      upstream: "gemini",
      cause: error,
    });
  }
  const name = error instanceof Error ? error.name : "";
  const timedOut =
    name === "AbortError" || name === "TimeoutError" || /abort|timed? ?out/i.test(String(error));
  return new ModelError(timedOut ? "gemini call timed out" : "gemini call failed", {
    retryable: true,
    upstream: "gemini",
    cause: error,
  });
}

interface GoogleErrorBody {
  status?: string;
  details?: { "@type"?: string; retryDelay?: string }[];
}

function parseErrorBody(message: string): GoogleErrorBody | undefined {
  const start = message.indexOf("{");
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(message.slice(start)) as { error?: GoogleErrorBody };
    return parsed.error;
  } catch {
    return undefined;
  }
}

function retryDelayMs(details: GoogleErrorBody["details"]): number | undefined {
  const info = details?.find((d) => d["@type"]?.endsWith("google.rpc.RetryInfo"));
  const match = info?.retryDelay ? /^(\d+(?:\.\d+)?)s$/.exec(info.retryDelay) : null;
  return match?.[1] ? Math.ceil(Number(match[1]) * 1000) : undefined;
}
