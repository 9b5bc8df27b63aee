import { createHash, randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import {
  signTwilioRequest,
  startTwilioEmulator,
  type TwilioEmulator,
  twilioForm,
  twilioInboundParams,
} from "../emulators/twilio";
import { startWebhookReceiver, type WebhookReceiver } from "../emulators/webhook-receiver";
import { type AdminService, adminSuite, createTenant } from "../service/admin-helpers";
import { type ConsoleLogin, consoleLogin } from "../service/console-helpers";
import { eventually, raw } from "../service/helpers";
import { expectAccessible, hasChromium, launchChromium, signedInContext } from "./console-browser";

/**
 * A tenant admin's journeys in Chromium: connect a Twilio number and see traffic arrive, add a person who
 * then signs in, add a webhook endpoint and replay a delivery, create and revoke an API key. axe-core on
 * every page; no secret is on a page once it was shown.
 */

// http on purpose: the browser is on http://127.0.0.1 and the session cookie keeps its plain name.
const PUBLIC_URL = "http://console-admin.switchboard.test";
const TWILIO = {
  number: "+15550108001",
  sid: "AC00000000000000000000000000000b0a",
  token: "browser-twilio-token",
};

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let receiver: WebhookReceiver;
let twilio: TwilioEmulator;
let browser: Browser;
let tenantId: string;
let admin: ConsoleLogin;

describe.skipIf(!hasChromium)("the tenant admin's console pages", () => {
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    twilio = await startTwilioEmulator({ accountSid: TWILIO.sid, authToken: TWILIO.token });
    ({ db, svc, stop } = await adminSuite({
      PUBLIC_URL,
      TWILIO_API_BASE: twilio.url,
      POLLING_INTERVAL: "0",
    }));
    tenantId = (await createTenant(svc, "browser-admin", "Browser Admin")).id;
    admin = await consoleLogin(db, { role: "tenant_admin", tenantId, email: "boss@browser.example" });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stop?.();
    await receiver?.close();
    await twilio?.close();
  });

  async function open(path: string, who = admin): Promise<Page> {
    const context = await signedInContext(browser, svc.url, who);
    const page = await context.newPage();
    page.on("dialog", (d) => void d.accept());
    await page.goto(`${svc.url}/console/t/${tenantId}/${path}`);
    return page;
  }

  test("connect a Twilio number, see its webhook URL, then traffic arriving", async () => {
    const page = await open("channels");
    await expectAccessible(page);
    await page.getByText("Add a Twilio number").click();
    const form = page.getByRole("form", { name: "Add a Twilio number" });
    await form.getByLabel("Phone number").fill(TWILIO.number);
    await form.getByLabel("Account SID").fill(TWILIO.sid);
    await form.getByLabel("Auth token").fill(TWILIO.token);
    await Promise.all([page.waitForEvent("load"), form.getByRole("button", { name: /Connect/ }).click()]);
    const row = page.locator("tr", { hasText: TWILIO.number });
    await expect(row.textContent()).resolves.toContain(`${PUBLIC_URL}/webhooks/twilio/sms`);
    await expect(row.textContent()).resolves.toContain("No traffic yet");
    expect(await page.content()).not.toContain(TWILIO.token);
    await expectAccessible(page, "channels with a connection");

    const params = twilioInboundParams({
      from: "+15557650002",
      to: TWILIO.number,
      body: "Hi",
      accountSid: TWILIO.sid,
    });
    const signature = signTwilioRequest(TWILIO.token, `${PUBLIC_URL}/webhooks/twilio/sms`, params);
    const sent = await fetch(`${svc.url}/webhooks/twilio/sms`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      body: twilioForm(params),
    });
    expect(sent.status).toBe(200);
    const text = await eventually(
      () => reloadedText(page, "tbody tr"),
      (t) => t.includes("Traffic arrived"),
    );
    expect(text).toContain("Traffic arrived");
  });

  test("add a person by e-mail, who can then sign in", async () => {
    const page = await open("users");
    await expectAccessible(page);
    const form = page.getByRole("form", { name: "Add a person" });
    await form.getByLabel("E-mail address").fill("second.admin@browser.example");
    await form.getByLabel("Role").selectOption("tenant_admin");
    await Promise.all([page.waitForEvent("load"), form.getByRole("button", { name: "Add" }).click()]);
    await expect(page.locator("tbody").textContent()).resolves.toContain("second.admin@browser.example");
    await expectAccessible(page, "users with a new person");

    // They sign in with that address (no users row of their own: the one just added matches them).
    const person = await sessionOf("second.admin@browser.example");
    const theirs = await open("users", person);
    await expect(theirs.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Users");
  });

  test("add a webhook endpoint, send a test event, see it in the log and replay it", async () => {
    const page = await open("webhooks");
    await expectAccessible(page);
    const form = page.getByRole("form", { name: "Add a webhook endpoint" });
    await form.getByLabel("URL").fill(`${receiver.url}/crm`);
    await form.getByRole("button", { name: "Add endpoint" }).click();
    const shown = page.locator("#new-endpoint-secret");
    await expect.poll(() => shown.textContent()).toMatch(/^whsec_/);
    const secret = (await shown.textContent()) as string;
    receiver.expect("/crm", secret);
    await Promise.all([page.waitForEvent("load"), page.getByRole("link", { name: "Done" }).click()]);
    expect(await page.content()).not.toContain(secret);

    await Promise.all([
      page.waitForEvent("load"),
      page.getByRole("link", { name: `${receiver.url}/crm` }).click(),
    ]);
    await expectAccessible(page, "webhook endpoint");
    await Promise.all([
      page.waitForEvent("load"),
      page.getByRole("button", { name: "Send test event" }).click(),
    ]);
    const log = page.locator("tbody");
    await eventually(
      () => reloadedText(page, "tbody"),
      (t) => t.includes("delivered"),
    );
    await expect(log.textContent()).resolves.toMatch(/webhook\.test.*delivered.*204/);
    await expectAccessible(page, "webhook endpoint with its log");
    await Promise.all([
      page.waitForEvent("load"),
      page.getByRole("form", { name: "Replay webhook.test" }).getByRole("button").click(),
    ]);
    const got = await eventually(
      () => receiver.received.filter((r) => r.path === "/crm"),
      (r) => r.length >= 2,
    );
    expect(got).toHaveLength(2);
    expect(await page.content()).not.toContain(secret);
  });

  test("create an API key that works until it is revoked", async () => {
    const page = await open("api-keys");
    await expectAccessible(page);
    const form = page.getByRole("form", { name: "Create an API key" });
    await form.getByLabel("Name").fill("Zapier");
    await form.getByRole("button", { name: "Create key" }).click();
    const shown = page.locator("#new-api-key");
    await expect.poll(() => shown.textContent()).toMatch(/^sbk_/);
    const key = (await shown.textContent()) as string;
    const call = () =>
      fetch(`${svc.url}/api/v1/admin/tenants/${tenantId}/escalations`, {
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await call()).status).toBe(200);

    await page.reload();
    expect(await page.content()).not.toContain(key);
    await expectAccessible(page, "API keys with a key");
    await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Revoke" }).click()]);
    await expect(page.locator("tbody").textContent()).resolves.toContain("Revoked");
    expect((await call()).status).toBe(401);
  });
});

/** The text of `selector` after reloading the page (a page that shows news when it is opened again). */
async function reloadedText(page: Page, selector: string): Promise<string> {
  await page.reload();
  return (await page.locator(selector).first().textContent()) ?? "";
}

/** A session as a sign-in by e-mail makes: the person's own subject, no users row added for them. */
async function sessionOf(email: string): Promise<ConsoleLogin> {
  const token = randomBytes(32).toString("base64url");
  const csrf = randomBytes(24).toString("base64url");
  const subject = `oidc|${randomBytes(4).toString("hex")}`;
  const [row] = await raw(db)<{ id: string }[]>`
    insert into console_sessions (token_hash, csrf_token, issuer, subject, email, expires_at)
    values (${createHash("sha256").update(token).digest()}, ${csrf}, 'test', ${subject}, ${email},
      now() + interval '1 hour')
    returning id`;
  return { cookie: `sb_console=${token}`, token, csrf, sessionId: row?.id ?? "", email, subject };
}
