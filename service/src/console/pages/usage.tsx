import type { Context } from "hono";
import { inTenant } from "../../db/tenant-scope";
import type { UsageChartRow } from "../../db/usage-report";
import { usageDashboard } from "../../db/usage-report";
import type { Tenant } from "../../domain/tenant";
import { periodStarts } from "../../engine/budgets";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { ADMIN_ROLES, consoleTenant } from "../access";
import { ChartTable, chartCsv, StackedBars } from "../charts";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { CHART_NAMES, CHARTS, type ChartName, chartData, daysBetween, formatOf } from "../usage-charts";

/** The periods the page offers, in days ending today (UTC). */
const PERIODS = [7, 30, 90] as const;
const DAY = 86_400_000;

function periodOf(c: Context<AppEnv>): number {
  const days = Number(c.req.query("days") ?? "30");
  if (!PERIODS.includes(days as (typeof PERIODS)[number]))
    throw new AppError(400, "validation_failed", `days must be one of ${PERIODS.join(", ")}`);
  return days;
}

/** The tenant's rows for the last `days` days and its budget counters: one statement in its scope. */
async function load(deps: ConsoleDeps, tenant: Tenant, days: number) {
  const now = new Date();
  const to = now.toISOString().slice(0, 10);
  const from = new Date(Date.parse(to) - (days - 1) * DAY).toISOString().slice(0, 10);
  const periods = periodStarts(now);
  const rows = await inTenant(tenant.id, () => usageDashboard(deps.admin.sql, { from, to }, periods));
  return { from, to, rows, days: daysBetween(from, to) };
}

/** GET /console/t/:id/usage (charts) and /usage.csv?chart=… (one chart's numbers), tenant admins. */
export function usagePages(deps: ConsoleDeps) {
  const app = createRouter();

  app.get("/console/t/:tenantId/usage", async (c) => {
    const { tenant } = await consoleTenant(c, deps.admin.sql, c.req.param("tenantId"), ADMIN_ROLES);
    const period = periodOf(c);
    const data = await load(deps, tenant, period);
    return c.html(
      <Page c={c} title="Usage and cost" tenant={{ id: tenant.id, name: tenant.name }} section="usage">
        <PeriodForm days={period} />
        <p class="muted">
          From {data.from} to {data.to} (UTC).
        </p>
        <Budget tenant={tenant} rows={data.rows} />
        {CHART_NAMES.map((name) => (
          <ChartCard tenantId={tenant.id} name={name} period={period} rows={data.rows} days={data.days} />
        ))}
      </Page>,
    );
  });

  app.get("/console/t/:tenantId/usage.csv", async (c) => {
    const { tenant } = await consoleTenant(c, deps.admin.sql, c.req.param("tenantId"), ADMIN_ROLES);
    const name = c.req.query("chart") ?? "";
    if (!CHART_NAMES.includes(name as ChartName))
      throw new AppError(400, "validation_failed", `chart must be one of ${CHART_NAMES.join(", ")}`);
    const data = await load(deps, tenant, periodOf(c));
    c.header("content-type", "text/csv; charset=utf-8");
    c.header("content-disposition", `attachment; filename="usage-${name}-${data.from}-${data.to}.csv"`);
    return c.body(chartCsv(chartData(name as ChartName, data.rows, data.days)));
  });

  return app;
}

function PeriodForm(props: { days: number }) {
  return (
    <form class="inline" method="get">
      <label for="usage-days">Period</label>
      <select id="usage-days" name="days">
        {PERIODS.map((d) => (
          <option value={String(d)} selected={d === props.days}>
            Last {d} days
          </option>
        ))}
      </select>
      <button type="submit" class="button">
        Show
      </button>
    </form>
  );
}

function ChartCard(props: {
  tenantId: string;
  name: ChartName;
  period: number;
  rows: readonly UsageChartRow[];
  days: readonly string[];
}) {
  const def = CHARTS[props.name];
  const data = chartData(props.name, props.rows, props.days);
  const format = formatOf(def.measure);
  const csv = `${tenantPath(props.tenantId, "usage.csv")}?chart=${props.name}&days=${props.period}`;
  return (
    <section class="card" aria-labelledby={`${props.name}-heading`}>
      <h2 id={`${props.name}-heading`}>{def.title}</h2>
      <StackedBars
        id={props.name}
        title={def.title}
        data={data}
        format={format}
        integer={def.measure !== "costUsd"}
      />
      <details>
        <summary>Show as table</summary>
        <ChartTable caption={def.title} data={data} format={format} />
      </details>
      <p>
        <a href={csv} download aria-describedby={`${props.name}-heading`}>
          Download as CSV
        </a>
      </p>
    </section>
  );
}

/** Today's and this month's tokens against the tenant's budget (settings `tenantBudget`). */
function Budget(props: { tenant: Tenant; rows: readonly UsageChartRow[] }) {
  const used = (period: string) =>
    props.rows.find((r) => r.chart === "budget" && r.day === period)?.tokens ?? 0;
  const budget = props.tenant.settings.tenantBudget ?? {};
  return (
    <section class="card" aria-labelledby="budget-heading">
      <h2 id="budget-heading">Budget use</h2>
      <div class="grid">
        <BudgetMeter id="budget-day" label="Today" used={used("day")} budget={budget.dailyTokens} />
        <BudgetMeter
          id="budget-month"
          label="This month"
          used={used("month")}
          budget={budget.monthlyTokens}
        />
      </div>
    </section>
  );
}

const whole = formatOf("count");

function BudgetMeter(props: { id: string; label: string; used: number; budget: number | null | undefined }) {
  if (props.budget == null)
    return (
      <p id={props.id}>
        <strong>{props.label}:</strong> {whole(props.used)} tokens used; no budget set.
      </p>
    );
  const share = Math.round((props.used / props.budget) * 100);
  return (
    <div class="budget">
      <label for={props.id}>{props.label}</label>
      <meter
        id={props.id}
        min={0}
        max={props.budget}
        low={props.budget * 0.8}
        high={props.budget * 0.95}
        optimum={0}
        value={props.used}
      >
        {share}%
      </meter>
      <p class={share >= 100 ? "error" : share >= 80 ? "badge warn" : "muted"}>
        {whole(props.used)} of {whole(props.budget)} tokens ({share}%)
      </p>
    </div>
  );
}
