import { z } from "zod";
import { TIERS } from "./identity";

/** A business served by this deployment (docs/tenants.md). */
export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status: "active" | "suspended";
  settings: TenantSettings;
  /** The widget's public key (`data-tenant`): routes web chat to this tenant. Public, not a credential. */
  widgetKey: string;
  /** Content hash of its knowledge documents (the context cache's key). */
  knowledgeVersion: string;
  createdAt: Date;
  updatedAt: Date;
}

export const TENANT_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
export const DOCUMENT_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

const text = (max: number) => z.string().trim().min(1).max(max);
const count = z.number().int().min(0);
const perMinute = z.number().int().min(1).max(1_000_000);
const origin = z
  .url()
  .transform((u) => u.replace(/\/+$/, ""))
  .refine((u) => new URL(u).origin === u, "must be an origin like https://example.com (no path)");

const smsLimit = z.number().int().min(1).max(10_000_000);

const tierBudget = z.strictObject({ daily: count.nullable(), monthly: count.nullable() });

/**
 * A tenant's settings, all optional: what is unset falls back to the deployment's defaults from its
 * configuration (engine/tenant-settings.ts). Strict: an unknown key is an error, not silently ignored.
 */
export const tenantSettingsSchema = z.strictObject({
  /** Replaces the deployment's system prompt; `{{businessName}}` and the other variables are filled in. */
  systemPrompt: text(20_000).optional(),
  promptVariables: z
    .strictObject({
      businessName: text(200),
      hours: text(500),
      tone: text(200),
      escalationContact: text(500),
    })
    .partial()
    .optional(),
  routing: z
    .strictObject({
      defaultModel: text(100),
      escalationModel: text(100),
      escalatePatterns: z.array(text(200)).max(50),
      turnThreshold: z.number().int().min(1).max(1000),
    })
    .partial()
    .optional(),
  /** Per-identity token budgets by tier (each identity of this tenant). */
  budgets: z.partialRecord(z.enum(TIERS), tierBudget).optional(),
  /** The tenant's own totals across all its identities (429 `tenant_budget_exhausted`). */
  tenantBudget: z
    .strictObject({ dailyTokens: count.nullable(), monthlyTokens: count.nullable() })
    .partial()
    .optional(),
  rateLimits: z
    .strictObject({
      /** Each signed-in user of this tenant. */
      userRequestsPerMinute: perMinute,
      /** Each anonymous client address. */
      clientRequestsPerMinute: perMinute,
      /** All of this tenant's chat requests together (429 `tenant_rate_limited`). */
      tenantRequestsPerMinute: perMinute,
    })
    .partial()
    .optional(),
  /** Like BUSINESS_HOURS (`Mon-Fri 09:00-17:00`) and BUSINESS_TIMEZONE. */
  businessHours: z
    .strictObject({ spec: text(200), timeZone: text(64) })
    .partial()
    .optional(),
  handoff: z
    .strictObject({
      message: text(1000),
      afterHoursMessage: text(1000),
      lowConfidenceLimit: z.number().int().min(1).max(100),
      requestPattern: text(1000),
      topics: text(1000),
    })
    .partial()
    .optional(),
  widget: z
    .strictObject({
      title: text(80),
      greeting: text(500),
      primaryColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, "must be a colour like #1f6feb"),
      position: z.enum(["left", "right"]),
      /** Origins whose pages may embed this tenant's widget (CORS); unset: the deployment's CORS_ORIGINS. */
      allowedOrigins: z.array(origin).max(50),
    })
    .partial()
    .optional(),
  /** Texting (channels/sms/settings.ts fills in the defaults). */
  sms: z
    .strictObject({
      /** The most segments a reply may cost (default 3); Twilio and Telnyx send at most 10. */
      maxSegments: z.number().int().min(1).max(10),
      /** The answer to HELP/INFO; default: the business name, how to get help and how to opt out. */
      helpText: text(300),
      /** Replies sent a UTC day / month; unset: no limit. */
      dailyLimit: smsLimit,
      monthlyLimit: smsLimit,
      /** The budget tier of the customers who text in (default `free`). */
      tier: z.enum(TIERS),
    })
    .partial()
    .refine(
      (s) => s.dailyLimit === undefined || s.monthlyLimit === undefined || s.dailyLimit <= s.monthlyLimit,
      {
        message: "dailyLimit must not be above monthlyLimit",
        path: ["dailyLimit"],
      },
    )
    .optional(),
  /** The e-mail channel (channels/email/settings.ts fills in the defaults; docs/email.md). */
  email: z
    .strictObject({
      /** `send` answers by itself (default); `draft` leaves a Gmail draft in the thread for an agent. */
      mode: z.enum(["send", "draft"]),
      /** Seconds to wait before answering (default 0): people trust a reply that is not instant. */
      delaySeconds: z.number().int().min(0).max(86_400),
      /** Who the reply goes to: the sender (default), or the sender with the original To and Cc. */
      replyTo: z.enum(["sender", "all"]),
      /** Mail from these domains is never answered (colleagues writing to the support inbox). */
      ownDomains: z
        .array(
          z
            .string()
            .trim()
            .toLowerCase()
            .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, "must be a domain like example.com"),
        )
        .max(20),
      /** The Gmail label put on what Switchboard answered or drafted (default `Switchboard`). */
      label: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .regex(/^[^\\]+$/, "must be a Gmail label name"),
      /** Closes each reply, plain text (default: the business name). */
      signature: text(500),
    })
    .partial()
    .optional(),
  /** Which intents the extraction finds make a lead (engine/extraction; default purchase and booking). */
  leads: z
    .strictObject({
      intents: z.array(z.enum(["purchase", "booking", "support", "billing", "complaint", "other"])).max(6),
    })
    .partial()
    .optional(),
  /** When a quiet chat or SMS conversation is read for contacts and leads (default: the deployment's). */
  extraction: z
    .strictObject({ idleMinutes: z.number().int().min(1).max(10_080) })
    .partial()
    .optional(),
  /** Escalations to a person (engine/escalations.ts, docs/escalations.md). */
  escalations: z
    .strictObject({
      /** Who is e-mailed a new escalation (the Slack webhook is a credential: its own admin endpoint). */
      emails: z.array(z.email().max(254)).max(20),
      /** When a person resolves an escalation, the bot answers the conversation again (default true). */
      resumeBotOnResolve: z.boolean(),
      /**
       * The tenant's team works in Intercom's inbox (default true): an Intercom handoff assigns the
       * conversation there and opens no escalation. False: it opens one, like every other channel's.
       */
      intercomInbox: z.boolean(),
    })
    .partial()
    .optional(),
  retention: z
    .strictObject({ sessionsDays: z.number().int().min(1).max(3650) })
    .partial()
    .optional(),
});

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

/**
 * A settings change (PATCH): each top-level key replaces that section; `null` removes it (back to the
 * deployment default). The result is validated again as a whole.
 */
export const tenantSettingsPatchSchema = z.record(z.string(), z.unknown());

export function applySettingsPatch(current: TenantSettings, patch: Record<string, unknown>) {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return tenantSettingsSchema.safeParse(next);
}
