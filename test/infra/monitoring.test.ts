import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { AlertPolicies } from "../../infra/constructs/alert-policies";
import { Dashboards } from "../../infra/constructs/dashboards";
import { LOG_METRICS, LOG_VALUE_VARS, logMetricType } from "../../infra/monitoring/log-metrics";
import { buildCatalog, promqlName, unknownMetrics } from "../../infra/monitoring/metric-catalog";
import { isMonitoringUnit } from "../../infra/monitoring/metric-units";
import {
  assertKnownMetrics,
  DASHBOARDS_DIR,
  dashboardJson,
  fillTemplate,
  POLICIES_DIR,
  readMonitoringFiles,
  validateAlertPolicy,
  validateDashboard,
} from "../../infra/monitoring/monitoring-files";
import { parse, resources, synthApp } from "./helpers";

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

function dirWith(name: string, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-monitoring-"));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(content));
  return dir;
}

describe("policies/*.json", () => {
  const files = readMonitoringFiles(POLICIES_DIR);

  it("covers every alert the brief lists", () => {
    expect(files.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        "api-latency-p95",
        "api-error-rate",
        "sql-cpu",
        "sql-connections",
        "sql-disk",
        "run-max-instances",
        "daily-tokens-spike",
        "gemini-rate-limited",
        "gemini-server-errors",
        "conversation-processing-time",
        "model-daily-cost",
        "model-tokens-per-request",
        "context-cache-hit-rate",
        "sms-delivery-failures",
        "sms-provider-errors",
      ]),
    );
  });

  it("alerts on daily model cost, tokens per call and context-cache hit rate, thresholds from the environment", () => {
    const promql = (name: string) => {
      const file = files.find((f) => f.name === name);
      const doc = validateAlertPolicy(fillTemplate(file?.content, VARS, name), name);
      return (doc.conditions[0] as { conditionPrometheusQueryLanguage: Record<string, unknown> })
        .conditionPrometheusQueryLanguage as { query: string; disableMetricValidation: boolean };
    };
    const usage = (kind: string) => `logging_googleapis_com:user_switchboard_model_${kind}`;
    const cost = promql("model-daily-cost");
    expect(cost.query).toContain(`increase(${usage("cost_usd_sum")}`);
    expect(cost.query).toMatch(/\[1d\]\)\) > 25$/);
    const tokens = promql("model-tokens-per-request");
    for (const kind of ["input", "output", "thoughts"])
      expect(tokens.query).toContain(usage(`${kind}_tokens_sum`));
    expect(tokens.query).toContain(`/ sum(increase(${usage("input_tokens_count")}`);
    expect(tokens.query).toContain("> 12000) and on() (");
    const cache = promql("context-cache-hit-rate");
    // Gemini's prompt count includes the cached tokens, so cached / input is the hit rate.
    expect(cache.query).toMatch(
      new RegExp(
        `^\\(sum\\(increase\\(${usage("cached_tokens_sum")}\\{[^}]*purpose="chat"[^}]*\\}\\[1h\\]\\)\\) / sum\\(increase\\(${usage("input_tokens_sum")}`,
      ),
    );
    expect(cache.query).toContain("< 0.4) and on() (");
    // Quiet on a handful of calls: the ratios need volume.
    expect(cache.query).toMatch(/>= 100\)$/);
    expect(tokens.query).toMatch(/>= 100\)$/);
    for (const c of [cost, tokens, cache]) expect(c.disableMetricValidation).toBe(true);
  });

  it("balances the brackets of every PromQL query", () => {
    const queries = files.flatMap((f) =>
      (f.content as { conditions: { conditionPrometheusQueryLanguage?: { query: string } }[] }).conditions
        .map((c) => c.conditionPrometheusQueryLanguage?.query)
        .filter((q): q is string => q !== undefined),
    );
    expect(queries.length).toBeGreaterThanOrEqual(4);
    for (const q of queries) {
      const depth = { "(": 0, "{": 0, "[": 0 };
      const close: Record<string, keyof typeof depth> = { ")": "(", "}": "{", "]": "[" };
      for (const ch of q.replace(/"[^"]*"/g, "")) {
        if (ch in depth) depth[ch as keyof typeof depth]++;
        const open = close[ch];
        if (open) expect(--depth[open], q).toBeGreaterThanOrEqual(0);
      }
      expect(depth, q).toEqual({ "(": 0, "{": 0, "[": 0 });
    }
  });

  it.each(
    files.map((f) => [f.name, f] as const),
  )("%s is a valid policy over known metrics", (_name, file) => {
    const doc = validateAlertPolicy(fillTemplate(file.content, VARS, file.path), file.path);
    expect(() => assertKnownMetrics(doc, catalog, file.path)).not.toThrow();
    expect(JSON.stringify(doc)).not.toMatch(/\$\{/);
  });

  it("never narrows a log-based metric to one Cloud Run service (the worker logs the background turns)", () => {
    const all = [...files, ...readMonitoringFiles(DASHBOARDS_DIR)];
    const offenders: string[] = [];
    const walk = (value: unknown, file: string) => {
      if (typeof value === "string") {
        if (/logging(\.googleapis\.com\/|_googleapis_com:)user/.test(value) && /service_name/.test(value))
          offenders.push(file);
      } else if (Array.isArray(value)) for (const v of value) walk(v, file);
      else if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        // A dashboard widget row keeps the metric and its filter in separate fields.
        const logMetric = typeof o.metric === "string" && o.metric.startsWith("logging.googleapis.com/user/");
        if (logMetric && typeof o.filter === "string" && o.filter.includes("service_name"))
          offenders.push(file);
        for (const v of Object.values(o)) walk(v, file);
      }
    };
    for (const f of all) walk(f.content, f.name);
    expect(offenders).toEqual([]);
  });

  it("keeps the brief's thresholds", () => {
    const threshold = (name: string) => {
      const file = files.find((f) => f.name === name);
      const doc = validateAlertPolicy(fillTemplate(file?.content, VARS, name), name);
      return (doc.conditions[0] as { conditionThreshold: { thresholdValue: number; duration: string } })
        .conditionThreshold;
    };
    expect(threshold("api-latency-p95")).toMatchObject({ thresholdValue: 2000, duration: "300s" });
    expect(threshold("api-error-rate")).toMatchObject({ thresholdValue: 0.05, duration: "120s" });
    expect(threshold("sql-cpu").thresholdValue).toBe(0.85);
    expect(threshold("sql-connections").thresholdValue).toBe(180);
    expect(threshold("sql-disk").thresholdValue).toBe(0.8);
    expect(threshold("run-max-instances").thresholdValue).toBe(20);
    expect(threshold("gemini-rate-limited").thresholdValue).toBe(10);
    expect(threshold("gemini-server-errors")).toMatchObject({ thresholdValue: 0.05, duration: "60s" });
    expect(threshold("conversation-processing-time").thresholdValue).toBe(5000);
  });
});

