import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { InvalidNotification } from "../channels/pipeline/channel";
import type { Acknowledgement, InboundPipeline } from "../channels/pipeline/pipeline";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../http/errors";
import { inboundRequest } from "../http/inbound-request";
import { createRouter } from "../http/router";
import { IntercomApiError } from "../ports/intercom";
import { SecretStoreError } from "../ports/secret-store";
import { errorResponses } from "./schemas";

export interface IntercomWebhookDeps {
  /** The inbound pipeline; Intercom webhooks are taken when it runs the channel with its client secret. */
  pipeline: InboundPipeline | undefined;
}

const webhookRoute = createRoute({
  method: "post",
  path: "/webhooks/intercom",
  summary: "Intercom webhook notifications (signed with the app's client secret)",
  request: { headers: z.object({ "x-hub-signature": z.string().optional() }) },
  responses: {
    200: {
      description: "Accepted, a duplicate, or a topic that needs nothing",
      content: {
        "application/json": {
          schema: z.object({
            status: z.enum(["accepted", "duplicate", "ignored", "pong"]),
            queued: z.number().int(),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 413, 503),
  },
});

const connectionRoute = createRoute({
  method: "post",
  path: "/webhooks/intercom/{connectionId}",
  summary:
    "A tenant's Intercom app: notifications on its connection's own path, signed with its client secret",
  request: {
    params: z.object({
      connectionId: z.uuid().openapi({ param: { name: "connectionId", in: "path" } }),
    }),
    headers: z.object({ "x-hub-signature": z.string().optional() }),
  },
  responses: {
    200: webhookRoute.responses[200],
    ...errorResponses(400, 401, 413, 503),
  },
});

/**
 * Intercom's door into the inbound pipeline (channels/pipeline/): verified on the raw bytes, recorded in
 * one statement, answered 200 (Intercom wants an answer within 500 ms); the answer comes from a task.
 */
export function intercomWebhookRoutes(deps: IntercomWebhookDeps) {
  const app = createRouter();
  app.openapi(webhookRoute, async (c) => {
    const pipeline = deps.pipeline;
    if (!pipeline?.receives("intercom")) throw notConfigured();
    const ack = await pipeline.acknowledge("intercom", await inboundRequest(c)).catch(invalidBody);
    return answer(c, ack);
  });
  // A tenant's app: an unknown, disabled or deleted connection, or a suspended tenant's, gets the answer
  // of a bad signature (401, nothing stored), so a path reveals nothing about what it names.
  app.openapi(connectionRoute, async (c) => {
    const pipeline = deps.pipeline;
    if (!pipeline?.acceptsConnections("intercom")) throw notConfigured();
    const { connectionId } = c.req.valid("param");
    const request = await inboundRequest(c);
    const ack = await pipeline
      .acknowledgeConnection("intercom", connectionId, request)
      .catch(invalidBody)
      .catch(storeUnavailable);
    return answer(c, ack, connectionId);
  });
  return app;
}

const notConfigured = () =>
  new AppError(503, "intercom_not_configured", "The Intercom bridge is not configured on this deployment");

function invalidBody(error: unknown): never {
  if (!(error instanceof InvalidNotification)) throw error;
  const details = error.details === undefined ? {} : { details: error.details };
  throw new AppError(400, error.code, error.message, details);
}

/**
 * The connection could not be made ready now: its credentials unreadable, or Intercom not answering the
 * first `GET /me` of a connection that names no bot admin. Intercom retries a 503.
 */
function storeUnavailable(error: unknown): never {
  const retry = { headers: { "Retry-After": "5" } };
  if (error instanceof SecretStoreError)
    throw new AppError(
      503,
      "secret_store_unavailable",
      "The connection's credentials cannot be read; retry",
      retry,
    );
  if (error instanceof IntercomApiError)
    throw new AppError(
      503,
      "intercom_unavailable",
      "Intercom did not name the connection's bot admin; retry",
      retry,
    );
  throw error;
}

function answer(c: Context<AppEnv>, ack: Acknowledgement, connectionId?: string) {
  if (ack.status === "rejected") {
    throw new AppError(401, "invalid_signature", "X-Hub-Signature is missing or does not match the body");
  }
  if (ack.status === "pong") return c.json({ status: ack.status, queued: 0 as number }, 200);
  c.get("log").info(
    { event: "intercom.webhook", topic: ack.topic, status: ack.status, queued: ack.queued, connectionId },
    `intercom ${ack.topic}: ${ack.status}`,
  );
  return c.json({ status: ack.status, queued: ack.queued }, 200);
}
