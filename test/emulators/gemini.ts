/**
 * Gemini Developer API emulator (`generativelanguage.googleapis.com`, v1beta) for `@google/genai` 2.x.
 *
 * Point the real SDK at it with
 * `new GoogleGenAI({ apiKey: emulator.apiKey, httpOptions: { baseUrl: emulator.url } })`.
 *
 * Covered of the real service:
 * - `POST /v1beta/models/{model}:generateContent`
 * - `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` — `text/event-stream`, one
 *   `data: <GenerateContentResponse JSON>` event per chunk, events separated by a blank line (CRLF CRLF, as
 *   Google's front end frames it, with its `{"key": value,"next": …}` JSON spacing; the SDK accepts LF, CR and
 *   CRLF). Every chunk carries `modelVersion`, the same `responseId` and a running `usageMetadata` (prompt
 *   counts plus the candidates tokens produced so far); the last chunk carries `finishReason` and the
 *   complete `usageMetadata`. A failure after the stream started is sent as a final
 *   `data: {"error":{…}}` event (the SDK turns it into an `ApiError`), or as a dropped connection.
 * - `POST /v1beta/models/{model}:countTokens` → `{ totalTokens, promptTokensDetails }`.
 * - `GET /v1beta/models`, `GET /v1beta/models/{model}` (static model descriptions of `emulator.models`).
 * - `POST /v1beta/cachedContents`, `GET /v1beta/cachedContents`, `GET|PATCH|DELETE /v1beta/cachedContents/{id}`,
 *   with TTL/expiry, the minimum-size check ("Cached content is too small…"), and the generateContent rules
 *   for `cachedContent` (same model; no `systemInstruction`/`tools`/`toolConfig` next to a cache; unknown or
 *   expired cache → 403 "CachedContent not found (or permission denied)").
 * - Auth: header `x-goog-api-key` (or `?key=`). A wrong key → 400 INVALID_ARGUMENT with
 *   `ErrorInfo.reason = "API_KEY_INVALID"`; no key at all → 403 PERMISSION_DENIED ("unregistered callers"),
 *   both as the real API answers.
 * - Errors use the real body `{"error":{"code","message","status","details"?}}`; an unknown model → 404
 *   NOT_FOUND; a scripted 429 carries `QuotaFailure`, `Help` and `RetryInfo { retryDelay: "<n>s" }`.
 *
 * Token counts are an estimate: ceil(characters / 4) of the text (and JSON of function calls/responses) in
 * `systemInstruction` + `contents`; with `cachedContent`, the cache's tokens are added to
 * `promptTokenCount` and reported as `cachedContentTokenCount`.
 *
 * Scripting: `enqueue(...scripts)` is consumed FIFO by generateContent / streamGenerateContent only; when the
 * queue is empty `setResponder(fn)` decides, and without a responder the default answer is
 * `Emulated answer to: <last user text, first 200 chars>` (a JSON value shaped by `responseSchema` /
 * `responseJsonSchema` when `responseMimeType` is `application/json`). `generationConfig.maxOutputTokens`
 * truncates an answer (finishReason `MAX_TOKENS`) unless the script sets `finishReason` itself.
 * A `hang` script waits, then answers as the responder / default would (it does not consume another queued
 * script); if the client gave up meanwhile nothing is sent.
 *
 * Not covered: Vertex AI paths, files, batches, embeddings, Live API, thinking parts / thought signatures,
 * safety ratings, grounding, implicit caching.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { paginate } from "./google-rest";
import {
  type EmulatorServer,
  isGone,
  isRecord,
  type RecordedRequest,
  sendGoogleError,
  sendJson,
  sendUnknownPath,
  startEmulatorServer,
} from "./http-server";

export type { RecordedRequest } from "./http-server";

export interface ModalityTokenCount {
  modality: string;
  tokenCount: number;
}

export interface UsageMetadataJson {
  promptTokenCount: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount: number;
  promptTokensDetails?: ModalityTokenCount[];
  cacheTokensDetails?: ModalityTokenCount[];
}

/** A cached content as stored; GET/list answers omit the input-only fields (contents, systemInstruction, tools). */
export interface CachedContentJson {
  /** `cachedContents/{id}` — also the key in `emulator.cachedContents`. */
  name: string;
  /** `models/{model}` */
  model: string;
  displayName?: string;
  createTime: string;
  updateTime: string;
  expireTime: string;
  usageMetadata: { totalTokenCount: number };
  contents?: unknown[];
  systemInstruction?: unknown;
  tools?: unknown[];
  toolConfig?: unknown;
}

