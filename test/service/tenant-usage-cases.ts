import { expect } from "vitest";
import { type UsageChartRow, usageDashboard } from "../../service/src/db/usage-report";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation case of the console's usage page query (db/usage-report.ts `usageDashboard`), run like
 * those of tenant-repository-cases.ts: inside tenant A's scope. Both tenants were seeded alike, so a leak
 * of B's rows would double a count.
 */

const periods = () => {
  const day = new Date().toISOString().slice(0, 10);
  return { day, month: `${day.slice(0, 7)}-01` };
};
const sumOf = (rows: UsageChartRow[], chart: string) =>
  rows.filter((r) => r.chart === chart).reduce((n, r) => n + r.count, 0);

export const USAGE_CASES: Record<string, IsolationCase> = {
  "usage-report.usageDashboard": {
    run: ({ sql }) => usageDashboard(sql, { from: "2000-01-01", to: "2100-01-01" }, periods()),
    check: async (r, ctx) => {
      const rows = r as UsageChartRow[];
      expect(sumOf(rows, "model")).toBe(await ctx.countOfA("usage_ledger"));
      expect(sumOf(rows, "model")).toBeGreaterThan(0);
      expect(sumOf(rows, "conversations")).toBe(await ctx.countOfA("sessions"));
      expect(sumOf(rows, "escalations")).toBe(await ctx.countOfA("escalations"));
    },
  },
};
