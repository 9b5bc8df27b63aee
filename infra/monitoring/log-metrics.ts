import type { DisconnectReason } from "../../service/src/channels/email/disconnect";
import type { Channel } from "../../service/src/domain/turn";
import type { NotificationOutcome } from "../../service/src/engine/notifications";
import {
  LOG_EVENT,
  LOG_FIELD,
  type LogEvent,
  type LogField,
  MODEL_PURPOSE,
  UPSTREAM,
} from "../../service/src/observability/log-events";
import type { SmsDeliveryStatus } from "../../service/src/ports/sms";

/**
 * Log-based metrics over the service's structured logs (Cloud Logging JSON on stdout, fields under
 * jsonPayload; see the service contract in docs/infrastructure.md). One row per metric; the LogMetrics
 * construct turns rows into google_logging_metric resources and the metric catalog learns their types.
 * Event and field names come from the service's own constants (service/src/observability/log-events.ts),
 * and a test drives the service until it has written every event with every field a row reads.
 * https://cloud.google.com/logging/docs/logs-based-metrics
 */

export interface LogMetricLabel {
  readonly key: string;
  /** jsonPayload field the label is extracted from. */
  readonly field: LogField;
  readonly description: string;
}

export interface LogMetricSpec {
  /** Metric name; its type is `logging.googleapis.com/user/<name>`. */
  readonly name: string;
  readonly description: string;
  /** Value of jsonPayload.event the metric counts. */
  readonly event: LogEvent;
  /** counter: one per log entry; distribution: values of `valueField`. */
  readonly kind: "counter" | "distribution";
  readonly valueField?: LogField;
  /** In Cloud Monitoring's unit grammar (metric-units.ts), e.g. `ms`, `1`, `{USD}`. */
  readonly unit: string;
  readonly labels: readonly LogMetricLabel[];
  /** Exponential buckets (distribution only): scale × growth^i for i < count. */
  readonly buckets?: { readonly count: number; readonly growth: number; readonly scale: number };
}

const CHANNEL_OUTCOME: readonly LogMetricLabel[] = [
  { key: "channel", field: LOG_FIELD.channel, description: "web or intercom" },
  { key: "outcome", field: LOG_FIELD.outcome, description: "how the turn ended" },
];
// purpose tells chat turns from summaries: the context-cache alert looks at chat calls only, since short
// summary prompts are below the implicit cache's minimum size. (Labels can be added to a log-based metric in
// place; existing ones cannot change.)
const MODEL_TIER: readonly LogMetricLabel[] = [
  { key: "model", field: LOG_FIELD.model, description: "model id" },
  { key: "tier", field: LOG_FIELD.tier, description: "user tier" },
  { key: "purpose", field: LOG_FIELD.purpose, description: "chat or summary" },
];

// The SMS channel's own events (issue 13). Its answered turns need no metric of their own: they are
// conversation.processed lines with channel "sms", counted by switchboard_conversations above. No tenant
// label: a tenant per series would multiply the series by the tenants; the log lines name the tenant.
const SMS_PROVIDER: LogMetricLabel = {
  key: "provider",
  field: LOG_FIELD.provider,
  description: "twilio, telnyx or voxie",
};
const SMS_METRICS: readonly LogMetricSpec[] = [
  {
    name: "switchboard_sms_received",
    description: "Inbound texts verified and routed to a tenant's number, by provider",
    event: LOG_EVENT.smsReceived,
    kind: "counter",
    unit: "1",
    labels: [SMS_PROVIDER],
  },
  {
    name: "switchboard_sms_deliveries",
    description: "Delivery reports of outbound texts, by provider and delivery status",
    event: LOG_EVENT.smsDelivery,
    kind: "counter",
    unit: "1",
    labels: [
      SMS_PROVIDER,
      {
        key: "delivery_status",
        field: LOG_FIELD.deliveryStatus,
        description: "queued, sending, sent, delivered, undelivered or failed",
      },
    ],
  },
  {
    name: "switchboard_sms_consent",
    description: "Customers opting out of or back into a tenant's texts, by provider and outcome",
    event: LOG_EVENT.smsConsent,
    kind: "counter",
    unit: "1",
    labels: [
      SMS_PROVIDER,
      { key: "outcome", field: LOG_FIELD.outcome, description: "opted_out or opted_in" },
    ],
  },
];

