import { z } from "@hono/zod-openapi";
import { newVoiceToken, VOICE_TOKEN } from "../../channels/voice/url-token";
import { toE164 } from "../../domain/phone";

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
  /**
   * Credentials Switchboard makes itself at creation (stored like the others, never taken from a body nor
   * replaced through `PUT …/credentials`): a secret the tenant must not choose, e.g. a URL token.
   */
  generated?: Readonly<Record<string, () => string>>;
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

/** A tenant's number: what routes a text (or a call) to the tenant, kept in E.164. */
const phoneNumber = z
  .string()
  .trim()
  .min(3)
  .max(32)
  .refine((v) => toE164(v) !== undefined, "must be a phone number in E.164 form, e.g. +15551234567")
  .transform((v) => toE164(v) as string)
  .openapi({ description: "The number customers text, E.164 (+15551234567)", example: "+15551234567" });

const twilio: ChannelKind = {
  schema: z
    .object({
      kind: z.literal("twilio"),
      phoneNumber,
      accountSid: z
        .string()
        .trim()
        .regex(/^AC[0-9a-fA-F]{32}$/, "a Twilio account SID: AC followed by 32 hex digits")
        .openapi({ description: "The Twilio account (or subaccount) that owns the number" }),
      authToken: credential(
        "Signs Twilio's webhooks and authenticates its API calls; stored in the secret store",
      ),
    })
    .openapi("TwilioChannel"),
  publicId: (b) => b.phoneNumber as string,
  credentials: ["authToken"],
  settings: (b) => ({ accountSid: b.accountSid }),
  webhookPath: () => "/webhooks/twilio/sms",
};

const telnyx: ChannelKind = {
  schema: z
    .object({
      kind: z.literal("telnyx"),
      phoneNumber,
      apiKey: credential("Telnyx API v2 key (sends the replies); stored in the secret store"),
      publicKey: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9+/]{43}=$/, "the account's Ed25519 public key, base64 (44 characters)")
        .openapi({
          description: "Verifies Telnyx's webhook signatures (Mission Control → Keys & Credentials)",
        }),
      messagingProfileId: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .optional()
        .openapi({ description: "The messaging profile the number belongs to" }),
    })
    .openapi("TelnyxChannel"),
  publicId: (b) => b.phoneNumber as string,
  credentials: ["apiKey", "publicKey"],
  // The dynamic-variables URL's token (docs/voice.md): random per connection, shown at creation.
  generated: { [VOICE_TOKEN]: newVoiceToken },
  settings: (b) => (b.messagingProfileId ? { messagingProfileId: b.messagingProfileId } : {}),
  webhookPath: () => "/webhooks/telnyx/sms",
};

const voxie: ChannelKind = {
  schema: z
    .object({
      kind: z.literal("voxie"),
      phoneNumber,
      teamId: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .openapi({ description: "The Voxie team that owns the number" }),
      apiKey: credential("The Voxie team's API credential; stored in the secret store"),
    })
    .openapi("VoxieChannel"),
  publicId: (b) => b.phoneNumber as string,
  credentials: ["apiKey"],
  settings: (b) => ({ teamId: b.teamId }),
  webhookPath: () => "/webhooks/voxie/sms",
};

export const CHANNEL_KINDS: Record<string, ChannelKind> = { intercom, twilio, telnyx, voxie };

const [first, ...rest] = Object.values(CHANNEL_KINDS).map((k) => k.schema);

/** The body of `POST …/channels`: one of the kinds, told apart by `kind`. */
export const NewChannel = z
  .discriminatedUnion("kind", [first as ChannelKind["schema"], ...rest])
  .openapi("NewChannel");

/** `clientSecret` → `client-secret`: a credential's part of its secret name. */
export const kebab = (name: string) => name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);
