import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { streamSSE } from "hono/streaming";
import type { Sql } from "../db/client";
import { listMessages } from "../db/messages";
import { findSession } from "../db/sessions";
import { DEFAULT_TENANT_ID } from "../db/tenant-scope";
import { SessionNotFound } from "../domain/errors";
import type { TurnResult } from "../domain/turn";
import type { PreparedTurn, TurnEngine } from "../engine/conversation-engine";
import type { WebHandoff, WebHandoffReply } from "../engine/web-handoff";
import type { AppEnv } from "../http/app-env";
import type { Authenticator } from "../http/auth";
import { AppError, errorBody } from "../http/errors";
import { createRouter } from "../http/router";
import { errorResponses, TenantHeaders, UsageSchema } from "./schemas";

export interface ChatRoutesDeps {
  engine: TurnEngine;
  auth: Authenticator;
  sql: Sql;
  messageMaxChars: number;
  /** Hands the chat to a person (engine/web-handoff.ts); absent: the bot answers everything. */
  handoff?: Pick<WebHandoff, "before" | "after"> | undefined;
}

// NUL cannot be stored in PostgreSQL text and other control characters only hide content.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

const chatRequest = (maxChars: number) =>
  z
    .object({
      message: z
        .string()
        .transform((s) => s.replace(CONTROL, "").trim())
        .pipe(z.string().min(1, "must not be empty").max(maxChars, `must be at most ${maxChars} characters`))
        .openapi({ example: "How do I reset my password?" }),
      sessionId: z
        .uuid()
        .optional()
        .openapi({ description: "Continue this session (from an earlier reply)" }),
    })
    .openapi("ChatRequest");

const ChatResponse = z
  .object({
    sessionId: z.uuid(),
    reply: z.string(),
    model: z.string(),
    outcome: z.enum(["answered", "fallback", "handoff", "with_person"]).openapi({
      description:
        "`handoff`: the chat went to a person and `reply` says what happens next; `with_person`: a person has the chat (no model was asked)",
    }),
    escalation: z.object({ id: z.uuid() }).optional().openapi({
      description: "The escalation a `handoff` opened or joined (or a `fallback` that promised a person)",
    }),
    usage: UsageSchema,
    budget: z.object({ status: z.enum(["ok", "warn"]), remaining: z.number().int().nullable() }),
    sessionToken: z.string().optional().openapi({
      description:
        "Only on a caller's first message without credentials: send it back as `Authorization: Bearer`",
    }),
  })
  .openapi("ChatResponse");

const chatRoute = (maxChars: number) =>
  createRoute({
    method: "post",
    path: "/api/v1/chat",
    summary: "Send a message and get the assistant's reply (JSON, or SSE with Accept: text/event-stream)",
    request: {
      headers: TenantHeaders,
      body: { content: { "application/json": { schema: chatRequest(maxChars) } }, required: true },
    },
    responses: {
      200: {
        description:
          "The reply. As SSE: `delta` events `{text}`, then one `done` event with this object, or an `error` event.",
        content: {
          "application/json": { schema: ChatResponse },
          "text/event-stream": { schema: z.string() },
        },
      },
      ...errorResponses(400, 401, 403, 404, 413, 415, 429, 503),
    },
  });

const MessagesResponse = z
  .object({
    sessionId: z.uuid(),
    summary: z.string().nullable(),
    messages: z.array(
      z.object({
        id: z.string(),
        role: z
          .enum(["user", "assistant", "agent"])
          .openapi({ description: "`agent`: a person of the team" }),
        content: z.string(),
        model: z.string().nullable(),
        createdAt: z.string(),
      }),
    ),
    nextBefore: z.string().nullable().openapi({ description: "Pass as `before` for older messages" }),
  })
  .openapi("SessionMessages");

