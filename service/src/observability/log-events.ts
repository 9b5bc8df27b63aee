/**
 * The log events Cloud Monitoring counts, the fields its log-based metrics read, and the field values its
 * alert policies filter on: the contract between the service, which writes them as structured log lines
 * (`jsonPayload.<field>` in Cloud Logging), and infra/monitoring/log-metrics.ts, which turns them into the
 * metrics the dashboards and alert policies use. test/service/log-metrics.test.ts starts the service and
 * checks that it writes every event with every field a metric reads.
 *
 * A leaf module: it imports nothing, so the service and the cdktf app can both import it.
 */

/** Values of the `event` field that a log-based metric counts. */
export const LOG_EVENT = {
  /**
   * A conversation turn finished (web chat, or an Intercom task): how it ended and how long it took. A web
   * turn's fields ride on its request line (the one with `httpRequest`), so a turn costs one line fewer.
   */
  conversationProcessed: "conversation.processed",
  /** A call to an upstream API failed (answered with an error status, or not at all). */
  upstreamError: "upstream.error",
  /** A model call returned usage: tokens and cost. */
  modelUsage: "model.usage",
  /** A conversation was handed to a person. */
  handoff: "handoff",
  /** A user passed the warning share of a token budget. */
  budgetWarning: "budget.warning",
  /** A text message arrived from a customer (verified, routed to its tenant's number); `provider`. */
  smsReceived: "sms.received",
  /** The provider reported an outbound text's delivery state; `status` (delivered, failed, …), `provider`. */
  smsDelivery: "sms.delivery",
  /** A customer opted out of (`outcome` opted_out) or back into (opted_in) a tenant's texts; `provider`. */
  smsConsent: "sms.consent",
  // Issue 14's follow-up work (monitoring: dashboards/follow-up.json and its two alert policies).
  /** A conversation was escalated to the tenant's team (once per escalation); `channel`, `reason`. */
  escalationOpened: "escalation.opened",
  /** A team notification attempt ended; `kind` (email, slack), `topic`, `outcome` (sent, retry, failed). */
  notificationAttempted: "notification.attempted",
  /** A signed webhook was answered 2xx; `statusClass`. */
  webhookDelivered: "webhook.delivered",
  /** A webhook attempt was answered otherwise, or not at all; `statusClass` (4xx, 5xx, none). */
  webhookAttemptFailed: "webhook.attempt_failed",
  /** An endpoint's circuit opened: it kept failing and was disabled (the line names its host, no label does). */
  webhookEndpointDisabled: "webhook.endpoint_disabled",
  /** A finished voice call's transcript was stored. */
  voiceCallStored: "voice.call_stored",
  // Issue 15's e-mail channel (monitoring: dashboards/email.json and policies/gmail-mailbox-revoked.json).
  /** An inbound Gmail message was recorded and handed to the pipeline to be answered. */
  emailMessageQueued: "email.message_queued",
  /** An inbound Gmail message was recorded and left alone; `reason` (a skip rule of channels/email/skip.ts). */
  emailMessageSkipped: "email.message_skipped",
  /** A reply, or a handoff notice, was written into a thread; `outcome` (sent, drafted), `purpose`. */
  emailReplyWritten: "email.reply_written",
  /** A mailbox was disconnected; `reason` (refresh_token_revoked by Google, disconnected_by_admin). */
  emailMailboxDisconnected: "email.mailbox_disconnected",
  /** A Gmail push was refused (401); `reason` (token_missing, token_refused). */
  emailPushRejected: "email.push_rejected",
} as const;
export type LogEvent = (typeof LOG_EVENT)[keyof typeof LOG_EVENT];

/** Fields of those events that metrics extract as labels or values, spelled as the log line spells them. */
export const LOG_FIELD = {
  channel: "channel",
  outcome: "outcome",
  durationMs: "durationMs",
  upstream: "upstream",
  /** HTTP status of the failed call (0 when there was none). */
  status: "status",
  model: "model",
  tier: "tier",
  /** chat or summary on model.usage; reply or handoff_notice on email.reply_written. */
  purpose: "purpose",
  inputTokens: "inputTokens",
  outputTokens: "outputTokens",
  thoughtsTokens: "thoughtsTokens",
  cachedTokens: "cachedTokens",
  costUsd: "costUsd",
  /**
   * Why: the handoff's or escalation's reason; the skip rule on email.message_skipped; the cause on
   * email.mailbox_disconnected and email.push_rejected.
   */
  reason: "reason",
  /** The SMS provider (twilio, telnyx, voxie) on the sms.* events. */
  provider: "provider",
  /** An outbound text's delivery state on sms.delivery (`delivered`, `undelivered`, `failed`, …). */
  deliveryStatus: "deliveryStatus",
  /** A team notification's kind (`email`, `slack`) on notification.attempted. */
  kind: "kind",
  /** What a notification is about (`escalation.created`, `endpoint.disabled`) on notification.attempted. */
  topic: "topic",
  /** The HTTP status class of a webhook attempt (`2xx`, `4xx`, `5xx`, …; `none` without an answer). */
  statusClass: "statusClass",
} as const;
export type LogField = (typeof LOG_FIELD)[keyof typeof LOG_FIELD];

/** Values of `upstream` (on upstream.error) that alert policies select. */
export const UPSTREAM = {
  gemini: "gemini",
  intercom: "intercom",
  gptTrainer: "gpt-trainer",
  twilio: "twilio",
  telnyx: "telnyx",
  voxie: "voxie",
  gmail: "gmail",
} as const;

/** Values of `purpose` (on model.usage): the context-cache alert keeps to chat calls. */
export const MODEL_PURPOSE = {
  chat: "chat",
  summary: "summary",
} as const;
