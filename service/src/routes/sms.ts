import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { InvalidNotification } from "../channels/pipeline/channel";
import type { SmsAcknowledgement, SmsInbound } from "../channels/sms/inbound";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../http/errors";
import { inboundRequest } from "../http/inbound-request";
import { createRouter } from "../http/router";
import { SecretStoreError } from "../ports/secret-store";
import type { SmsProvider } from "../ports/sms";
import { errorResponses } from "./schemas";

export interface SmsWebhookDeps {
  /** The SMS channel's door; undefined when the deployment cannot take SMS (no secret store). */
  inbound: SmsInbound | undefined;
  /**
   * The service's public URL (PUBLIC_URL). Twilio signs the URL it called, so the URL checked is this one
   * plus the path and query, never one built from a Host header the caller chose.
   */
  publicUrl: string | undefined;
}

/** Twilio texts a `text/plain` answer back to the customer: an empty TwiML document says nothing. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

const Ack = z.object({
  status: z.enum(["accepted", "duplicate", "ignored", "unrouted", "inactive"]),
  queued: z.number().int(),
});

interface Door {
  provider: SmsProvider;
  path: string;
  summary: string;
  /** Its webhooks are verified over the public URL (Twilio). */
  signsUrl?: boolean;
  signatureHeader: string;
}

const DOORS: Door[] = [
  {
    provider: "twilio",
    path: "/webhooks/twilio/sms",
    summary:
      "Twilio: a text to a tenant's number (form-encoded, X-Twilio-Signature); answered with empty TwiML",
    signsUrl: true,
    signatureHeader: "x-twilio-signature",
  },
  {
    provider: "twilio",
    path: "/webhooks/twilio/status",
    summary: "Twilio: the delivery status of a text Switchboard sent (form-encoded, X-Twilio-Signature)",
    signsUrl: true,
    signatureHeader: "x-twilio-signature",
  },
  {
    provider: "telnyx",
    path: "/webhooks/telnyx/sms",
    summary:
      "Telnyx: message.received, message.sent and message.finalized events (JSON, Ed25519 telnyx-signature-ed25519)",
    signatureHeader: "telnyx-signature-ed25519",
  },
  {
    provider: "voxie",
    path: "/webhooks/voxie/sms",
    summary: "Voxie: CloudEvents for a tenant's number (HTTP message signatures with a Digest header)",
    signatureHeader: "signature",
  },
];

function routeOf(door: Door) {
  const twiml = { "text/xml": { schema: z.string() } };
  return createRoute({
    method: "post",
    path: door.path,
    summary: door.summary,
    request: { headers: z.object({ [door.signatureHeader]: z.string().optional() }) },
    responses: {
      200: {
        description: "Taken (recorded, a duplicate, a status update, or a number no active tenant has)",
        content: door.provider === "twilio" ? twiml : { "application/json": { schema: Ack } },
      },
      ...errorResponses(400, 401, 413, 503),
    },
  });
}

/**
 * The SMS providers' webhooks: one path per provider for every tenant's numbers (the number texted finds
 * the tenant), verified on the raw bytes with that number's credentials before anything is read, recorded
 * in one statement, acknowledged at once (Telnyx wants an answer within 2 s); the reply comes from a task.
 */
export function smsWebhookRoutes(deps: SmsWebhookDeps) {
  const app = createRouter();
  for (const door of DOORS) {
    // Documented in the OpenAPI description; handled as a plain route, as Twilio's answer is TwiML.
    app.openAPIRegistry.registerPath(routeOf(door));
    app.post(door.path, async (c) => {
      const inbound = deps.inbound;
      if (!inbound?.accepts(door.provider)) throw notConfigured(door.provider);
      const request = await inboundRequest(c, door.signsUrl ? requirePublicUrl(deps.publicUrl) : undefined);
      const ack = await inbound.receive(door.provider, request).catch(invalidBody).catch(storeUnavailable);
      return answer(c, door, ack);
    });
  }
  return app;
}

function requirePublicUrl(publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  throw new AppError(
    503,
    "public_url_required",
    "Twilio signs the URL it calls: set PUBLIC_URL to the service's public address (docs/sms.md)",
  );
}

function answer(c: Context<AppEnv>, door: Door, ack: SmsAcknowledgement) {
  if (ack.status === "rejected")
    throw new AppError(
      401,
      "invalid_signature",
      `The ${door.provider} signature is missing or does not match`,
    );
  const queued = "queued" in ack ? ack.queued : 0;
  if (door.provider === "twilio")
    return c.body(EMPTY_TWIML, 200, { "content-type": "text/xml; charset=utf-8" });
  return c.json({ status: ack.status, queued }, 200);
}

const notConfigured = (provider: SmsProvider) =>
  new AppError(503, "sms_not_configured", `${provider} webhooks are not taken on this deployment`);

function invalidBody(error: unknown): never {
  if (!(error instanceof InvalidNotification)) throw error;
  const details = error.details === undefined ? {} : { details: error.details };
  throw new AppError(400, error.code, error.message, details);
}

/** The number's credentials cannot be read now: the provider retries a 503. */
function storeUnavailable(error: unknown): never {
  if (error instanceof SecretStoreError)
    throw new AppError(503, "secret_store_unavailable", "The number's credentials cannot be read; retry", {
      headers: { "Retry-After": "5" },
    });
  throw error;
}
