import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ConsoleLogin, consoleLogin } from "../service/console-helpers";
import { type SmsWorld, startSmsWorld } from "../service/escalation-sms-world";
import { eventually, raw } from "../service/helpers";
import { expectAccessible, hasChromium, launchChromium, signedInContext } from "./console-browser";

/**
 * The agents' journey in Chromium: a texting customer (Twilio, through the emulator) asks for a person, the
 * escalation appears in the open queue without a reload (SSE), the agent claims it, opens it, answers, the
 * answer reaches the Twilio emulator, and the agent resolves it. The customer's markup stays text.
 */

const CUSTOMER = "+15557659901";
const XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>";

describe.skipIf(!hasChromium)("the escalation queue in a browser", () => {
  let world: SmsWorld;
  let browser: Browser;
  let agent: ConsoleLogin;

  beforeAll(async () => {
    world = await startSmsWorld("esc-browser");
    browser = await launchChromium();
    agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id, name: "Sam Agent" });
  });
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  /** Every dialog the page opens: a script of the customer's would show as an alert. */
  function watchDialogs(page: Page) {
    const alerts: string[] = [];
    page.on("dialog", (dialog) => {
      if (dialog.type() === "confirm") return dialog.accept();
      alerts.push(dialog.message());
      return dialog.dismiss();
    });
    return alerts;
  }

  test("a customer's request arrives live, is claimed, answered on SMS and resolved", async () => {
    const context = await signedInContext(browser, world.svc.url, agent);
    const page = await context.newPage();
    const alerts = watchDialogs(page);
    const queueUrl = `${world.svc.url}/console/t/${world.tenant.id}/escalations`;
    await page.goto(queueUrl);
    await expect.poll(() => page.locator("#queue-status").textContent()).toContain("Live");
    await expectAccessible(page, "the empty queue");

    await world.text(CUSTOMER, `${XSS} can I talk to a person?`);
    const row = page.locator("#queue tr", { hasText: CUSTOMER });
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator("#queue-status").textContent()).toBe("1 new escalation");
    // The customer's markup is text: no element made of it, no script run.
    expect(await page.locator('#queue img[src="x"]').count()).toBe(0);
    expect(await row.textContent()).toContain("<img src=x onerror=alert(1)>");
    await expectAccessible(page, "the queue with an escalation");

    await row.getByRole("button", { name: /^Claim/ }).click();
    await page.locator("#queue tr", { hasText: "by you" }).waitFor();
    await page.locator("#queue tr", { hasText: CUSTOMER }).getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: /Escalation/ }).waitFor();
    await expectAccessible(page, "the escalation's page");

    const answer = "Hi, this is Sam: your refund is on its way.";
    await page.getByLabel(/Your answer/).fill(answer);
    await page.getByRole("button", { name: "Send" }).click();
    const reached = await eventually(
      () => world.twilio.sent.filter((m) => m.to === CUSTOMER && m.body === answer),
      (s) => s.length > 0,
    );
    expect(reached).toHaveLength(1);
    await page.locator(".timeline li.agent", { hasText: answer }).waitFor();

    await page
      .getByRole("button", { name: /^Resolve/ })
      .first()
      .click();
    await page.getByText("This escalation is resolved.").waitFor();
    const [row2] = await raw(world.db)`select status from escalations where conversation_id = ${CUSTOMER}`;
    expect(row2).toMatchObject({ status: "resolved" });
    expect(alerts).toEqual([]);
    await context.close();
  });

  test("the queue on a phone-sized screen is usable and accessible", async () => {
    await world.text("+15557659902", "I want to speak to a real person");
    await world.escalationOf("+15557659902");
    const context = await signedInContext(browser, world.svc.url, agent, { width: 390, height: 844 });
    const page = await context.newPage();
    await page.goto(`${world.svc.url}/console/t/${world.tenant.id}/escalations`);
    const claim = page
      .locator("#queue tr", { hasText: "+15557659902" })
      .getByRole("button", { name: /^Claim/ });
    await claim.waitFor();
    // Nothing wider than the screen: the table stacks its cells.
    const overflow = (await page.evaluate(
      "document.documentElement.scrollWidth - window.innerWidth",
    )) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await claim.isVisible()).toBe(true);
    await expectAccessible(page, "the queue on a phone");
    await context.close();
  });
});
