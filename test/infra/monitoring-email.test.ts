import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { GmailPush } from "../../infra/constructs/gmail-push";
import { LogMetrics } from "../../infra/constructs/log-metrics";
import { environments } from "../../infra/environments";
import { LOG_METRICS, LOG_VALUE_VARS, logMetricType } from "../../infra/monitoring/log-metrics";
import { buildCatalog, referencedMetrics } from "../../infra/monitoring/metric-catalog";
import {
  DASHBOARDS_DIR,
  fillTemplate,
  POLICIES_DIR,
  readMonitoringFiles,
  validateAlertPolicy,
  validateDashboard,
  type WidgetRow,
} from "../../infra/monitoring/monitoring-files";
import { BY_ADMIN, TOKEN_REVOKED } from "../../service/src/channels/email/disconnect";
import { LOG_EVENT, LOG_FIELD, UPSTREAM } from "../../service/src/observability/log-events";
import { parse, resources } from "./helpers";

/**
 * The monitoring of issue 15's e-mail channel: log-based metrics over inbound mail (queued, skipped by
 * rule), replies written (sent, drafted), mailboxes disconnected and Gmail pushes refused, the e-mail
 * dashboard (with the turns and Gmail errors the shared metrics count, and the dead-letter backlog), and
 * the alert on mailboxes Google disconnected. Policies and widgets must name metrics that exist, select
 * the values the service writes, and never label a series with a tenant, a mailbox or an address.
 */

const VARS = { ...LOG_VALUE_VARS, ENV: "test" };
const catalog = buildCatalog();
const EMAIL = {
  queued: "switchboard_email_messages_queued",
  skipped: "switchboard_email_messages_skipped",
  replies: "switchboard_email_replies",
  disconnected: "switchboard_email_mailboxes_disconnected",
  rejected: "switchboard_email_pushes_rejected",
} as const;
const byName = (name: string) => LOG_METRICS.find((m) => m.name === name);
const promName = (name: string) => `logging_googleapis_com:user_${name}`;

const policy = (name: string) => {
  const file = readMonitoringFiles(POLICIES_DIR).find((f) => f.name === name);
  expect(file, `policies/${name}.json`).toBeDefined();
  return validateAlertPolicy(fillTemplate(file?.content, VARS, name), name);
};

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})$`);
/** Per selector of `metric` in a PromQL query, the values among `candidates` its `label` matcher selects. */
function selected(query: string, metric: string, label: string, candidates: readonly string[]) {
  const selectors = [...query.matchAll(/([a-z0-9_]+_googleapis_com:[A-Za-z0-9_]+)\{([^}]*)\}/g)].filter(
    ([, m]) => m === metric,
  );
  return selectors.map(([, , body = ""]) => {
    const m = new RegExp(`${label}\\s*(=~|=)\\s*"([^"]*)"`).exec(body);
    if (!m) return [...candidates];
    return candidates.filter((c) => (m[1] === "=~" ? anchored(m[2] ?? "").test(c) : c === m[2]));
  });
}

/** The values of `candidates` a widget's `metric.label.<label>="…"` filter clause selects (all without one). */
function filtered(w: WidgetRow | undefined, label: string, candidates: readonly string[]) {
  const clause = new RegExp(`metric\\.label\\.${label}="([^"]*)"`).exec(w?.filter ?? "");
  return clause ? candidates.filter((c) => c === clause[1]) : [...candidates];
}

describe("e-mail log-based metrics", () => {
  it("count inbound mail queued and skipped (by rule), replies by outcome and purpose, disconnections and refused pushes", () => {
    expect(byName(EMAIL.queued)).toMatchObject({
      event: LOG_EVENT.emailMessageQueued,
      kind: "counter",
      labels: [],
    });
    expect(byName(EMAIL.skipped)).toMatchObject({
      event: LOG_EVENT.emailMessageSkipped,
      labels: [{ key: "reason", field: LOG_FIELD.reason }],
    });
    expect(byName(EMAIL.replies)).toMatchObject({
      event: LOG_EVENT.emailReplyWritten,
      labels: [
        { key: "outcome", field: LOG_FIELD.outcome },
        { key: "purpose", field: LOG_FIELD.purpose },
      ],
    });
    expect(byName(EMAIL.disconnected)).toMatchObject({
      event: LOG_EVENT.emailMailboxDisconnected,
      labels: [{ key: "reason", field: LOG_FIELD.reason }],
    });
    expect(byName(EMAIL.rejected)).toMatchObject({
      event: LOG_EVENT.emailPushRejected,
      labels: [{ key: "reason", field: LOG_FIELD.reason }],
    });
    for (const name of Object.values(EMAIL)) expect(byName(name)?.kind, name).toBe("counter");
  });

  it("never label a series with a tenant, a mailbox, an address, a thread or a message", () => {
    const fields = Object.values(EMAIL).flatMap((n) => byName(n)?.labels.map((l) => l.field) ?? []);
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields)
      expect(field).not.toMatch(/tenant|mailbox|address|from|to$|email|thread|gmail|message|connection|id$/i);
  });

  it("synthesize with filters on the e-mail events and extractors of the fields the service writes", () => {
    const out = parse(
      Testing.synthScope((s) => {
        new LogMetrics(s, "log-metrics", {
          projectId: "p",
          serviceNames: ["switchboard", "switchboard-worker"],
        });
      }),
    );
    const metric = (name: string) => resources(out, "google_logging_metric").find((m) => m.name === name);
    expect(metric(EMAIL.queued)).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="email.message_queued"'),
      metric_descriptor: { value_type: "INT64", metric_kind: "DELTA" },
    });
    expect(metric(EMAIL.skipped)).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="email.message_skipped"'),
      label_extractors: { reason: "EXTRACT(jsonPayload.reason)" },
    });
    expect(metric(EMAIL.replies)).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="email.reply_written"'),
      label_extractors: { outcome: "EXTRACT(jsonPayload.outcome)", purpose: "EXTRACT(jsonPayload.purpose)" },
    });
    expect(metric(EMAIL.disconnected)).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="email.mailbox_disconnected"'),
      label_extractors: { reason: "EXTRACT(jsonPayload.reason)" },
    });
    expect(metric(EMAIL.rejected)?.filter).toContain('jsonPayload.event="email.push_rejected"');
  });
});