// Issue 14's follow-up work: escalations, the team's notifications, signed webhooks out, calls. Labels are
// bounded vocabularies only: never a tenant, an endpoint's URL or host, a notification's target or a person
// (the log lines carry ids for that).
const FOLLOW_UP_METRICS: readonly LogMetricSpec[] = [
  {
    name: "switchboard_escalations_opened",
    description: "Conversations escalated to a tenant's team, by channel and reason",
    event: LOG_EVENT.escalationOpened,
    kind: "counter",
    unit: "1",
    labels: [
      { key: "channel", field: LOG_FIELD.channel, description: "web, intercom, sms or voice" },
      { key: "reason", field: LOG_FIELD.reason, description: "why the conversation was escalated" },
    ],
  },
  {
    name: "switchboard_notifications",
    description: "Team notification attempts, by kind, topic and outcome",
    event: LOG_EVENT.notificationAttempted,
    kind: "counter",
    unit: "1",
    labels: [
      { key: "kind", field: LOG_FIELD.kind, description: "email or slack" },
      { key: "topic", field: LOG_FIELD.topic, description: "escalation.created or endpoint.disabled" },
      { key: "outcome", field: LOG_FIELD.outcome, description: "sent, retry or failed (given up)" },
    ],
  },
  ...(
    [
      ["delivered", LOG_EVENT.webhookDelivered, "Webhook attempts answered 2xx"],
      ["failed", LOG_EVENT.webhookAttemptFailed, "Webhook attempts answered otherwise or not at all"],
    ] as const
  ).map(
    ([outcome, event, what]): LogMetricSpec => ({
      name: `switchboard_webhook_attempts_${outcome}`,
      description: `${what}, by HTTP status class`,
      event,
      kind: "counter",
      unit: "1",
      labels: [
        { key: "status_class", field: LOG_FIELD.statusClass, description: "2xx, 3xx, 4xx, 5xx or none" },
      ],
    }),
  ),
  {
    name: "switchboard_webhook_endpoints_disabled",
    description: "Webhook endpoints disabled by their circuit (they kept failing)",
    event: LOG_EVENT.webhookEndpointDisabled,
    kind: "counter",
    unit: "1",
    labels: [],
  },
  {
    name: "switchboard_calls_stored",
    description: "Finished voice calls stored",
    event: LOG_EVENT.voiceCallStored,
    kind: "counter",
    unit: "1",
    labels: [],
  },
];

// Issue 15's e-mail channel. Its turns are conversation.processed lines with channel "email" and its Gmail
// failures upstream.error lines with upstream "gmail" (replies and mailbox syncs), counted above. Labels are
// the channel's own small vocabularies: never a tenant, a mailbox or a customer's address (the lines carry
// connection ids for that).
const EMAIL_METRICS: readonly LogMetricSpec[] = [
  {
    name: "switchboard_email_messages_queued",
    description: "Inbound e-mails recorded and handed to the pipeline to be answered",
    event: LOG_EVENT.emailMessageQueued,
    kind: "counter",
    unit: "1",
    labels: [],
  },
  {
    name: "switchboard_email_messages_skipped",
    description: "Inbound e-mails recorded and left unanswered, by skip rule",
    event: LOG_EVENT.emailMessageSkipped,
    kind: "counter",
    unit: "1",
    labels: [
      {
        key: "reason",
        field: LOG_FIELD.reason,
        description: "the skip rule: auto_reply, bulk, mailer_daemon, own_domain, too_large, empty, …",
      },
    ],
  },
  {
    name: "switchboard_email_replies",
    description: "Replies and handoff notices written into Gmail threads, by outcome and purpose",
    event: LOG_EVENT.emailReplyWritten,
    kind: "counter",
    unit: "1",
    labels: [
      { key: "outcome", field: LOG_FIELD.outcome, description: "sent, or drafted (draft mode)" },
      { key: "purpose", field: LOG_FIELD.purpose, description: "reply or handoff_notice" },
    ],
  },
  {
    name: "switchboard_email_mailboxes_disconnected",
    description: "Mailboxes disconnected, by reason (Google refused the refresh token, or an admin)",
    event: LOG_EVENT.emailMailboxDisconnected,
    kind: "counter",
    unit: "1",
    labels: [
      {
        key: "reason",
        field: LOG_FIELD.reason,
        description: "refresh_token_revoked or disconnected_by_admin",
      },
    ],
  },
  {
    name: "switchboard_email_pushes_rejected",
    description: "Gmail push requests refused with 401 (OIDC token missing or not verifying)",
    event: LOG_EVENT.emailPushRejected,
    kind: "counter",
    unit: "1",
    labels: [{ key: "reason", field: LOG_FIELD.reason, description: "token_missing or token_refused" }],
  },
];