const historyRoute = createRoute({
  method: "get",
  path: "/api/v1/sessions/{id}/messages",
  summary: "A session's messages, oldest first (as stored: after PII redaction)",
  request: {
    headers: TenantHeaders,
    params: z.object({ id: z.uuid() }),
    query: z.object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      before: z
        .string()
        .regex(/^\d{1,18}$/, "must be a message id")
        .optional(),
    }),
  },
  responses: {
    200: { description: "Messages", content: { "application/json": { schema: MessagesResponse } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

/** A chat turn is JSON: anything else is a 415 before the body is read. */
const requireJson: MiddlewareHandler = async (c, next) => {
  if (c.req.method === "POST" && !/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
    throw new AppError(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  await next();
};

/** The web channel: a chat turn (JSON or SSE) and a session's history. */
export function chatRoutes(deps: ChatRoutesDeps) {
  const app = createRouter();

  app.use("/api/v1/chat", requireJson);

  app.openapi(chatRoute(deps.messageMaxChars), async (c) => {
    const body = c.req.valid("json");
    let identity = c.get("identity");
    let sessionToken: string | undefined;
    const minted = !identity;
    if (!identity) {
      if (body.sessionId) throw new SessionNotFound();
      // A guest belongs to the tenant whose widget it came through (middleware/tenant.ts).
      ({ identity, token: sessionToken } = await deps.auth.mintAnonymous(
        c.get("tenant")?.id ?? DEFAULT_TENANT_ID,
      ));
    }
    // Signed with a key that was rotated out: hand back one signed with the current key.
    if (identity.staleSessionToken) sessionToken = await deps.auth.sessionTokenFor(identity);
    // Everything that can refuse the turn happens here, so refusals are plain JSON even for SSE.
    const turn = await deps.engine.prepare({
      identity,
      channel: "web",
      sessionId: body.sessionId,
      message: body.message,
      clientAddress: c.get("clientAddress"),
      newIdentity: minted,
      // conversation.processed rides on the request line (middleware/request-context.ts).
      logTurn: (fields) => c.set("logFields", fields),
    });
    // A fallback that promised a person opens an escalation (after the turn is stored: it names the session).
    const escalated = async (result: TurnResult) => {
      try {
        return await deps.handoff?.after(turn, result);
      } catch (error) {
        c.get("log").warn(
          { event: "escalation.open_failed", error },
          "the fallback's escalation was not opened",
        );
        return undefined;
      }
    };
    const payload = async (result: TurnResult) => replyPayload(result, sessionToken, await escalated(result));
    const stream = /\btext\/event-stream\b/.test(c.req.header("accept") ?? "");
    // A person has the chat, or the customer asked for one: answered without the model.
    const handedOff = await deps.handoff?.before(turn);
    if (handedOff) {
      const body = handoffPayload(turn, handedOff, sessionToken);
      return (stream ? streamReply(c, body) : c.json(body, 200)) as never;
    }
    if (stream) return streamTurn(c, deps.engine, turn, payload) as never;
    return c.json(await payload(await deps.engine.run(turn)), 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { limit, before } = c.req.valid("query");
    const identity = c.get("identity");
    // Inside the tenant middleware's scope: the request's tenant's rows only.
    const session = identity ? await findSession(deps.sql, id) : undefined;
    if (!session || session.identityId !== identity?.id) throw new SessionNotFound();
    const rows = await listMessages(deps.sql, id, { limit: limit + 1, before });
    const more = rows.length > limit;
    const page = more ? rows.slice(1) : rows;
    const messages = page.map((m) => ({
      id: m.id,
      role: m.role,
      content: m.content,
      model: m.model,
      createdAt: m.createdAt.toISOString(),
    }));
    const nextBefore = more ? (page[0]?.id ?? null) : null;
    return c.json({ sessionId: id, summary: session.summary, messages, nextBefore }, 200);
  });

  return app;
}

function replyPayload(result: TurnResult, sessionToken: string | undefined, escalationId?: string) {
  return {
    sessionId: result.sessionId,
    reply: result.reply,
    model: result.model,
    outcome: result.outcome,
    ...(escalationId ? { escalation: { id: escalationId } } : {}),
    usage: result.usage,
    budget: result.budget,
    ...(sessionToken ? { sessionToken } : {}),
  };
}

function handoffPayload(turn: PreparedTurn, handoff: WebHandoffReply, sessionToken: string | undefined) {
  return {
    sessionId: turn.sessionId,
    reply: handoff.reply,
    model: "none",
    outcome: handoff.outcome,
    ...(handoff.escalationId ? { escalation: { id: handoff.escalationId } } : {}),
    usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0, thoughtsTokens: 0, costUsd: 0 },
    budget: { status: turn.budget.status, remaining: turn.budget.remaining },
    ...(sessionToken ? { sessionToken } : {}),
  };
}

/** SSE of a reply known whole: one `delta`, then `done`, as the widget reads a model's reply. */
function streamReply(c: Context<AppEnv>, body: { reply: string }) {
  return streamSSE(c, async (stream) => {
    await stream.writeSSE({ event: "delta", data: JSON.stringify({ text: body.reply }) });
    await stream.writeSSE({ event: "done", data: JSON.stringify(body) });
  });
}

/** SSE: a `delta` event per piece of the reply, then `done` with the whole reply, or one `error` event. */
function streamTurn(
  c: Context<AppEnv>,
  engine: TurnEngine,
  turn: PreparedTurn,
  payload: (result: TurnResult) => Promise<unknown>,
) {
  const requestId = c.get("requestId");
  const log = c.get("log");
  let ended = () => {};
  c.set("streamDone", new Promise<void>((resolve) => (ended = resolve)));
  return streamSSE(c, async (stream) => {
    try {
      const result = await engine.run(turn, (text) =>
        stream.writeSSE({ event: "delta", data: JSON.stringify({ text }) }),
      );
      await stream.writeSSE({ event: "done", data: JSON.stringify(await payload(result)) });
    } catch (error) {
      log.error({ error }, "stream failed");
      const body = errorBody("stream_failed", "The reply could not be completed.", requestId);
      await stream.writeSSE({ event: "error", data: JSON.stringify(body) });
    } finally {
      ended();
    }
  });
}
