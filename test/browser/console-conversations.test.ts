import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AdminService, adminSuite, createTenant } from "../service/admin-helpers";
import { seedConversations, seedPerson } from "../service/console-conversations-seed";
import { type ConsoleLogin, consoleLogin } from "../service/console-helpers";
import { expectAccessible, hasChromium, launchChromium, signedInContext } from "./console-browser";

/**
 * Agents browsing conversations in Chromium: search and page through the list, open one person's
 * timeline across SMS, web, e-mail and a call, their contact, the leads with a status change and the CSV
 * download; axe-core on each page.
 */

let svc: AdminService;
let stop: () => Promise<void>;
let browser: Browser | undefined;
let tenantId: string;
let agent: ConsoleLogin;
let ada: Awaited<ReturnType<typeof seedPerson>>;
const contexts: BrowserContext[] = [];

describe.skipIf(!hasChromium)("conversations, contacts and leads in the console", () => {
  beforeAll(async () => {
    ({ svc, stop } = await adminSuite());
    tenantId = (await createTenant(svc, "acme", "Acme")).id;
    await seedConversations(svc.db, tenantId, { n: 400, marker: "acme" });
    ada = await seedPerson(svc.db, tenantId);
    agent = await consoleLogin(svc.db, { role: "agent", tenantId, name: "Grace Agent" });
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await stop?.();
  });

  async function open(path: string): Promise<Page> {
    const context = await signedInContext(browser as Browser, svc.url, agent);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${svc.url}${path}`);
    return page;
  }

  const rowIds = (page: Page) =>
    page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));

  test("search by text and channel, then page older and back newer", async () => {
    const page = await open(`/console/t/${tenantId}/conversations`);
    expect(await page.locator("tbody tr").count()).toBe(50);
    await expectAccessible(page);
    await page.getByLabel("Text in messages").fill("refund");
    await page.getByLabel("Channel").selectOption("sms");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=refund/);
    const first = await rowIds(page);
    expect(first.length).toBeGreaterThan(0);
    for (const text of await page.locator("tbody tr td:nth-child(5)").allTextContents())
      expect(text).toContain("refund");
    // All sessions: 400 → the unfiltered list has 8 pages; walk one older and back.
    await page.goto(`${svc.url}/console/t/${tenantId}/conversations`);
    const one = await rowIds(page);
    await page.getByRole("link", { name: "Older →" }).click();
    await page.waitForURL(/after=/);
    const two = await rowIds(page);
    expect(two).toHaveLength(50);
    expect(two.filter((id) => one.includes(id))).toEqual([]);
    await page.getByRole("link", { name: "← Newer" }).click();
    await page.waitForURL(/before=/);
    expect(await rowIds(page)).toEqual(one);
    await expectAccessible(page);
  });

  test("one person's timeline: SMS, web, e-mail and voice entries, the escalation inline, the contact", async () => {
    const page = await open(`/console/t/${tenantId}/conversations/${ada.sessions.sms}`);
    const entries = page.locator("ol.timeline > li");
    const channels = await entries.evaluateAll((lis) => lis.map((li) => li.getAttribute("data-channel")));
    expect(new Set(channels)).toEqual(new Set(["web", "sms", "email", "voice"]));
    await expect.poll(() => entries.filter({ hasText: "Escalated" }).count()).toBe(1);
    expect(await entries.first().textContent()).toContain("do you open on Sundays?");
    expect(await entries.last().textContent()).toContain("reply to email");
    await expectAccessible(page);
    await page.getByRole("link", { name: "Ada Lovelace" }).click();
    await page.waitForURL(/\/contacts\//);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Ada Lovelace");
    await expectAccessible(page);
  });

  test("contacts: search finds the person", async () => {
    const page = await open(`/console/t/${tenantId}/contacts`);
    await expectAccessible(page);
    await page.getByLabel("Name, e-mail or phone").fill("ada@example");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=ada/);
    expect(await rowIds(page)).toEqual([ada.contactId]);
  });

  test("leads: change a status through the admin API, filter by it, download the CSV", async () => {
    const page = await open(`/console/t/${tenantId}/leads`);
    await expectAccessible(page);
    await page.getByLabel("Status of the lead of Ada Lovelace").selectOption("contacted");
    await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Set" }).click()]);
    await page.goto(`${svc.url}/console/t/${tenantId}/leads?status=contacted`);
    expect(await page.locator("tbody tr").count()).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("leads.csv");
    const csv = await readFile((await download.path()) as string, "utf8");
    expect(csv.split("\n")[0]).toContain("status");
    expect(csv).toContain("Ada Lovelace");
    expect(csv).toContain("contacted");
  });
});