describe("policies/gmail-mailbox-revoked.json", () => {
  const p = policy("gmail-mailbox-revoked");
  const [condition] = p.conditions.map(
    (c) =>
      (c as { conditionPrometheusQueryLanguage: { query: string; duration: string } })
        .conditionPrometheusQueryLanguage,
  );
  const query = condition?.query ?? "";

  it("fires on any mailbox Google disconnected in the last hour, never on an admin's disconnection", () => {
    expect(p.conditions).toHaveLength(1);
    expect(selected(query, promName(EMAIL.disconnected), "reason", [TOKEN_REVOKED, BY_ADMIN])).toEqual([
      [TOKEN_REVOKED],
    ]);
    expect(query).toMatch(/^sum\(increase\(.*\[1h\]\)\) > 0$/);
    expect(condition?.duration).toBe("0s");
    expect(referencedMetrics(query, catalog)).toEqual([logMetricType(EMAIL.disconnected)]);
  });

  it("is a warning for the platform that says what to check and where the threshold lives", () => {
    expect(p.severity).toBe("WARNING");
    const text = p.documentation.content;
    expect(text).toContain('jsonPayload.event="email.mailbox_disconnected"');
    // Many at once: an External OAuth app still in Testing, whose refresh tokens expire after 7 days.
    expect(text).toMatch(/Testing/);
    expect(text).toMatch(/7 days/);
    expect(text).toContain("/email/mailboxes");
    expect(text).toContain("policies/gmail-mailbox-revoked.json");
  });
});

describe("dashboards/email.json", () => {
  const file = readMonitoringFiles(DASHBOARDS_DIR).find((f) => f.name === "email");
  const widgets = validateDashboard(fillTemplate(file?.content, VARS, "email"), "email").widgets;
  const on = (metric: string) => widgets.find((w) => w.metric === metric);
  const onLog = (name: string) => on(logMetricType(name));

  it("charts mail in (queued, skipped by rule), replies by outcome, disconnections and refused pushes", () => {
    expect(onLog(EMAIL.queued)).toMatchObject({ aligner: "ALIGN_RATE" });
    expect(onLog(EMAIL.skipped)?.groupBy).toEqual(["metric.label.reason"]);
    expect(onLog(EMAIL.replies)?.groupBy).toEqual(["metric.label.outcome", "metric.label.purpose"]);
    expect(onLog(EMAIL.rejected)?.groupBy).toEqual(["metric.label.reason"]);
    expect(onLog(EMAIL.disconnected)).toMatchObject({
      aligner: "ALIGN_DELTA",
      period: "3600s",
      groupBy: ["metric.label.reason"],
    });
  });

  it("charts e-mail turns by outcome and Gmail's errors from the shared metrics, narrowed to e-mail", () => {
    const turns = onLog("switchboard_conversations");
    expect(filtered(turns, "channel", ["web", "intercom", "sms", "voice", "email"])).toEqual(["email"]);
    expect(turns?.groupBy).toEqual(["metric.label.outcome"]);
    const errors = onLog("switchboard_upstream_errors");
    expect(filtered(errors, "upstream", Object.values(UPSTREAM))).toEqual([UPSTREAM.gmail]);
    expect(errors?.groupBy).toEqual(["metric.label.status"]);
  });

  it("charts the dead-letter backlog of the subscription GmailPush creates, as its alert watches it", () => {
    const pushed = Testing.synthScope((s) => {
      new GmailPush(s, "email", {
        projectId: "p",
        projectNumber: "1",
        region: "europe-west1",
        spec: environments.prod.email,
        pushEndpoint: "https://x.example/webhooks/email/gmail-push",
        pushAudience: "https://x.example/webhooks/email/gmail-push",
        renewalUrl: "https://w.example/internal/email/renew-watches",
        internalAudience: "https://w.example",
        invoker: { email: "invoker@p.iam.gserviceaccount.com" },
        labels: {},
      });
    });
    const names = resources(parse(pushed), "google_pubsub_subscription").map((s) => String(s.name));
    const deadLetters = names.filter((n) => n.endsWith("-dead-letter"));
    expect(deadLetters).toHaveLength(1);
    const backlog = on("pubsub.googleapis.com/subscription/num_undelivered_messages");
    expect(backlog).toMatchObject({ resource: "pubsub_subscription", aligner: "ALIGN_MAX" });
    expect(backlog?.filter).toBe(`resource.labels.subscription_id="${deadLetters[0]}"`);
    const alert = policy("gmail-push-dead-letters").conditions[0] as {
      conditionPrometheusQueryLanguage: { query: string };
    };
    expect(alert.conditionPrometheusQueryLanguage.query).toContain(`subscription_id="${deadLetters[0]}"`);
  });

  it("names only metrics that exist, and every e-mail metric", () => {
    const named = widgets.map((w) => String(w.metric));
    for (const type of named) expect(catalog.types.has(type), type).toBe(true);
    for (const name of Object.values(EMAIL)) expect(named).toContain(logMetricType(name));
  });
});
