import { createRoute, z } from "@hono/zod-openapi";
import type { PushAcknowledgement } from "../channels/email/push";
import { PushKeysUnavailable } from "../channels/email/push-verifier";
import { type InboundRequest, InvalidNotification } from "../channels/pipeline/channel";
import { AppError } from "../http/errors";
import { inboundRequest } from "../http/inbound-request";
import { createRouter } from "../http/router";
import { LOG_EVENT } from "../observability/log-events";
import { errorResponses } from "./schemas";

export const GMAIL_PUSH_PATH = "/webhooks/email/gmail-push";

/** The door as the route uses it (channels/email/push.ts). */
export interface GmailPushDoor {
  receive(request: InboundRequest): Promise<PushAcknowledgement>;
}

export interface EmailPushDeps {
  /** Undefined when the deployment cannot sync mailboxes (no Google OAuth client configured). */
  inbound: GmailPushDoor | undefined;
}

const Ack = z.object({ status: z.enum(["accepted", "duplicate", "unrouted", "inactive"]) });

const pushRoute = createRoute({
  method: "post",
  path: GMAIL_PUSH_PATH,
  summary:
    "Gmail push (Pub/Sub push subscription, OIDC token of its service account): a mailbox changed; a sync is queued",
  request: { headers: z.object({ authorization: z.string().optional() }) },
  responses: {
    200: {
      description: "Taken: recorded and a sync queued, a redelivery, or a mailbox no active tenant has",
      content: { "application/json": { schema: Ack } },
    },
    ...errorResponses(400, 401, 413, 503),
  },
});

/**
 * Pub/Sub pushes each Gmail notification here and redelivers it (with backoff) until it is answered 102,
 * 200, 201, 202 or 204. The token is verified on the raw request before anything is read; the push is
 * recorded in one statement and acknowledged at once, and the mailbox is synced by a task.
 *
 * A body that verified but is not a Gmail notification is answered 400 although Pub/Sub redelivers it:
 * such a body can only come from a misconfigured publisher, never succeeds, and after the subscription's
 * `maxDeliveryAttempts` (infra/constructs/gmail-push.ts) Pub/Sub moves it to the dead-letter topic, where an
 * operator can read it; acknowledging it would drop that evidence. A push for a mailbox no tenant has
 * (disconnected, its watch not yet run out) is acknowledged: it can never be taken either, but it is normal.
 * https://cloud.google.com/pubsub/docs/push#receive_push
 */
export function emailPushRoutes(deps: EmailPushDeps) {
  const app = createRouter();
  // Documented in the OpenAPI description; handled as a plain route, as the body is read raw first.
  app.openAPIRegistry.registerPath(pushRoute);
  app.post(GMAIL_PUSH_PATH, async (c) => {
    const inbound = deps.inbound;
    if (!inbound)
      throw new AppError(503, "email_not_configured", "Gmail mailboxes are not synced on this deployment");
    const ack = await inbound.receive(await inboundRequest(c)).catch(refused);
    if (ack.status === "rejected") {
      // The dead-letter alert's runbook starts here: a run of these is a subscription/config mismatch.
      // `reason`, not `authorization`: the logger rewrites a field of that name as a secret.
      c.get("log").warn(
        {
          event: LOG_EVENT.emailPushRejected,
          reason: c.req.header("authorization") ? "token_refused" : "token_missing",
        },
        "a Gmail push was refused: its OIDC token is missing or does not verify",
      );
      throw new AppError(401, "invalid_token", "The push's OIDC token is missing or does not verify");
    }
    return c.json({ status: ack.status }, 200);
  });
  return app;
}

function refused(error: unknown): never {
  if (error instanceof InvalidNotification)
    throw new AppError(
      400,
      "invalid_push",
      error.message,
      error.details === undefined ? {} : { details: error.details },
    );
  if (error instanceof PushKeysUnavailable)
    throw new AppError(503, "push_keys_unavailable", "Google's signing keys could not be fetched; retry", {
      headers: { "Retry-After": "10" },
    });
  throw error;
}