describe("dashboards/*.json", () => {
  const files = readMonitoringFiles(DASHBOARDS_DIR);

  it.each(
    files.map((f) => [f.name, f] as const),
  )("%s expands to a valid dashboard over known metrics", (_n, file) => {
    const json = dashboardJson(validateDashboard(fillTemplate(file.content, VARS, file.path), file.path));
    expect(() => assertKnownMetrics(json, catalog, file.path)).not.toThrow();
    const tiles = (json.mosaicLayout as { tiles: { xPos: number; width: number }[] }).tiles;
    // xPos 0 is left out (the API drops it): a missing position is the left edge.
    for (const t of tiles) expect((t.xPos ?? 0) + t.width).toBeLessThanOrEqual(48);
  });

  it("synthesizes dashboards without the zero and empty values the API drops (no diff on every plan)", () => {
    const { outdir, stacks } = synthApp();
    const dashboards = resources(stacks.prod, "google_monitoring_dashboard");
    expect(dashboards).toHaveLength(files.length);
    for (const d of dashboards) {
      const asset = /templatefile\("([^"]+)"/.exec(String(d.dashboard_json))?.[1] ?? "";
      const json = JSON.parse(readFileSync(join(outdir, "stacks", "prod", asset), "utf8")) as {
        mosaicLayout: { tiles: Record<string, unknown>[] };
      };
      const defaults: string[] = [];
      const walk = (v: unknown, path: string) => {
        const empty = Array.isArray(v)
          ? v.length === 0
          : v && typeof v === "object" && !Object.keys(v).length;
        if (v === 0 || v === "" || v === null || empty) defaults.push(path);
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
      };
      walk(json, asset);
      expect(defaults).toEqual([]);
      // The first tile sits at the origin: both positions are left out, not written as 0.
      expect(json.mosaicLayout.tiles[0]).not.toHaveProperty("xPos");
      expect(json.mosaicLayout.tiles[0]).not.toHaveProperty("yPos");
      expect(json.mosaicLayout.tiles[1]).toMatchObject({ xPos: 24 });
    }
  });

  it("has the bridge widgets the brief lists", () => {
    const conv = files.find((f) => f.name === "conversations");
    const titles = validateDashboard(fillTemplate(conv?.content, VARS, "c"), "c").widgets.map((w) => w.title);
    for (const wanted of [/processing time/i, /conversations processed/i, /API errors/i, /instances/i]) {
      expect(titles.some((t) => wanted.test(t))).toBe(true);
    }
  });
});

describe("metric units", () => {
  it("gives every log-based metric a unit in Cloud Monitoring's grammar (money as {USD})", () => {
    for (const m of LOG_METRICS) expect(isMonitoringUnit(m.unit), `${m.name}: ${m.unit}`).toBe(true);
    expect(LOG_METRICS.find((m) => m.name === "switchboard_model_cost_usd")?.unit).toBe("{USD}");
  });

  it("follows the grammar: prefixes, annotations, products and quotients", () => {
    for (const ok of [
      "1",
      "ms",
      "s",
      "By",
      "kBy",
      "MiBy",
      "{USD}",
      "{requests}/s",
      "By/s",
      "%",
      "GBy.d",
      "s{CPU}",
    ]) {
      expect(isMonitoringUnit(ok), ok).toBe(true);
    }
    for (const bad of ["USD", "dollars", "", "m s", "{a b}", "{}", "xs", "1/"]) {
      expect(isMonitoringUnit(bad), bad).toBe(false);
    }
  });
});