export const LOG_METRICS: readonly LogMetricSpec[] = [
  {
    name: "switchboard_conversation_duration_ms",
    description: "Conversation processing time (receive to reply), by channel and outcome",
    event: LOG_EVENT.conversationProcessed,
    kind: "distribution",
    valueField: LOG_FIELD.durationMs,
    unit: "ms",
    labels: CHANNEL_OUTCOME,
    buckets: { count: 24, growth: 1.5, scale: 10 },
  },
  {
    name: "switchboard_conversations",
    description: "Conversations processed, by channel and outcome",
    event: LOG_EVENT.conversationProcessed,
    kind: "counter",
    unit: "1",
    labels: CHANNEL_OUTCOME,
  },
  {
    name: "switchboard_upstream_errors",
    description: "Errors from upstream APIs, by upstream and HTTP status",
    event: LOG_EVENT.upstreamError,
    kind: "counter",
    unit: "1",
    labels: [
      { key: "upstream", field: LOG_FIELD.upstream, description: "gemini, intercom or gpt-trainer" },
      { key: "status", field: LOG_FIELD.status, description: "HTTP status code" },
    ],
  },
  {
    name: "switchboard_model_requests",
    description: "Model calls that returned usage, by model, tier and purpose",
    event: LOG_EVENT.modelUsage,
    kind: "counter",
    unit: "1",
    labels: MODEL_TIER,
  },
  ...(["input", "output", "thoughts", "cached"] as const).map(
    (kind): LogMetricSpec => ({
      name: `switchboard_model_${kind}_tokens`,
      description: `Model ${kind} tokens per call, by model, tier and purpose`,
      event: LOG_EVENT.modelUsage,
      kind: "distribution",
      valueField: LOG_FIELD[`${kind}Tokens`],
      unit: "1",
      labels: MODEL_TIER,
      buckets: { count: 20, growth: 2, scale: 16 },
    }),
  ),
  {
    name: "switchboard_model_cost_usd",
    description: "Model cost per call in USD, by model, tier and purpose",
    event: LOG_EVENT.modelUsage,
    kind: "distribution",
    valueField: LOG_FIELD.costUsd,
    // Not "USD": a currency is not in Monitoring's unit grammar; an annotation is (isMonitoringUnit).
    unit: "{USD}",
    labels: MODEL_TIER,
    buckets: { count: 20, growth: 2, scale: 0.00001 },
  },
  {
    name: "switchboard_handoffs",
    description: "Conversations handed off to a human, by reason",
    event: LOG_EVENT.handoff,
    kind: "counter",
    unit: "1",
    labels: [{ key: "reason", field: LOG_FIELD.reason, description: "why the bot handed off" }],
  },
  {
    name: "switchboard_budget_warnings",
    description: "Token budget warnings (a user passed 80 % of a daily or monthly budget)",
    event: LOG_EVENT.budgetWarning,
    kind: "counter",
    unit: "1",
    labels: [],
  },
  ...SMS_METRICS,
  ...FOLLOW_UP_METRICS,
  ...EMAIL_METRICS,
];

export const logMetricType = (name: string) => `logging.googleapis.com/user/${name}`;

/**
 * Field values the alert policies select, as `${NAME}` placeholders of the policy and dashboard files
 * (monitoring-files.ts), so a value the service stops writing cannot leave a policy watching nothing.
 */
export const LOG_VALUE_VARS = {
  UPSTREAM_GEMINI: UPSTREAM.gemini,
  PURPOSE_CHAT: MODEL_PURPOSE.chat,
  UPSTREAM_TWILIO: UPSTREAM.twilio,
  UPSTREAM_TELNYX: UPSTREAM.telnyx,
  UPSTREAM_VOXIE: UPSTREAM.voxie,
  // Typed against the service's own vocabularies, so renaming a value there fails the typecheck here.
  CHANNEL_SMS: "sms" satisfies Channel,
  SMS_DELIVERED: "delivered" satisfies SmsDeliveryStatus,
  SMS_FAILED: "failed" satisfies SmsDeliveryStatus,
  SMS_UNDELIVERED: "undelivered" satisfies SmsDeliveryStatus,
  NOTIFICATION_FAILED: "failed" satisfies NotificationOutcome,
  UPSTREAM_GMAIL: UPSTREAM.gmail,
  CHANNEL_EMAIL: "email" satisfies Channel,
  EMAIL_TOKEN_REVOKED: "refresh_token_revoked" satisfies DisconnectReason,
} as const;
