import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AdminService, adminSuite, asKey, createTenant } from "../service/admin-helpers";
import { type ConsoleLogin, consoleLogin } from "../service/console-helpers";
import { raw } from "../service/helpers";
import { expectAccessible, hasChromium, launchChromium, signedInContext } from "./console-browser";

/**
 * The usage charts and the platform admins' pages in Chromium: read the charts, open a chart's table and
 * download its CSV; a platform admin creates a tenant, switches to it, suspends it and finds that in the
 * audit log filtered by action and actor. axe-core on every page.
 */

let svc: AdminService;
let stop: () => Promise<void>;
let browser: Browser;
let alpha: string;
let admin: ConsoleLogin;
let platform: ConsoleLogin;

const today = new Date().toISOString().slice(0, 10);
/** Screenshots of the pages (git-ignored): the README's pictures of the usage charts come from here. */
const ARTIFACTS = join(import.meta.dirname, "../artifacts");

beforeAll(async () => {
  if (!hasChromium) return;
  ({ svc, stop } = await adminSuite());
  alpha = (await createTenant(svc, "alpha", "Alpha Dental")).id;
  const budget = { tenantBudget: { dailyTokens: 1000, monthlyTokens: 50_000 } };
  await svc.call("PATCH", `/api/v1/admin/tenants/${alpha}/settings`, budget, asKey);
  for (const [model, channel, tokens] of [
    ["gemini-2.5-flash", "web", 400],
    ["local", "sms", 40],
  ] as const) {
    await raw(svc.db)`
      insert into usage_ledger (tenant_id, identity_id, channel, purpose, provider, model, input_tokens,
        output_tokens, cached_tokens, thoughts_tokens, cost_usd, latency_ms, outcome)
      values (${alpha}, 'user:x', ${channel}, 'chat', 'fake', ${model}, ${tokens}, 0, 0, 0, 0.002, 5, 'ok')`;
  }
  await raw(svc.db)`
    insert into usage_counters (tenant_id, identity_id, period, period_start, tokens)
    values (${alpha}, 'tenant:total', 'day', ${today}, 440)`;
  admin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId: alpha });
  platform = await consoleLogin(svc.db, { role: "platform_admin", email: "root@platform.example" });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stop?.();
});

async function open(login: ConsoleLogin, path: string, viewport?: { width: number; height: number }) {
  const context = await signedInContext(browser, svc.url, login, viewport);
  const page = await context.newPage();
  await page.goto(`${svc.url}${path}`);
  return page;
}

const rowOf = (page: Page, name: string) => page.locator("tbody tr", { hasText: name });

describe.skipIf(!hasChromium)("the console's usage and platform pages in a browser", () => {
  test("a tenant admin reads the usage charts, opens a table and downloads its CSV", async () => {
    const page = await open(admin, `/console/t/${alpha}/usage?days=7`);
    expect(await page.locator("h1").textContent()).toBe("Usage and cost");
    expect(await page.locator("figure.chart svg[role=img]").count()).toBe(7);
    const chart = page.locator("section", {
      has: page.locator("h2", { hasText: "Tokens per day by model" }),
    });
    expect(await chart.locator("figcaption").textContent()).toContain(
      "440 in 7 days (gemini-2.5-flash 400, local 40)",
    );
    expect(await page.locator("#budget-day").getAttribute("value")).toBe("440");
    expect(await page.getByText("440 of 1,000 tokens (44%)").isVisible()).toBe(true);
    await expectAccessible(page);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "console-usage.png"), fullPage: true });

    const table = chart.locator("table");
    expect(await table.isVisible()).toBe(false);
    await chart.getByText("Show as table").click();
    await table.waitFor({ state: "visible" });
    expect(await table.locator("tbody tr").last().textContent()).toMatch(new RegExp(`${today}.*400.*440`));

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      chart.getByRole("link", { name: "Download as CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^usage-tokens-by-model-.*\.csv$/);
    const text = await readFile((await download.path()) ?? "", "utf8");
    expect(text.split("\r\n")[0]).toBe('"day","gemini-2.5-flash","local","total"');
    expect(text).toContain(`"${today}","400","40","440"`);

    await page.selectOption("#usage-days", "30");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/usage\?days=30$/);
    expect(await chart.locator("figcaption").textContent()).toContain("440 in 30 days");
    await page.context().close();
  });

  test("a platform admin creates a tenant, switches to it, suspends it and reads that in the audit log", async () => {
    const page = await open(platform, "/console/platform/tenants");
    await expectAccessible(page);
    await page.getByLabel("Name").fill("Kilo Kites");
    await page.getByLabel("Slug").fill("kilo-kites");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await rowOf(page, "Kilo Kites").waitFor();
    expect(await rowOf(page, "Kilo Kites").locator(".badge").textContent()).toBe("active");

    await rowOf(page, "Kilo Kites").getByRole("link", { name: "Switch to Kilo Kites" }).click();
    await page.waitForURL(/\/console\/t\/[0-9a-f-]{36}\/escalations$/);
    const kilo = /\/console\/t\/([0-9a-f-]{36})\//.exec(page.url())?.[1] ?? "";
    // The escalation queue is its own page module; in the new tenant, its audit log shows its creation.
    await page.goto(`${svc.url}/console/t/${kilo}/audit`);
    expect(await page.title()).toContain("Kilo Kites");
    expect(await page.locator("tbody tr").first().textContent()).toContain("tenant.created");

    await page.goto(`${svc.url}/console/platform/tenants`);
    page.once("dialog", (dialog) => dialog.accept());
    await rowOf(page, "Kilo Kites").getByRole("button", { name: "Suspend Kilo Kites" }).click();
    await rowOf(page, "Kilo Kites").locator(".badge", { hasText: "suspended" }).waitFor();
    await rowOf(page, "Kilo Kites").getByRole("button", { name: "Reactivate Kilo Kites" }).waitFor();

    await page.goto(`${svc.url}/console/platform/audit`);
    await expectAccessible(page);
    await page.getByLabel("Action").fill("tenant.suspended");
    await page.getByLabel("Actor").fill("root@platform.example");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=tenant.suspended/);
    const rows = page.locator("tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toMatch(/Kilo Kites.*root@platform\.example/);
    await page.context().close();
  });

  test("a tenant admin reads the tenant's audit log (axe)", async () => {
    const page = await open(admin, `/console/t/${alpha}/audit?action=settings.updated`);
    expect(await page.locator("h1").textContent()).toBe("Audit log");
    expect(await page.locator("tbody tr").count()).toBe(1);
    await expectAccessible(page);
    await page.context().close();
  });

  test("the usage page fits a phone-sized screen (axe)", async () => {
    const page = await open(admin, `/console/t/${alpha}/usage`, { width: 375, height: 740 });
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(page);
    await page.context().close();
  });
});
