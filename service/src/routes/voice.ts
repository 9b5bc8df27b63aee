import { createRoute, z } from "@hono/zod-openapi";
import { InvalidNotification } from "../channels/pipeline/channel";
import type { VoiceGreeter } from "../channels/voice/greeter";
import type { VoiceInbound } from "../channels/voice/inbound";
import { AppError } from "../http/errors";
import { inboundRequest } from "../http/inbound-request";
import { createRouter } from "../http/router";
import { SecretStoreError } from "../ports/secret-store";
import { errorResponses } from "./schemas";

export interface VoiceWebhookDeps {
  /** Both undefined when the deployment cannot take calls (no secret store for connections). */
  greeter: VoiceGreeter | undefined;
  inbound: VoiceInbound | undefined;
}

const variablesRoute = createRoute({
  method: "post",
  path: "/webhooks/telnyx/voice/dynamic-variables",
  summary:
    "Telnyx AI assistant `assistant.initialization`: the tenant's and the caller's dynamic variables (no model call; defaults on any failure)",
  request: {
    query: z.object({
      token: z.string().max(200).optional().openapi({
        description: "The connection's URL token (the admin API's `dynamicVariablesUrl` carries it)",
      }),
    }),
    headers: z.object({ "telnyx-signature-ed25519": z.string().optional() }),
  },
  responses: {
    200: {
      description: "The variables (safe defaults for an unknown number or when anything failed)",
      content: {
        "application/json": {
          schema: z.object({ dynamic_variables: z.record(z.string(), z.string()) }),
        },
      },
    },
    ...errorResponses(401),
  },
});

const eventsRoute = createRoute({
  method: "post",
  path: "/webhooks/telnyx/voice/events",
  summary:
    "Telnyx AI assistant events: call.conversation.ended and call.conversation_insights.generated (Ed25519 telnyx-signature-ed25519)",
  request: {
    query: z.object({
      connection: z.string().max(64).optional().openapi({
        description:
          "The connection the events belong to: insights name no number (the admin API's `eventsUrl`)",
      }),
    }),
    headers: z.object({ "telnyx-signature-ed25519": z.string().optional() }),
  },
  responses: {
    200: {
      description: "Taken (recorded, a duplicate, an event that needs nothing, or no active connection)",
      content: {
        "application/json": {
          schema: z.object({
            status: z.enum(["accepted", "duplicate", "ignored", "unrouted", "inactive"]),
            queued: z.number().int(),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 413, 503),
  },
});

const rejected = () =>
  new AppError(
    401,
    "invalid_signature",
    "The Telnyx signature or the URL token is missing or does not match",
  );

/**
 * The doors of tenants' Telnyx AI assistants: the dynamic-variables webhook answered at once from memory
 * and one statement, and the events verified on the raw bytes and recorded through the inbound pipeline.
 */
export function voiceWebhookRoutes(deps: VoiceWebhookDeps) {
  const app = createRouter();
  app.openapi(variablesRoute, async (c) => {
    const greeter = deps.greeter;
    // Without voice on this deployment the assistant still gets an answer it can use: the defaults.
    if (!greeter) return c.json({ dynamic_variables: {} as Record<string, string> }, 200);
    const answer = await greeter.answer(await inboundRequest(c), c.req.valid("query").token);
    if (answer.status === "rejected") throw rejected();
    return c.json({ dynamic_variables: answer.variables }, 200);
  });
  app.openapi(eventsRoute, async (c) => {
    const inbound = deps.inbound;
    if (!inbound)
      throw new AppError(503, "voice_not_configured", "Voice events are not taken on this deployment");
    const request = await inboundRequest(c);
    const ack = await inbound
      .receive(request, c.req.valid("query").connection)
      .catch(invalidBody)
      .catch(storeUnavailable);
    if (ack.status === "rejected") throw rejected();
    return c.json({ status: ack.status, queued: "queued" in ack ? ack.queued : 0 }, 200);
  });
  return app;
}

function invalidBody(error: unknown): never {
  if (!(error instanceof InvalidNotification)) throw error;
  throw new AppError(
    400,
    error.code,
    error.message,
    error.details === undefined ? {} : { details: error.details },
  );
}

function storeUnavailable(error: unknown): never {
  if (error instanceof SecretStoreError)
    throw new AppError(503, "secret_store_unavailable", "The number's credentials cannot be read; retry", {
      headers: { "Retry-After": "5" },
    });
  throw error;
}
