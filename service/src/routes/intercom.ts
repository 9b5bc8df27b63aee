import { createHmac } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { IntercomBridge, Notification } from "../channels/intercom";
import { sameSecret } from "../http/credentials";
import { AppError } from "../http/errors";
import { createRouter } from "../http/router";
import { errorResponses } from "./schemas";

export interface IntercomWebhookDeps {
  bridge: IntercomBridge | undefined;
  /** The Intercom app's client secret. */
  webhookSecret: string | undefined;
}

const Envelope = z.object({
  type: z.literal("notification_event"),
  id: z.string().min(1).max(200),
  topic: z.string().min(1).max(200),
  app_id: z.string().optional(),
  data: z.object({ item: z.record(z.string(), z.unknown()).nullable().optional() }).passthrough(),
});

/**
 * Intercom signs the raw body: `X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret, body)>`. There is no
 * timestamp, so replays are stopped by the notification id, recorded with the work in one transaction.
 * https://developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications
 */
export function verifySignature(secret: string, raw: Uint8Array, header: string | undefined): boolean {
  const match = /^sha1=([0-9a-f]{40})$/i.exec(header?.trim() ?? "");
  if (!match?.[1]) return false;
  const expected = createHmac("sha1", secret).update(raw).digest();
  return sameSecret(Buffer.from(match[1], "hex"), expected);
}

/** The notification in a verified body, or a 400 saying what is wrong with it. */
export function parseNotification(raw: Uint8Array): Notification {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw new AppError(400, "invalid_json", "The notification body is not valid JSON");
  }
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) {
    throw new AppError(400, "validation_failed", "Not an Intercom notification", {
      details: { fields: parsed.error.issues.map((i) => ({ field: i.path.join("."), message: i.message })) },
    });
  }
  return { id: parsed.data.id, topic: parsed.data.topic, item: parsed.data.data.item ?? {} };
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

export function intercomWebhookRoutes(deps: IntercomWebhookDeps) {
  const app = createRouter();
  app.openapi(webhookRoute, async (c) => {
    if (!deps.bridge || !deps.webhookSecret) {
      throw new AppError(
        503,
        "intercom_not_configured",
        "The Intercom bridge is not configured on this deployment",
      );
    }
    // Verified on the exact bytes received, before anything is parsed.
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!verifySignature(deps.webhookSecret, raw, c.req.header("x-hub-signature"))) {
      throw new AppError(401, "invalid_signature", "X-Hub-Signature is missing or does not match the body");
    }
    const notification = parseNotification(raw);
    if (notification.topic === "ping") return c.json({ status: "pong" as const, queued: 0 }, 200);
    const result = await deps.bridge.accept(notification);
    c.get("log").info(
      { event: "intercom.webhook", topic: notification.topic, status: result.status, queued: result.queued },
      `intercom ${notification.topic}: ${result.status}`,
    );
    return c.json(result, 200);
  });
  return app;
}
