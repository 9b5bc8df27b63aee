import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { LogMetrics } from "../../infra/constructs/log-metrics";
import { LOG_METRICS, LOG_VALUE_VARS, logMetricType } from "../../infra/monitoring/log-metrics";
import { buildCatalog, referencedMetrics } from "../../infra/monitoring/metric-catalog";
import {
  DASHBOARDS_DIR,
  fillTemplate,
  POLICIES_DIR,
  readMonitoringFiles,
  validateAlertPolicy,
  validateDashboard,
} from "../../infra/monitoring/monitoring-files";
import { LOG_EVENT, LOG_FIELD } from "../../service/src/observability/log-events";
import { parse, resources } from "./helpers";

/**
 * The monitoring of issue 14's follow-up work: log-based metrics over escalation.opened,
 * notification.attempted, webhook.* and voice.call_stored, the follow-up dashboard, and the alerts on
 * failing webhook attempts and given-up team notifications. Policies and widgets must name metrics that
 * exist, select the values the service writes, and never label a series with a tenant, a URL or a person.
 */

const VARS = { ...LOG_VALUE_VARS, ENV: "test" };
const catalog = buildCatalog();
const FOLLOW_UP = {
  escalations: "switchboard_escalations_opened",
  notifications: "switchboard_notifications",
  delivered: "switchboard_webhook_attempts_delivered",
  failed: "switchboard_webhook_attempts_failed",
  disabled: "switchboard_webhook_endpoints_disabled",
  calls: "switchboard_calls_stored",
} as const;
const byName = (name: string) => LOG_METRICS.find((m) => m.name === name);
const promName = (name: string) => `logging_googleapis_com:user_${name}`;