describe("metric references", () => {
  it("knows every log-based metric, in filter and PromQL spelling", () => {
    for (const m of LOG_METRICS) {
      expect(catalog.types.has(logMetricType(m.name))).toBe(true);
      expect(unknownMetrics(`sum(rate(${promqlName(logMetricType(m.name))}_count[5m]))`, catalog)).toEqual(
        [],
      );
    }
    expect(promqlName("run.googleapis.com/container/instance_count")).toBe(
      "run_googleapis_com:container_instance_count",
    );
  });

  it("fails synth on a policy that refers to an undefined metric", () => {
    const bad = {
      displayName: "bad",
      combiner: "OR",
      severity: "WARNING",
      documentation: { content: "this alert watches a metric nobody defines" },
      conditions: [
        {
          displayName: "typo",
          conditionThreshold: {
            filter: 'metric.type="logging.googleapis.com/user/switchboard_conversation_duration"',
            comparison: "COMPARISON_GT",
            thresholdValue: 1,
            duration: "60s",
          },
        },
      ],
    };
    expect(() =>
      Testing.synthScope((s) => {
        new AlertPolicies(s, "alerts", {
          projectId: "p",
          catalog,
          vars: VARS,
          notificationChannelIds: [],
          labels: {},
          directory: dirWith("typo", bad),
        });
      }),
    ).toThrow(
      /typo\.json: refers to metric\(s\) no construct or Google service defines: logging\.googleapis\.com\/user\/switchboard_conversation_duration\b/,
    );
  });

  it("fails synth on a dashboard that charts an undefined metric, in a filter or in PromQL", () => {
    const make = (widget: Record<string, unknown>) => () =>
      Testing.synthScope((s) => {
        new Dashboards(s, "dashboards", {
          projectId: "p",
          catalog,
          vars: VARS,
          directory: dirWith("bad", { displayName: "bad", widgets: [{ title: "x", ...widget }] }),
        });
      });
    expect(
      make({
        metric: "run.googleapis.com/request_counts",
        resource: "cloud_run_revision",
        aligner: "ALIGN_RATE",
      }),
    ).toThrow(/run\.googleapis\.com\/request_counts/);
    expect(make({ promql: "sum(rate(logging_googleapis_com:user_nope_sum[5m]))" })).toThrow(/user_nope_sum/);
  });

  it("fails on an unknown placeholder and on a malformed policy", () => {
    expect(() => fillTemplate({ a: `${"$"}{NOPE}` }, VARS, "x.json")).toThrow(
      /x\.json: unknown placeholder \$\{NOPE\}/,
    );
    expect(() => validateAlertPolicy({ displayName: "x", combiner: "OR" }, "y.json")).toThrow(
      /y\.json: severity/,
    );
    expect(() =>
      validateDashboard({ displayName: "d", widgets: [{ title: "t", metrc: "x" }] }, "z.json"),
    ).toThrow(/unknown field metrc/);
  });

  it("deploys each dashboard file as a dashboard read from a file asset", () => {
    const out = parse(
      Testing.synthScope((s) => {
        new Dashboards(s, "dashboards", { projectId: "p", catalog, vars: VARS, directory: DASHBOARDS_DIR });
      }),
    );
    const dashboards = Object.entries(out.resource.google_monitoring_dashboard ?? {});
    const names = readMonitoringFiles(DASHBOARDS_DIR).map((f) => f.name);
    expect(dashboards).toHaveLength(names.length);
    for (const name of names)
      expect(dashboards.some(([id]) => id.startsWith(`dashboards_${name}_`))).toBe(true);
    for (const [, d] of dashboards) {
      expect(d).toMatchObject({
        project: "p",
        dashboard_json: expect.stringMatching(/^\$\{templatefile\("assets\//),
      });
    }
  });

  it("deploys a policy file as an alert policy with the environment's channels and labels", () => {
    const out = parse(
      Testing.synthScope((s) => {
        new AlertPolicies(s, "alerts", {
          projectId: "p",
          catalog,
          vars: VARS,
          notificationChannelIds: ["channel-1"],
          labels: { env: "test" },
          directory: POLICIES_DIR,
        });
      }),
    );
    const policy = Object.values(out.resource.google_monitoring_alert_policy ?? {}).find(
      (p) => p.display_name === "Switchboard (test): Cloud SQL CPU above 85 %",
    );
    expect(policy).toMatchObject({
      combiner: "OR",
      severity: "WARNING",
      notification_channels: ["channel-1"],
      user_labels: { env: "test" },
      conditions: [
        {
          condition_threshold: {
            filter: expect.stringContaining('resource.labels.database_id="p-000000:switchboard-pg"'),
            threshold_value: 0.85,
            comparison: "COMPARISON_GT",
          },
        },
      ],
    });
  });
});