export type GeminiScript =
  | { kind: "text"; text: string; finishReason?: string; usage?: Partial<UsageMetadataJson>; chunks?: number }
  | { kind: "functionCall"; name: string; args: Record<string, unknown>; text?: string }
  | {
      kind: "error";
      status: 400 | 403 | 404 | 429 | 500 | 503 | 504;
      retryDelaySeconds?: number;
      message?: string;
    }
  | { kind: "hang"; ms: number }
  | {
      kind: "stream-error";
      afterChunks: number;
      text: string;
      /** `"error-event"` (default): a final `data: {"error":…}` event; `"disconnect"`: the socket is destroyed. */
      mode?: "error-event" | "disconnect";
    };

export interface GeminiRequestInfo {
  /** Model id without the `models/` prefix. */
  model: string;
  // biome-ignore lint/suspicious/noExplicitAny: the raw GenerateContentRequest JSON, for test responders
  body: any;
  stream: boolean;
}

export interface GeminiEmulator {
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  /** Model ids the emulator knows; anything else → 404 NOT_FOUND. Mutable. */
  models: Set<string>;
  enqueue(...scripts: GeminiScript[]): void;
  setResponder(fn: ((req: GeminiRequestInfo) => GeminiScript) | undefined): void;
  /** Added before the first byte of every generate/stream answer. */
  latencyMs: number;
  /** Between SSE chunks. */
  chunkDelayMs: number;
  cachedContents: Map<string, CachedContentJson>;
  /** Clears queue, responder, requests, caches and delays (models are kept). */
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_GEMINI_MODELS = [
  "gemini-2.0-flash",
  "gemini-2.0-flash-001",
  "gemini-2.0-flash-lite",
  "gemini-2.5-flash",
  "gemini-2.5-flash-lite",
  "gemini-2.5-pro",
  "gemini-3-pro-preview",
  "gemini-3-flash-preview",
  "gemini-flash-latest",
  "gemini-flash-lite-latest",
  "gemini-pro-latest",
] as const;

/** Minimum cached-content size, in the emulator's chars/4 token estimate. */
export function minCacheTokens(model: string): number {
  return model.includes("pro") ? 4096 : 1024;
}

/** The emulator's token estimate for a piece of text: ceil(chars / 4). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

const API_PREFIX = "/v1beta/";
const DEFAULT_TTL_SECONDS = 3600;

const ERROR_TEXT: Record<number, { status: Parameters<typeof sendGoogleError>[1]; message: string }> = {
  400: { status: "INVALID_ARGUMENT", message: "Request contains an invalid argument." },
  403: { status: "PERMISSION_DENIED", message: "The caller does not have permission" },
  404: { status: "NOT_FOUND", message: "Requested entity was not found." },
  429: {
    status: "RESOURCE_EXHAUSTED",
    message:
      "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
  },
  500: {
    status: "INTERNAL",
    message:
      "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  },
  503: { status: "UNAVAILABLE", message: "The model is overloaded. Please try again later." },
  504: { status: "DEADLINE_EXCEEDED", message: "Deadline expired before operation could complete." },
};

interface Answer {
  text: string;
  functionCall?: { name: string; args: Record<string, unknown> };
  finishReason: string;
  usage?: Partial<UsageMetadataJson>;
  chunks?: number;
}

export async function startGeminiEmulator(
  opts: { apiKey?: string; models?: string[] } = {},
): Promise<GeminiEmulator> {
  const apiKey = opts.apiKey ?? "emulator-gemini-key";
  const queue: GeminiScript[] = [];
  let responder: ((req: GeminiRequestInfo) => GeminiScript) | undefined;
  let responseCounter = 0;
  let cacheCounter = 0;
  const cachedContents = new Map<string, CachedContentJson>();
  const models = new Set<string>(opts.models ?? DEFAULT_GEMINI_MODELS);
  let server: EmulatorServer | undefined;

  const emulator: GeminiEmulator = {
    url: "",
    apiKey,
    requests: [],
    models,
    latencyMs: 0,
    chunkDelayMs: 0,
    cachedContents,
    enqueue(...scripts) {
      queue.push(...scripts);
    },
    setResponder(fn) {
      responder = fn;
    },
    reset() {
      queue.length = 0;
      responder = undefined;
      emulator.requests.length = 0;
      cachedContents.clear();
      emulator.latencyMs = 0;
      emulator.chunkDelayMs = 0;
    },
    close: async () => {
      await server?.close();
    },
  };

  const sleep = (ms: number) => server?.sleep(ms) ?? Promise.resolve();

  function liveCache(name: string): CachedContentJson | undefined {
    const cache = cachedContents.get(name);
    if (cache && Date.parse(cache.expireTime) <= Date.now()) {
      cachedContents.delete(name);
      return undefined;
    }
    return cache;
  }

  function checkKey(req: RecordedRequest, res: ServerResponse): boolean {
    const header = req.headers["x-goog-api-key"];
    const key = (Array.isArray(header) ? header[0] : header) ?? req.query.key;
    if (key === undefined || key === "") {
      sendGoogleError(
        res,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
      return false;
    }
    if (key !== apiKey) {
      const message = "API key not valid. Please pass a valid API key.";
      sendGoogleError(res, "INVALID_ARGUMENT", message, [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: "generativelanguage.googleapis.com" },
        },
        { "@type": "type.googleapis.com/google.rpc.LocalizedMessage", locale: "en-US", message },
      ]);
      return false;
    }
    return true;
  }

  function sendScriptedError(
    res: ServerResponse,
    script: Extract<GeminiScript, { kind: "error" }>,
    model: string,
  ): void {
    const known = ERROR_TEXT[script.status] ?? ERROR_TEXT[500];
    if (!known) return;
    const message = script.message ?? known.message;
    const details: unknown[] = [];
    if (script.status === 429) {
      details.push(
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [
            {
              quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
              quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
              quotaDimensions: { location: "global", model },
              quotaValue: "10",
            },
          ],
        },
        {
          "@type": "type.googleapis.com/google.rpc.Help",
          links: [
            {
              description: "Learn more about Gemini API quotas",
              url: "https://ai.google.dev/gemini-api/docs/rate-limits",
            },
          ],
        },
        {
          "@type": "type.googleapis.com/google.rpc.RetryInfo",
          retryDelay: `${script.retryDelaySeconds ?? 58}s`,
        },
      );
    } else if (script.retryDelaySeconds !== undefined) {
      details.push({
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        retryDelay: `${script.retryDelaySeconds}s`,
      });
    }
    sendGoogleError(res, known.status, message, details);
  }

  function requestChars(body: Record<string, unknown>): number {
    return contentChars(body.systemInstruction) + contentChars(body.contents);
  }

  function usageFor(
    body: Record<string, unknown>,
    answerText: string,
    functionCall: Answer["functionCall"],
    override: Partial<UsageMetadataJson> | undefined,
  ): UsageMetadataJson {
    const cache = typeof body.cachedContent === "string" ? liveCache(body.cachedContent) : undefined;
    const cachedTokens = cache?.usageMetadata.totalTokenCount ?? 0;
    const ownTokens = Math.ceil(requestChars(body) / 4);
    const promptTokenCount = ownTokens + cachedTokens;
    const candidatesTokenCount = estimateTokens(
      answerText + (functionCall ? JSON.stringify(functionCall) : ""),
    );
    const usage: UsageMetadataJson = {
      promptTokenCount,
      candidatesTokenCount,
      totalTokenCount: promptTokenCount + candidatesTokenCount,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokenCount }],
    };
    if (cache) {
      usage.cachedContentTokenCount = cachedTokens;
      usage.cacheTokensDetails = [{ modality: "TEXT", tokenCount: cachedTokens }];
    }
    if (override) {
      Object.assign(usage, override);
      if (override.totalTokenCount === undefined) {
        usage.totalTokenCount =
          usage.promptTokenCount +
          (usage.candidatesTokenCount ?? 0) +
          (usage.thoughtsTokenCount ?? 0) +
          (usage.toolUsePromptTokenCount ?? 0);
      }
      if (override.promptTokenCount !== undefined && override.promptTokensDetails === undefined) {
        usage.promptTokensDetails = [{ modality: "TEXT", tokenCount: usage.promptTokenCount }];
      }
    }
    return usage;
  }

  function defaultAnswer(body: Record<string, unknown>): Answer {
    const generationConfig = isRecord(body.generationConfig) ? body.generationConfig : {};
    let userText = lastUserText(body.contents);
    if (userText === undefined && typeof body.cachedContent === "string") {
      userText = lastUserText(liveCache(body.cachedContent)?.contents);
    }
    const text = `Emulated answer to: ${(userText ?? "").slice(0, 200)}`;
    if (generationConfig.responseMimeType === "application/json") {
      const schema = generationConfig.responseJsonSchema ?? generationConfig.responseSchema;
      const value = schema === undefined ? { answer: text } : valueForSchema(schema, text);
      return { text: JSON.stringify(value), finishReason: "STOP" };
    }
    return { text, finishReason: "STOP" };
  }

  function toAnswer(script: Extract<GeminiScript, { kind: "text" | "functionCall" }>): Answer {
    if (script.kind === "functionCall") {
      return {
        text: script.text ?? "",
        functionCall: { name: script.name, args: script.args },
        finishReason: "STOP",
      };
    }
    return {
      text: script.text,
      finishReason: script.finishReason ?? "STOP",
      ...(script.usage ? { usage: script.usage } : {}),
      ...(script.chunks !== undefined ? { chunks: script.chunks } : {}),
    };
  }

  function applyMaxTokens(answer: Answer, body: Record<string, unknown>, explicitFinish: boolean): Answer {
    const generationConfig = isRecord(body.generationConfig) ? body.generationConfig : {};
    const max = generationConfig.maxOutputTokens;
    if (explicitFinish || typeof max !== "number" || answer.functionCall) return answer;
    if (estimateTokens(answer.text) <= max) return answer;
    return { ...answer, text: answer.text.slice(0, max * 4), finishReason: "MAX_TOKENS" };
  }

  function candidateFor(parts: unknown[], finishReason: string | undefined): Record<string, unknown> {
    return {
      content: { parts, role: "model" },
      ...(finishReason ? { finishReason } : {}),
      index: 0,
    };
  }

  function nextResponseId(): string {
    responseCounter += 1;
    return `emu${responseCounter.toString(36).padStart(6, "0")}R${Date.now().toString(36)}`;
  }

  async function handleGenerate(
    res: ServerResponse,
    req: RecordedRequest,
    model: string,
    stream: boolean,
  ): Promise<void> {
    const body = req.body;
    if (!isRecord(body)) {
      sendGoogleError(
        res,
        "INVALID_ARGUMENT",
        `Invalid JSON payload received. ${describeBadJson(req.rawBody)}`,
      );
      return;
    }
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      sendGoogleError(
        res,
        "INVALID_ARGUMENT",
        "* GenerateContentRequest.contents: contents is not specified\n",
      );
      return;
    }
    if (typeof body.cachedContent === "string") {
      const cache = liveCache(body.cachedContent);
      if (!cache) {
        sendGoogleError(res, "PERMISSION_DENIED", "CachedContent not found (or permission denied)");
        return;
      }
      if (cache.model !== `models/${model}`) {
        sendGoogleError(
          res,
          "INVALID_ARGUMENT",
          `Model used by GenerateContent request (models/${model}) and CachedContent (${cache.model}) has to be the same.`,
        );
        return;
      }
      if (body.systemInstruction !== undefined || body.tools !== undefined || body.toolConfig !== undefined) {
        sendGoogleError(
          res,
          "INVALID_ARGUMENT",
          "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.",
        );
        return;
      }
    }

    let script = queue.shift() ?? responder?.({ model, body, stream });
    await sleep(emulator.latencyMs);
    if (isGone(res)) return;
    if (script?.kind === "hang") {
      await sleep(script.ms);
      if (isGone(res)) return;
      script = responder?.({ model, body, stream });
      if (script?.kind === "hang") script = undefined;
    }

    if (script?.kind === "error") {
      sendScriptedError(res, script, model);
      return;
    }
    if (script?.kind === "stream-error" && !stream) {
      sendScriptedError(res, { kind: "error", status: 500 }, model);
      return;
    }

    const responseId = nextResponseId();
    if (script?.kind === "stream-error") {
      await streamBroken(res, body, model, responseId, script);
      return;
    }
    const explicitFinish = script?.kind === "text" && script.finishReason !== undefined;
    const answer = applyMaxTokens(
      script === undefined ? defaultAnswer(body) : toAnswer(script),
      body,
      explicitFinish,
    );
    const usage = usageFor(body, answer.text, answer.functionCall, answer.usage);

    if (!stream) {
      const parts: unknown[] = [];
      if (answer.text !== "" || !answer.functionCall) parts.push({ text: answer.text });
      if (answer.functionCall) parts.push({ functionCall: answer.functionCall });
      sendJson(res, 200, {
        candidates: [candidateFor(parts, answer.finishReason)],
        usageMetadata: usage,
        modelVersion: model,
        responseId,
      });
      return;
    }

    // Like the real stream, every chunk carries usage so far: the prompt counts and the candidates produced up
    // to that chunk (cumulative); the last chunk carries the complete numbers.
    const partialUsage = (charsSoFar: number): UsageMetadataJson => {
      const candidates = Math.min(Math.ceil(charsSoFar / 4), usage.candidatesTokenCount ?? 0);
      return {
        promptTokenCount: usage.promptTokenCount,
        ...(candidates > 0 ? { candidatesTokenCount: candidates } : {}),
        totalTokenCount: usage.promptTokenCount + candidates,
        ...(usage.cachedContentTokenCount !== undefined
          ? { cachedContentTokenCount: usage.cachedContentTokenCount }
          : {}),
        ...(usage.promptTokensDetails ? { promptTokensDetails: usage.promptTokensDetails } : {}),
      };
    };
    const events: Record<string, unknown>[] = [];
    const textPieces = answer.functionCall
      ? answer.text === ""
        ? []
        : [answer.text]
      : splitText(answer.text, answer.chunks ?? defaultChunkCount(answer.text));
    for (const piece of textPieces) events.push({ candidates: [candidateFor([{ text: piece }], undefined)] });
    if (answer.functionCall) {
      events.push({ candidates: [candidateFor([{ functionCall: answer.functionCall }], undefined)] });
    }
    if (events.length === 0) events.push({ candidates: [candidateFor([{ text: "" }], undefined)] });
    const last = events[events.length - 1];
    const lastCandidates = last?.candidates;
    if (Array.isArray(lastCandidates) && isRecord(lastCandidates[0])) {
      lastCandidates[0].finishReason = answer.finishReason;
    }
    startSse(res);
    let charsSoFar = 0;
    for (const [i, event] of events.entries()) {
      if (i > 0) await sleep(emulator.chunkDelayMs);
      if (isGone(res)) return;
      const isLast = i === events.length - 1;
      charsSoFar += textPieces[i]?.length ?? 0;
      await writeSse(res, {
        ...event,
        usageMetadata: isLast ? usage : partialUsage(charsSoFar),
        modelVersion: model,
        responseId,
      });
    }
    res.end();
  }

  async function streamBroken(
    res: ServerResponse,
    body: Record<string, unknown>,
    model: string,
    responseId: string,
    script: Extract<GeminiScript, { kind: "stream-error" }>,
  ): Promise<void> {
    const promptTokenCount = usageFor(body, "", undefined, undefined).promptTokenCount;
    const pieces = script.afterChunks > 0 ? splitText(script.text, script.afterChunks) : [];
    startSse(res);
    let charsSoFar = 0;
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await sleep(emulator.chunkDelayMs);
      if (isGone(res)) return;
      charsSoFar += piece.length;
      const candidatesTokenCount = Math.ceil(charsSoFar / 4);
      await writeSse(res, {
        candidates: [candidateFor([{ text: piece }], undefined)],
        usageMetadata: {
          promptTokenCount,
          candidatesTokenCount,
          totalTokenCount: promptTokenCount + candidatesTokenCount,
        },
        modelVersion: model,
        responseId,
      });
    }
    await sleep(emulator.chunkDelayMs);
    if (isGone(res)) return;
    if (script.mode === "disconnect") {
      // Give the client a moment to read what was sent, then drop the connection mid-response.
      await sleep(20);
      res.socket?.destroy();
      return;
    }
    const internal = ERROR_TEXT[500];
    await writeSse(res, { error: { code: 500, message: internal?.message, status: "INTERNAL" } });
    res.end();
  }

  function handleCountTokens(res: ServerResponse, req: RecordedRequest): void {
    const body = isRecord(req.body) ? req.body : {};
    const inner = isRecord(body.generateContentRequest) ? body.generateContentRequest : body;
    let total = Math.ceil(requestChars(inner) / 4);
    if (typeof inner.cachedContent === "string") {
      total += liveCache(inner.cachedContent)?.usageMetadata.totalTokenCount ?? 0;
    }
    sendJson(res, 200, {
      totalTokens: total,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: total }],
    });
  }

  function publicCache(cache: CachedContentJson): Record<string, unknown> {
    const { contents: _c, systemInstruction: _s, tools: _t, toolConfig: _tc, ...rest } = cache;
    return rest;
  }

  function handleCreateCache(res: ServerResponse, req: RecordedRequest): void {
    const body = req.body;
    if (!isRecord(body)) {
      sendGoogleError(
        res,
        "INVALID_ARGUMENT",
        `Invalid JSON payload received. ${describeBadJson(req.rawBody)}`,
      );
      return;
    }
    const modelName = typeof body.model === "string" ? body.model : "";
    if (modelName === "") {
      sendGoogleError(
        res,
        "INVALID_ARGUMENT",
        "* CreateCachedContentRequest.cached_content.model: model is required\n",
      );
      return;
    }
    const model = modelName.replace(/^models\//, "");
    if (!models.has(model)) {
      sendGoogleError(
        res,
        "NOT_FOUND",
        `models/${model} is not found for API version v1beta, or is not supported for createCachedContent. Call ListModels to see the list of available models and their supported methods.`,
      );
      return;
    }
    const expire = expiryFrom(body, Date.now());
    if (typeof expire === "string") {
      sendGoogleError(res, "INVALID_ARGUMENT", expire);
      return;
    }
    const chars = contentChars(body.systemInstruction) + contentChars(body.contents);
    const tokens = Math.ceil(chars / 4);
    const min = minCacheTokens(model);
    if (tokens < min) {
      sendGoogleError(
        res,
        "INVALID_ARGUMENT",
        `Cached content is too small. total_token_count=${tokens}, min_total_token_count=${min}`,
      );
      return;
    }
    cacheCounter += 1;
    const now = new Date().toISOString();
    const id = `${cacheCounter.toString(36)}${Date.now().toString(36)}`.padStart(12, "0");
    const cache: CachedContentJson = {
      name: `cachedContents/${id}`,
      model: `models/${model}`,
      ...(typeof body.displayName === "string" ? { displayName: body.displayName } : {}),
      createTime: now,
      updateTime: now,
      expireTime: new Date(expire).toISOString(),
      usageMetadata: { totalTokenCount: tokens },
      ...(Array.isArray(body.contents) ? { contents: body.contents } : {}),
      ...(body.systemInstruction !== undefined ? { systemInstruction: body.systemInstruction } : {}),
      ...(Array.isArray(body.tools) ? { tools: body.tools } : {}),
      ...(body.toolConfig !== undefined ? { toolConfig: body.toolConfig } : {}),
    };
    cachedContents.set(cache.name, cache);
    sendJson(res, 200, publicCache(cache));
  }

  function handleCache(res: ServerResponse, req: RecordedRequest, name: string): void {
    const cache = liveCache(name);
    if (!cache) {
      sendGoogleError(res, "PERMISSION_DENIED", "CachedContent not found (or permission denied)");
      return;
    }
    if (req.method === "GET") {
      sendJson(res, 200, publicCache(cache));
      return;
    }
    if (req.method === "DELETE") {
      cachedContents.delete(name);
      sendJson(res, 200, {});
      return;
    }
    if (req.method === "PATCH") {
      const body = isRecord(req.body) ? req.body : {};
      if (body.ttl === undefined && body.expireTime === undefined) {
        sendGoogleError(res, "INVALID_ARGUMENT", "Either ttl or expire_time must be set for an update.");
        return;
      }
      const expire = expiryFrom(body, Date.now());
      if (typeof expire === "string") {
        sendGoogleError(res, "INVALID_ARGUMENT", expire);
        return;
      }
      cache.expireTime = new Date(expire).toISOString();
      cache.updateTime = new Date().toISOString();
      sendJson(res, 200, publicCache(cache));
      return;
    }
    sendUnknownPath(res, req.method, req.path);
  }

  async function handle(_req: IncomingMessage, res: ServerResponse, req: RecordedRequest): Promise<void> {
    if (!req.path.startsWith(API_PREFIX)) {
      sendUnknownPath(res, req.method, req.path);
      return;
    }
    const rest = req.path.slice(API_PREFIX.length);
    const modelMatch = /^models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/.exec(rest);
    if (modelMatch && req.method === "POST") {
      if (!checkKey(req, res)) return;
      const model = modelMatch[1] ?? "";
      const method = modelMatch[2] ?? "";
      if (!models.has(model)) {
        sendGoogleError(
          res,
          "NOT_FOUND",
          `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
        );
        return;
      }
      if (method === "countTokens") {
        handleCountTokens(res, req);
        return;
      }
      const stream = method === "streamGenerateContent";
      if (stream && req.query.alt !== "sse") {
        // The real API would answer with a streamed JSON array; the SDK always asks for SSE.
        sendGoogleError(
          res,
          "INVALID_ARGUMENT",
          "The emulator only implements streamGenerateContent?alt=sse.",
        );
        return;
      }
      await handleGenerate(res, req, model, stream);
      return;
    }
    if (req.method === "GET" && (rest === "models" || /^models\/[^/:]+$/.test(rest))) {
      if (!checkKey(req, res)) return;
      if (rest === "models") {
        const { page, nextPageToken } = paginate([...models], req.query, 50);
        sendJson(res, 200, { models: page.map(modelJson), ...(nextPageToken ? { nextPageToken } : {}) });
        return;
      }
      const model = rest.slice("models/".length);
      if (!models.has(model)) {
        sendGoogleError(res, "NOT_FOUND", `models/${model} is not found for API version v1beta.`);
        return;
      }
      sendJson(res, 200, modelJson(model));
      return;
    }
    if (rest === "cachedContents") {
      if (!checkKey(req, res)) return;
      if (req.method === "POST") {
        handleCreateCache(res, req);
        return;
      }
      if (req.method === "GET") {
        const live = [...cachedContents.keys()].map(liveCache).filter((c) => c !== undefined);
        sendJson(res, 200, live.length === 0 ? {} : { cachedContents: live.map(publicCache) });
        return;
      }
    }
    const cacheMatch = /^cachedContents\/([^/:]+)$/.exec(rest);
    if (cacheMatch) {
      if (!checkKey(req, res)) return;
      handleCache(res, req, `cachedContents/${cacheMatch[1] ?? ""}`);
      return;
    }
    sendUnknownPath(res, req.method, req.path);
  }

  server = await startEmulatorServer(handle);
  emulator.url = server.url;
  emulator.requests = server.requests;
  return emulator;
}

function modelJson(model: string): Record<string, unknown> {
  return {
    name: `models/${model}`,
    version: "001",
    displayName: model,
    description: `Emulated ${model}`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ["generateContent", "countTokens", "createCachedContent"],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: model.startsWith("gemini-2.5") || model.startsWith("gemini-3"),
  };
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    vary: "Origin, X-Origin, Referer",
    server: "scaffolding on HTTPServer2",
  });
  res.flushHeaders();
}

function writeSse(res: ServerResponse, payload: unknown): Promise<void> {
  if (isGone(res)) return Promise.resolve();
  return new Promise((resolve) => {
    res.write(`data: ${googleJson(payload)}\r\n\r\n`, () => resolve());
  });
}

/**
 * JSON the way Google's front end writes SSE payloads: `{"key": value,"next": …}` (a space after colons,
 * none after commas), as seen in recorded `streamGenerateContent?alt=sse` traffic.
 */
export function googleJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => googleJson(v ?? null)).join(",")}]`;
  if (isRecord(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${googleJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function defaultChunkCount(text: string): number {
  return Math.max(1, Math.min(8, Math.ceil(text.length / 32)));
}

/** Splits text into `n` consecutive non-empty pieces at word boundaries where possible; joined they equal `text`. */
export function splitText(text: string, n: number): string[] {
  const count = Math.max(1, Math.floor(n));
  if (count === 1 || text.length <= 1) return [text];
  const tokens = text.match(/\S+\s*|\s+/g) ?? [text];
  const pieces: string[] = [];
  if (tokens.length >= count) {
    const per = tokens.length / count;
    for (let i = 0; i < count; i++)
      pieces.push(tokens.slice(Math.round(i * per), Math.round((i + 1) * per)).join(""));
  } else {
    const size = Math.ceil(text.length / count);
    for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  }
  return pieces.filter((p) => p !== "");
}

function contentChars(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + contentChars(item), 0);
  if (!isRecord(value)) return 0;
  if (Array.isArray(value.parts)) return contentChars(value.parts);
  if (typeof value.text === "string") return value.text.length;
  if (value.functionCall !== undefined) return JSON.stringify(value.functionCall).length;
  if (value.functionResponse !== undefined) return JSON.stringify(value.functionResponse).length;
  return 0;
}

function lastUserText(contents: unknown): string | undefined {
  if (!Array.isArray(contents)) return undefined;
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i];
    if (!isRecord(content) || (content.role !== undefined && content.role !== "user")) continue;
    if (!Array.isArray(content.parts)) continue;
    const texts = content.parts
      .filter(isRecord)
      .map((p) => p.text)
      .filter((t): t is string => typeof t === "string");
    if (texts.length > 0) return texts.join("");
  }
  return undefined;
}

/** A deterministic value that satisfies a Gemini `Schema` or a JSON Schema (types compared case-insensitively). */
function valueForSchema(schema: unknown, text: string): unknown {
  if (!isRecord(schema)) return text;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const rawType = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  const type =
    typeof rawType === "string" ? rawType.toLowerCase() : isRecord(schema.properties) ? "object" : "string";
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      const properties = isRecord(schema.properties) ? schema.properties : {};
      for (const [key, sub] of Object.entries(properties)) out[key] = valueForSchema(sub, text);
      return out;
    }
    case "array":
      return schema.items === undefined ? [] : [valueForSchema(schema.items, text)];
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 0;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return text;
  }
}

function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(-?\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Number(match[1]) : undefined;
}

/** Epoch ms of expiry, or an error message. */
function expiryFrom(body: Record<string, unknown>, now: number): number | string {
  if (body.expireTime !== undefined) {
    const at = typeof body.expireTime === "string" ? Date.parse(body.expireTime) : Number.NaN;
    if (Number.isNaN(at))
      return `Invalid value at 'cached_content.expire_time' (type.googleapis.com/google.protobuf.Timestamp), "${String(body.expireTime)}"`;
    return at;
  }
  if (body.ttl !== undefined) {
    const seconds = parseDurationSeconds(body.ttl);
    if (seconds === undefined)
      return `Invalid value at 'cached_content.ttl' (type.googleapis.com/google.protobuf.Duration), "${String(body.ttl)}"`;
    if (seconds <= 0) return "ttl must be positive.";
    return now + seconds * 1000;
  }
  return now + DEFAULT_TTL_SECONDS * 1000;
}

function describeBadJson(raw: string): string {
  try {
    JSON.parse(raw);
    return "Expected a JSON object.";
  } catch (error) {
    return error instanceof Error ? error.message : "Unparseable body.";
  }
}