const policy = (name: string) => {
  const file = readMonitoringFiles(POLICIES_DIR).find((f) => f.name === name);
  expect(file, `policies/${name}.json`).toBeDefined();
  return validateAlertPolicy(fillTemplate(file?.content, VARS, name), name);
};
const promql = (name: string) =>
  policy(name).conditions.map(
    (c) =>
      (c as { conditionPrometheusQueryLanguage: { query: string; duration: string } })
        .conditionPrometheusQueryLanguage,
  );

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})$`);
/** The `label` matchers of a query's selectors on `metric`, as the values among `candidates` they select. */
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

describe("follow-up log-based metrics", () => {
  it("count each follow-up event, with the labels the dashboard and alerts group by", () => {
    expect(byName(FOLLOW_UP.escalations)).toMatchObject({
      event: LOG_EVENT.escalationOpened,
      kind: "counter",
      labels: [
        { key: "channel", field: LOG_FIELD.channel },
        { key: "reason", field: LOG_FIELD.reason },
      ],
    });
    expect(byName(FOLLOW_UP.notifications)).toMatchObject({
      event: LOG_EVENT.notificationAttempted,
      labels: [
        { key: "kind", field: LOG_FIELD.kind },
        { key: "topic", field: LOG_FIELD.topic },
        { key: "outcome", field: LOG_FIELD.outcome },
      ],
    });
    for (const [name, event] of [
      [FOLLOW_UP.delivered, LOG_EVENT.webhookDelivered],
      [FOLLOW_UP.failed, LOG_EVENT.webhookAttemptFailed],
    ] as const) {
      expect(byName(name)).toMatchObject({
        event,
        labels: [{ key: "status_class", field: LOG_FIELD.statusClass }],
      });
    }
    expect(byName(FOLLOW_UP.disabled)).toMatchObject({
      event: LOG_EVENT.webhookEndpointDisabled,
      labels: [],
    });
    expect(byName(FOLLOW_UP.calls)).toMatchObject({ event: LOG_EVENT.voiceCallStored, labels: [] });
  });

  it("never label a series with a tenant, an endpoint, a URL, a host or a person", () => {
    const fields = Object.values(FOLLOW_UP).flatMap((n) => byName(n)?.labels.map((l) => l.field) ?? []);
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields)
      expect(field).not.toMatch(/tenant|endpoint|url|host|target|to$|email|phone|contact|id$/i);
  });

  it("synthesize with filters on the follow-up events and extractors of the fields the service writes", () => {
    const out = parse(
      Testing.synthScope((s) => {
        new LogMetrics(s, "log-metrics", {
          projectId: "p",
          serviceNames: ["switchboard", "switchboard-worker"],
        });
      }),
    );
    const metric = (name: string) => resources(out, "google_logging_metric").find((m) => m.name === name);
    expect(metric(FOLLOW_UP.notifications)).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="notification.attempted"'),
      metric_descriptor: { value_type: "INT64", metric_kind: "DELTA" },
      label_extractors: {
        kind: "EXTRACT(jsonPayload.kind)",
        topic: "EXTRACT(jsonPayload.topic)",
        outcome: "EXTRACT(jsonPayload.outcome)",
      },
    });
    expect(metric(FOLLOW_UP.failed)).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="webhook.attempt_failed"'),
      label_extractors: { status_class: "EXTRACT(jsonPayload.statusClass)" },
    });
    expect(metric(FOLLOW_UP.escalations)?.filter).toContain('jsonPayload.event="escalation.opened"');
    expect(metric(FOLLOW_UP.disabled)?.filter).toContain('jsonPayload.event="webhook.endpoint_disabled"');
    expect(metric(FOLLOW_UP.calls)?.filter).toContain('jsonPayload.event="voice.call_stored"');
  });
});

describe("policies/webhook-delivery-failures.json", () => {
  const [condition] = promql("webhook-delivery-failures");
  const query = condition?.query ?? "";

  it("alerts on failed attempts above 25 % of all attempts over an hour, sustained for 30 minutes", () => {
    const [share, floor] = query.split(" and ");
    // failed / (failed + delivered): the share, and a denominator that counts every attempt.
    expect(share).toMatch(/^\(sum\(increase\(\S+_failed\{[^}]*\}\[1h\]\)\) \/ \(sum\(increase\(\S+_failed/);
    expect(share).toContain(promName(FOLLOW_UP.delivered));
    expect(share).toMatch(/\) > 0\.25\)$/);
    expect(condition?.duration).toBe("1800s");
    // With no delivered attempt at all (every receiver failing) the share is still 1, not absent.
    expect(query.match(/delivered\{[^}]*\}\[1h\]\)\) or vector\(0\)\)/g)).toHaveLength(2);
    expect(floor).toMatch(/>= 20\)$/);
    expect(floor).toContain(promName(FOLLOW_UP.failed));
    expect(floor).toContain(promName(FOLLOW_UP.delivered));
  });

  it("names only metrics that exist, and tells what to do", () => {
    const named = new Set([...query.matchAll(/logging_googleapis_com:user_\w+/g)].map(([m]) => m));
    expect(named).toEqual(new Set([promName(FOLLOW_UP.failed), promName(FOLLOW_UP.delivered)]));
    for (const m of named) expect(referencedMetrics(m, catalog)).toHaveLength(1);
    const text = policy("webhook-delivery-failures").documentation.content;
    expect(text).toContain('jsonPayload.event="webhook.attempt_failed"');
    expect(text).toMatch(/replay/);
  });
});

describe("policies/notification-failures.json", () => {
  const [condition] = promql("notification-failures");
  const query = condition?.query ?? "";

  it("fires on any notification given up as failed, never on a sent or retried one", () => {
    expect(
      selected(query, promName(FOLLOW_UP.notifications), "outcome", ["sent", "retry", "failed"]),
    ).toEqual([["failed"]]);
    expect(query).toMatch(/^sum by \(kind\) \(increase\(.*\[10m\]\)\) > 0$/);
    expect(referencedMetrics(promName(FOLLOW_UP.notifications), catalog)).toEqual([
      logMetricType(FOLLOW_UP.notifications),
    ]);
    expect(policy("notification-failures").severity).toBe("ERROR");
    expect(policy("notification-failures").documentation.content).toMatch(/escalations\?status=open/);
  });
});

describe("dashboards/follow-up.json", () => {
  const file = readMonitoringFiles(DASHBOARDS_DIR).find((f) => f.name === "follow-up");
  const widgets = validateDashboard(fillTemplate(file?.content, VARS, "follow-up"), "follow-up").widgets;
  const on = (name: string) => widgets.find((w) => w.metric === logMetricType(name));

  it("charts escalations per channel, notifications by outcome, webhook attempts by status class", () => {
    expect(on(FOLLOW_UP.escalations)?.groupBy).toEqual(["metric.label.channel"]);
    expect(on(FOLLOW_UP.notifications)?.groupBy).toEqual(["metric.label.kind", "metric.label.outcome"]);
    expect(on(FOLLOW_UP.delivered)?.groupBy).toEqual(["metric.label.status_class"]);
    expect(on(FOLLOW_UP.failed)?.groupBy).toEqual(["metric.label.status_class"]);
  });

  it("charts endpoints disabled and calls per hour, and the failed share with the alert's threshold", () => {
    for (const name of [FOLLOW_UP.disabled, FOLLOW_UP.calls])
      expect(on(name)).toMatchObject({ aligner: "ALIGN_DELTA", period: "3600s" });
    const share = widgets.find((w) => w.promql?.includes(promName(FOLLOW_UP.failed)));
    expect(share?.threshold).toBe(0.25);
  });

  it("names only metrics that exist", () => {
    const named = widgets.flatMap((w) =>
      w.promql ? [...w.promql.matchAll(/logging_googleapis_com:user_(\w+)/g)].map(([, n]) => n) : [w.metric],
    );
    const known = new Set(LOG_METRICS.map((m) => m.name));
    for (const n of named)
      expect(known.has(String(n).replace("logging.googleapis.com/user/", ""))).toBe(true);
    expect(new Set(named.map((n) => String(n).replace("logging.googleapis.com/user/", "")))).toEqual(
      new Set(Object.values(FOLLOW_UP)),
    );
  });
});
