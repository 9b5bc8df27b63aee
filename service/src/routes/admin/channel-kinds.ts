import { z } from "@hono/zod-openapi";

/**
 * The kinds of channel connection the admin API creates, each: its body, the public id that routes
 * inbound traffic to the tenant, its credentials (to the SecretStore; never stored or answered) and its
 * other settings. A later channel (SMS, voice, e-mail) adds an entry here; the routes do not change.
 */
export interface ChannelKind {
  /** The body of `POST …/channels` for this kind (its `kind` a literal). */
  schema: z.ZodObject<{ kind: z.ZodLiteral<string> } & z.ZodRawShape>;
  publicId(body: Record<string, unknown>): string;
  /** The credential fields of the body, by name: they go to the SecretStore. */
  credentials: readonly string[];
  /** The fields kept on the row: neither the kind, nor the public id, nor a credential. */
  settings(body: Record<string, unknown>): Record<string, unknown>;
  /** The path the provider posts this connection's webhooks to, when it has its own. */
  webhookPath?(connectionId: string): string;
}

const credential = (description: string) => z.string().trim().min(1).max(4096).openapi({ description });

const intercom: ChannelKind = {
  schema: z
    .object({
      kind: z.literal("intercom"),
      appId: z.string().trim().min(1).max(100).openapi({ description: "The Intercom workspace (app) id" }),
      clientSecret: credential("Signs Intercom's webhooks (HMAC-SHA1); stored in the secret store"),
      accessToken: credential("Calls Intercom's REST API; stored in the secret store"),
      adminId: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .optional()
        .openapi({ description: "The bot's admin id (default: the token's owner, GET /me)" }),
      region: z
        .enum(["us", "eu", "au"])
        .optional()
        .openapi({ description: "The workspace's region (default us)" }),
    })
    .openapi("IntercomChannel"),
  publicId: (b) => b.appId as string,
  credentials: ["clientSecret", "accessToken"],
  settings: (b) => ({
    ...(b.adminId ? { adminId: b.adminId } : {}),
    ...(b.region ? { region: b.region } : {}),
  }),
  webhookPath: (connectionId) => `/webhooks/intercom/${connectionId}`,
};

export const CHANNEL_KINDS: Record<string, ChannelKind> = { intercom };

const [first, ...rest] = Object.values(CHANNEL_KINDS).map((k) => k.schema);

/** The body of `POST …/channels`: one of the kinds, told apart by `kind`. */
export const NewChannel = z
  .discriminatedUnion("kind", [first as ChannelKind["schema"], ...rest])
  .openapi("NewChannel");

/** `clientSecret` → `client-secret`: a credential's part of its secret name. */
export const kebab = (name: string) => name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);
