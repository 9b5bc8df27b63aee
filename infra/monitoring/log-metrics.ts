/**
 * Log-based metrics over the service's structured logs (Cloud Logging JSON on stdout, fields under
 * jsonPayload; see the service contract in docs/infrastructure.md). One row per metric; the LogMetrics
 * construct turns rows into google_logging_metric resources and the metric catalog learns their types.
 * https://cloud.google.com/logging/docs/logs-based-metrics
 */

export interface LogMetricLabel {
  readonly key: string;
  /** jsonPayload field the label is extracted from. */
  readonly field: string;
  readonly description: string;
}

export interface LogMetricSpec {
  /** Metric name; its type is `logging.googleapis.com/user/<name>`. */
  readonly name: string;
  readonly description: string;
  /** Value of jsonPayload.event the metric counts. */
  readonly event: string;
  /** counter: one per log entry; distribution: values of `valueField`. */
  readonly kind: "counter" | "distribution";
  readonly valueField?: string;
  /** In Cloud Monitoring's unit grammar (metric-units.ts), e.g. `ms`, `1`, `{USD}`. */
  readonly unit: string;
  readonly labels: readonly LogMetricLabel[];
  /** Exponential buckets (distribution only): scale × growth^i for i < count. */
  readonly buckets?: { readonly count: number; readonly growth: number; readonly scale: number };
}

const CHANNEL_OUTCOME: readonly LogMetricLabel[] = [
  { key: "channel", field: "channel", description: "web or intercom" },
  { key: "outcome", field: "outcome", description: "how the turn ended" },
];
// purpose tells chat turns from summaries: the context-cache alert looks at chat calls only, since short
// summary prompts are below the implicit cache's minimum size. (Labels can be added to a log-based metric in
// place; existing ones cannot change.)
const MODEL_TIER: readonly LogMetricLabel[] = [
  { key: "model", field: "model", description: "model id" },
  { key: "tier", field: "tier", description: "user tier" },
  { key: "purpose", field: "purpose", description: "chat or summary" },
];

export const LOG_METRICS: readonly LogMetricSpec[] = [
  {
    name: "switchboard_conversation_duration_ms",
    description: "Conversation processing time (receive to reply), by channel and outcome",
    event: "conversation.processed",
    kind: "distribution",
    valueField: "durationMs",
    unit: "ms",
    labels: CHANNEL_OUTCOME,
    buckets: { count: 24, growth: 1.5, scale: 10 },
  },
  {
    name: "switchboard_conversations",
    description: "Conversations processed, by channel and outcome",
    event: "conversation.processed",
    kind: "counter",
    unit: "1",
    labels: CHANNEL_OUTCOME,
  },
  {
    name: "switchboard_upstream_errors",
    description: "Errors from upstream APIs, by upstream and HTTP status",
    event: "upstream.error",
    kind: "counter",
    unit: "1",
    labels: [
      { key: "upstream", field: "upstream", description: "gemini, intercom or gpt-trainer" },
      { key: "status", field: "status", description: "HTTP status code" },
    ],
  },
  {
    name: "switchboard_model_requests",
    description: "Model calls that returned usage, by model, tier and purpose",
    event: "model.usage",
    kind: "counter",
    unit: "1",
    labels: MODEL_TIER,
  },
  ...(["input", "output", "thoughts", "cached"] as const).map(
    (kind): LogMetricSpec => ({
      name: `switchboard_model_${kind}_tokens`,
      description: `Model ${kind} tokens per call, by model, tier and purpose`,
      event: "model.usage",
      kind: "distribution",
      valueField: `${kind}Tokens`,
      unit: "1",
      labels: MODEL_TIER,
      buckets: { count: 20, growth: 2, scale: 16 },
    }),
  ),
  {
    name: "switchboard_model_cost_usd",
    description: "Model cost per call in USD, by model, tier and purpose",
    event: "model.usage",
    kind: "distribution",
    valueField: "costUsd",
    // Not "USD": a currency is not in Monitoring's unit grammar; an annotation is (isMonitoringUnit).
    unit: "{USD}",
    labels: MODEL_TIER,
    buckets: { count: 20, growth: 2, scale: 0.00001 },
  },
  {
    name: "switchboard_handoffs",
    description: "Conversations handed off to a human, by reason",
    event: "handoff",
    kind: "counter",
    unit: "1",
    labels: [{ key: "reason", field: "reason", description: "why the bot handed off" }],
  },
  {
    name: "switchboard_budget_warnings",
    description: "Token budget warnings (a user passed 80 % of a daily or monthly budget)",
    event: "budget.warning",
    kind: "counter",
    unit: "1",
    labels: [],
  },
];

export const logMetricType = (name: string) => `logging.googleapis.com/user/${name}`;
