import type { TenantSettings } from "../../domain/tenant";

/** A tenant's e-mail settings with the defaults filled in (the tenant settings' `email` block). */
export interface EmailSettings {
  /** `send`: the bot answers; `draft`: it leaves a Gmail draft for an agent to review and send. */
  mode: "send" | "draft";
  /** How long after the customer's mail the answer goes out (a scheduled task, not a sleeping request). */
  delaySeconds: number;
  replyTo: "sender" | "all";
  /** Lowercased; mail from these domains is never answered. */
  ownDomains: readonly string[];
  /** The Gmail label on what Switchboard answered ("<label>/Answered", "<label>/Draft", "<label>/Skipped"). */
  label: string;
  /** The display name of the reply's From, and the signature's default. */
  businessName: string;
  signature: string;
}

export const EMAIL_DEFAULTS = {
  mode: "send",
  delaySeconds: 0,
  replyTo: "sender",
  label: "Switchboard",
} as const;

export function emailSettingsOf(settings: TenantSettings, tenantName: string | undefined): EmailSettings {
  const email = settings.email ?? {};
  const businessName = settings.promptVariables?.businessName ?? tenantName ?? "Support";
  return {
    mode: email.mode ?? EMAIL_DEFAULTS.mode,
    delaySeconds: email.delaySeconds ?? EMAIL_DEFAULTS.delaySeconds,
    replyTo: email.replyTo ?? EMAIL_DEFAULTS.replyTo,
    ownDomains: email.ownDomains ?? [],
    label: email.label ?? EMAIL_DEFAULTS.label,
    businessName,
    signature: email.signature ?? businessName,
  };
}
