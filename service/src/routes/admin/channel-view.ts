import { z } from "@hono/zod-openapi";
import type { ChannelConnection } from "../../db/channels";
import { AppError } from "../../http/errors";
import { SecretStoreError } from "../../ports/secret-store";
import { CHANNEL_KINDS, kebab } from "./channel-kinds";
import { TenantParams } from "./schemas";

/** A channel connection as the admin API answers it (channels.ts, voice-token.ts). */
export const ChannelSchema = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    publicId: z.string(),
    settings: z.record(z.string(), z.unknown()),
    credentials: z
      .record(z.string(), z.literal("set"))
      .openapi({ description: "Which credentials are stored; never their values" }),
    status: z.string(),
    createdAt: z.string(),
    webhookUrl: z.string().optional().openapi({
      description: "Where the provider posts this connection's webhooks (PUBLIC_URL-based when it is set)",
    }),
    voice: z
      .object({
        dynamicVariablesUrl: z
          .string()
          .optional()
          .openapi({
            description:
              "The AI assistant's dynamic-variables webhook URL with its secret token: only in the answer that " +
              "creates the connection or re-issues the token (POST …/voice-token)",
          }),
        eventsUrl: z.string(),
      })
      .optional()
      .openapi({ description: "Telnyx only: the AI assistant's webhook URLs (docs/voice.md)" }),
  })
  .openapi("Channel");

export const ChannelParams = TenantParams.extend({
  channelId: z.uuid().openapi({ param: { name: "channelId", in: "path" } }),
});

const baseOf = (publicUrl: string | undefined) => (publicUrl ?? "").replace(/\/+$/, "");

/** The assistant's URLs of a Telnyx connection; the dynamic-variables one only with its token in hand. */
function voiceUrls(base: string, connectionId: string, token: string | undefined) {
  return {
    ...(token
      ? { dynamicVariablesUrl: `${base}/webhooks/telnyx/voice/dynamic-variables?token=${token}` }
      : {}),
    eventsUrl: `${base}/webhooks/telnyx/voice/events?connection=${connectionId}`,
  };
}

/**
 * A connection as answered. `voiceToken` is given only by the answers that made it (creation, re-issue):
 * a credential shown on every read would be one leaked log or screenshot away from anyone.
 */
export function channelView(c: ChannelConnection, publicUrl: string | undefined, voiceToken?: string) {
  const base = baseOf(publicUrl);
  const path = CHANNEL_KINDS[c.kind]?.webhookPath?.(c.id);
  return {
    id: c.id,
    kind: c.kind,
    publicId: c.publicId,
    settings: c.settings,
    credentials: Object.fromEntries(Object.keys(c.secretRefs).map((name) => [name, "set" as const])),
    status: c.status,
    createdAt: new Date(c.createdAt).toISOString(),
    ...(path ? { webhookUrl: `${base}${path}` } : {}),
    ...(c.kind === "telnyx" ? { voice: voiceUrls(base, c.id, voiceToken) } : {}),
  };
}

/** The secret store failing is a 503 to retry; its message names the secret, never the value. */
export function storeFailure(error: unknown): never {
  if (error instanceof SecretStoreError && error.code !== "invalid_reference")
    throw new AppError(
      503,
      "secret_store_unavailable",
      "The secret store did not accept the credential; retry",
      {
        headers: { "Retry-After": "5" },
      },
    );
  throw error;
}

export const noSuchChannel = () => new AppError(404, "not_found", "No such channel");

/** One secret per credential of each connection: `ch-<connection>-<credential>` in the tenant's names. */
export const secretName = (tenantId: string, channelId: string, credential: string) => ({
  tenantId,
  kind: `ch-${channelId.replace(/-/g, "")}-${kebab(credential)}`,
});
