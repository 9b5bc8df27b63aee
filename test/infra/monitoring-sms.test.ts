import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { LogMetrics } from "../../infra/constructs/log-metrics";
import { LOG_METRICS, LOG_VALUE_VARS, logMetricType } from "../../infra/monitoring/log-metrics";
import { buildCatalog, referencedMetrics } from "../../infra/monitoring/metric-catalog";
import {
  DASHBOARDS_DIR,
  fillTemplate,
  type MonitoringFile,
  POLICIES_DIR,
  readMonitoringFiles,
  validateAlertPolicy,
  validateDashboard,
  type WidgetRow,
} from "../../infra/monitoring/monitoring-files";
import { LOG_EVENT, LOG_FIELD, UPSTREAM } from "../../service/src/observability/log-events";
import { parse, resources } from "./helpers";

/**
 * The SMS rows of issue 13: log-based metrics over the sms.* events, the SMS dashboard and the two SMS
 * alert policies. Label values are read the way Cloud Monitoring reads them (PromQL regex matchers and
 * `monitoring.regex.full_match` are anchored at both ends), so a policy that would count a refusal for an
 * opted-out customer, or miss a provider, fails here rather than in production.
 */

const VARS = {
  ...LOG_VALUE_VARS,
  ENV: "test",
  PROJECT_ID: "p-000000",
  REGION: "europe-west1",
  SERVICE_NAME: "switchboard",
  SQL_DATABASE_ID: "p-000000:switchboard-pg",
  SQL_CONNECTIONS_ALERT: 180,
  RUN_MAX_INSTANCES: 20,
  TASK_QUEUE: "switchboard-outbox",
  MODEL_DAILY_COST_USD: 25,
  MODEL_TOKENS_PER_REQUEST: 12000,
  MODEL_CACHE_HIT_RATE_MIN: 0.4,
  MODEL_ALERT_MIN_CALLS: 100,
};
const catalog = buildCatalog();
const SMS_UPSTREAMS = [UPSTREAM.twilio, UPSTREAM.telnyx, UPSTREAM.voxie];
const DELIVERY_STATUSES = ["queued", "sending", "sent", "delivered", "undelivered", "failed"];

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})$`);
/** The values of `candidates` a PromQL matcher (`=` or `=~`) selects. */
const selects = (op: string, value: string, candidates: readonly string[]) =>
  candidates.filter((c) => (op === "=~" ? anchored(value).test(c) : c === value));

interface Selector {
  readonly metric: string;
  readonly matchers: ReadonlyMap<string, { op: string; value: string }>;
}
const SELECTOR = /([a-z0-9_]+_googleapis_com:[A-Za-z0-9_]+)\{([^}]*)\}/g;
const MATCHER = /(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g;
function selectors(query: string): Selector[] {
  return [...query.matchAll(SELECTOR)].map(([, metric = "", body = ""]) => ({
    metric,
    matchers: new Map(
      [...body.matchAll(MATCHER)].map(([, k = "", op = "", value = ""]) => [k, { op, value }]),
    ),
  }));
}

const policy = (name: string) => {
  const file = readMonitoringFiles(POLICIES_DIR).find((f) => f.name === name);
  return validateAlertPolicy(fillTemplate(file?.content, VARS, name), name);
};
const promqlConditions = (name: string) =>
  policy(name).conditions.map(
    (c) =>
      (c as { conditionPrometheusQueryLanguage: { query: string; duration: string } })
        .conditionPrometheusQueryLanguage,
  );

describe("SMS log-based metrics", () => {
  const byName = (name: string) => LOG_METRICS.find((m) => m.name === name);

  it("count sms.received by provider, sms.delivery by provider and status, sms.consent by provider and outcome", () => {
    expect(byName("switchboard_sms_received")).toMatchObject({
      event: LOG_EVENT.smsReceived,
      kind: "counter",
      labels: [{ key: "provider", field: LOG_FIELD.provider }],
    });
    expect(byName("switchboard_sms_deliveries")).toMatchObject({
      event: LOG_EVENT.smsDelivery,
      kind: "counter",
      labels: [
        { key: "provider", field: LOG_FIELD.provider },
        { key: "delivery_status", field: LOG_FIELD.deliveryStatus },
      ],
    });
    expect(byName("switchboard_sms_consent")).toMatchObject({
      event: LOG_EVENT.smsConsent,
      kind: "counter",
      labels: [
        { key: "provider", field: LOG_FIELD.provider },
        { key: "outcome", field: LOG_FIELD.outcome },
      ],
    });
  });

  it("synthesize with filters on the sms.* events and extractors of the fields the service writes", () => {
    const out = parse(
      Testing.synthScope((s) => {
        new LogMetrics(s, "log-metrics", {
          projectId: "p",
          serviceNames: ["switchboard", "switchboard-worker"],
        });
      }),
    );
    const metric = (name: string) => resources(out, "google_logging_metric").find((m) => m.name === name);
    expect(metric("switchboard_sms_received")).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="sms.received"'),
      metric_descriptor: { value_type: "INT64", metric_kind: "DELTA" },
      label_extractors: { provider: "EXTRACT(jsonPayload.provider)" },
    });
    expect(metric("switchboard_sms_deliveries")).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="sms.delivery"'),
      label_extractors: {
        provider: "EXTRACT(jsonPayload.provider)",
        delivery_status: "EXTRACT(jsonPayload.deliveryStatus)",
      },
    });
    expect(metric("switchboard_sms_consent")).toMatchObject({
      filter: expect.stringContaining('jsonPayload.event="sms.consent"'),
      label_extractors: {
        provider: "EXTRACT(jsonPayload.provider)",
        outcome: "EXTRACT(jsonPayload.outcome)",
      },
    });
    // Counters count lines: no value extractor, no buckets.
    expect(metric("switchboard_sms_deliveries")).not.toHaveProperty("value_extractor");
  });
});

describe("label references", () => {
  const labelsOf = new Map(
    LOG_METRICS.map((m) => [logMetricType(m.name), new Set(m.labels.map((l) => l.key))]),
  );

  /** [metric type, label] for every label a dashboard or policy filters, groups or matches on. */
  function references(file: MonitoringFile): [string, string][] {
    const content = fillTemplate(file.content, VARS, file.path);
    const found: [string, string][] = [];
    const metricLabels = (text: string) =>
      [...text.matchAll(/metric\.labels?\.(\w+)/g)].map(([, l]) => l ?? "");
    const fromFilter = (filter: unknown, groupBy: unknown) => {
      if (typeof filter !== "string") return;
      const type = /metric\.type\s*=\s*"([^"]+)"/.exec(filter)?.[1] ?? "";
      for (const l of [...metricLabels(filter), ...metricLabels(JSON.stringify(groupBy ?? []))])
        found.push([type, l]);
    };
    const fromPromql = (query: string) => {
      for (const s of selectors(query)) {
        const [type = s.metric] = referencedMetrics(s.metric, catalog);
        for (const l of s.matchers.keys()) if (l !== "monitored_resource") found.push([type, l]);
      }
      for (const [, by = "", name = ""] of query.matchAll(
        /by \(([^)]*)\) \((?:increase|rate)\(([a-z0-9_:]+)/g,
      )) {
        const [type = name] = referencedMetrics(name, catalog);
        for (const l of by.split(",")) found.push([type, l.trim()]);
      }
    };
    if (file.path.startsWith(DASHBOARDS_DIR)) {
      for (const w of validateDashboard(content, file.path).widgets as WidgetRow[]) {
        if (w.promql) fromPromql(w.promql);
        else
          for (const l of [...metricLabels(w.filter ?? ""), ...metricLabels(JSON.stringify(w.groupBy ?? []))])
            found.push([w.metric ?? "", l]);
      }
    } else {
      for (const c of validateAlertPolicy(content, file.path).conditions) {
        const t = c.conditionThreshold as Record<string, unknown> | undefined;
        if (t) {
          fromFilter(t.filter, t.aggregations);
          fromFilter(t.denominatorFilter, t.denominatorAggregations);
        }
        const q = (c.conditionPrometheusQueryLanguage as { query?: string } | undefined)?.query;
        if (q) fromPromql(q);
      }
    }
    return found;
  }

  it("names only labels the log-based metric extracts, in every dashboard and policy", () => {
    const files = [...readMonitoringFiles(DASHBOARDS_DIR), ...readMonitoringFiles(POLICIES_DIR)];
    const all = files.flatMap((f) => references(f).map(([type, label]) => ({ file: f.name, type, label })));
    const sms = all.filter((r) => r.type.includes("switchboard_sms_"));
    // The walk finds the SMS files' labels (a parser that found nothing would pass anything).
    expect(new Set(sms.map((r) => r.label))).toEqual(new Set(["provider", "delivery_status", "outcome"]));
    const unknown = all.filter((r) => labelsOf.has(r.type) && !labelsOf.get(r.type)?.has(r.label));
    expect(unknown).toEqual([]);
  });
});

describe("policies/sms-delivery-failures.json", () => {
  const [condition] = promqlConditions("sms-delivery-failures");
  const query = condition?.query ?? "";
  const statusesOf = (s: Selector) => {
    const m = s.matchers.get("delivery_status");
    return m ? selects(m.op, m.value, DELIVERY_STATUSES) : [];
  };

  it("alerts on the failed share of final delivery reports per provider above 10 % over an hour", () => {
    const [failed, ...finals] = selectors(query);
    expect(failed?.metric).toBe("logging_googleapis_com:user_switchboard_sms_deliveries");
    expect(statusesOf(failed as Selector).sort()).toEqual(["failed", "undelivered"]);
    // Denominator and volume floor: the final states only (queued/sending/sent would change the share as
    // a message moves through them).
    expect(finals).toHaveLength(2);
    for (const s of finals) expect(statusesOf(s).sort()).toEqual(["delivered", "failed", "undelivered"]);
    expect(query.match(/sum by \(provider\)/g)).toHaveLength(3);
    expect(query.match(/\[1h\]/g)).toHaveLength(3);
    expect(query).toMatch(/\) > 0\.1\) and \(/);
  });

  it("stays quiet below 20 final reports an hour for a provider", () => {
    expect(query).toMatch(/>= 20\)$/);
    expect(condition?.duration).toBe("900s");
    expect(policy("sms-delivery-failures").documentation.content).toMatch(/10DLC/);
  });
});

describe("policies/sms-provider-errors.json", () => {
  const conditions = promqlConditions("sms-provider-errors");
  const matcher = (i: number, label: string) => {
    const [s] = selectors(conditions[i]?.query ?? "");
    expect(s?.metric).toBe("logging_googleapis_com:user_switchboard_upstream_errors");
    const m = s?.matchers.get(label);
    expect(m, `${label} matcher of condition ${i}`).toBeDefined();
    return m as { op: string; value: string };
  };
  const upstreams = [...Object.values(UPSTREAM)];
  const statuses = ["0", "400", "401", "404", "429", "500", "502", "503", "504", "50", "5000"];

  it("watches the three SMS providers, and no other upstream", () => {
    for (const i of [0, 1]) {
      const m = matcher(i, "upstream");
      expect(selects(m.op, m.value, upstreams).sort()).toEqual([...SMS_UPSTREAMS].sort());
    }
  });

  it("counts 5xx and no-answer (0) in one condition and 429 in the other, never a 4xx refusal", () => {
    const down = matcher(0, "status");
    expect(selects(down.op, down.value, statuses)).toEqual(["0", "500", "502", "503", "504"]);
    const limited = matcher(1, "status");
    expect(selects(limited.op, limited.value, statuses)).toEqual(["429"]);
  });

  it("fires per provider on errors sustained for 10 minutes", () => {
    expect(policy("sms-provider-errors").combiner).toBe("OR");
    for (const c of conditions) {
      expect(c.query).toMatch(/^sum by \(upstream\) \(increase\(.*\[5m\]\)\) >= \d+$/);
      expect(c.duration).toBe("600s");
    }
    expect(conditions[0]?.query).toMatch(/>= 5$/);
    expect(conditions[1]?.query).toMatch(/>= 10$/);
  });
});

describe("dashboards/sms.json", () => {
  const file = readMonitoringFiles(DASHBOARDS_DIR).find((f) => f.name === "sms");
  const widgets = validateDashboard(fillTemplate(file?.content, VARS, "sms"), "sms").widgets;
  const on = (metric: string) => widgets.filter((w) => w.metric === logMetricType(metric));
  /** Values of `candidates` a `metric.label.<label>=…` filter clause selects (exact or full_match). */
  const filtered = (w: WidgetRow | undefined, label: string, candidates: readonly string[]) => {
    const clause = new RegExp(
      `metric\\.label\\.${label}=(?:"([^"]*)"|monitoring\\.regex\\.full_match\\("([^"]*)"\\))`,
    ).exec(w?.filter ?? "");
    if (!clause) return [...candidates];
    return clause[1] !== undefined
      ? selects("=", clause[1], candidates)
      : selects("=~", clause[2] ?? "", candidates);
  };

  it("charts inbound texts per provider", () => {
    const [w] = on("switchboard_sms_received");
    expect(w).toMatchObject({ aligner: "ALIGN_RATE", groupBy: ["metric.label.provider"] });
  });

  it("charts SMS conversations by outcome (answered, handoff, skipped) and their processing time", () => {
    const [count] = on("switchboard_conversations");
    expect(filtered(count, "channel", ["web", "intercom", "sms"])).toEqual(["sms"]);
    expect(count?.groupBy).toEqual(["metric.label.outcome"]);
    const [time] = on("switchboard_conversation_duration_ms");
    expect(filtered(time, "channel", ["web", "intercom", "sms"])).toEqual(["sms"]);
  });

  it("charts failed and undelivered texts by provider, and their share with the alert's threshold", () => {
    const [failed] = on("switchboard_sms_deliveries");
    expect(filtered(failed, "delivery_status", DELIVERY_STATUSES).sort()).toEqual(["failed", "undelivered"]);
    expect(failed?.groupBy).toEqual(["metric.label.provider", "metric.label.delivery_status"]);
    const share = widgets.find((w) => w.promql?.includes("user_switchboard_sms_deliveries"));
    expect(share?.threshold).toBe(0.1);
  });

  it("charts opt-outs and opt-ins, and provider errors of the SMS upstreams only", () => {
    const [consent] = on("switchboard_sms_consent");
    expect(consent?.groupBy).toEqual(["metric.label.provider", "metric.label.outcome"]);
    const [errors] = on("switchboard_upstream_errors");
    expect(filtered(errors, "upstream", Object.values(UPSTREAM)).sort()).toEqual([...SMS_UPSTREAMS].sort());
    expect(errors?.groupBy).toEqual(["metric.label.upstream", "metric.label.status"]);
  });
});
