import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type AdminService,
  asKey,
  type Body,
  createTenant,
  json,
  startAdminService,
} from "../service/admin-helpers";
import { type ConsoleLogin, consoleLogin } from "../service/console-helpers";
import { testDatabase } from "../service/helpers";
import { expectAccessible, hasChromium, launchChromium, signedInContext } from "./console-browser";

/**
 * A tenant admin's journeys on the assistant, knowledge and widget pages in Chromium: try the prompt on a
 * draft, write a document and see the answer change, delete it and see it change back, a document that
 * tries to run script, the widget's preview and snippet; axe on every page.
 */

let t: Awaited<ReturnType<typeof testDatabase>>;
let svc: AdminService;
let browser: Browser;
let tenant: Body;
let admin: ConsoleLogin;

beforeAll(async () => {
  if (!hasChromium) return;
  t = await testDatabase();
  svc = await startAdminService(t.db);
  browser = await launchChromium();
  tenant = await createTenant(svc, "browser-bakery", "Browser Bakery");
  admin = await consoleLogin(t.db, { role: "tenant_admin", tenantId: tenant.id });
  const doc = "# Opening hours\n\nThe bakery opens at 7am on weekdays.";
  const res = await svc.call("PUT", `/api/v1/admin/tenants/${tenant.id}/knowledge/hours`, doc, {
    ...asKey,
    "content-type": "text/markdown",
  });
  expect(res.status).toBe(200);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await svc?.close();
  await t?.drop();
});

const url = (section: string) => `${svc.url}/console/t/${tenant.id}/${section}`;

async function open(section: string, permissions: string[] = []): Promise<Page> {
  const context = await signedInContext(browser, svc.url, admin);
  if (permissions.length) await context.grantPermissions(permissions, { origin: svc.url });
  const page = await context.newPage();
  await page.goto(url(section));
  return page;
}

/** Asks the try-it panel; resolves with the reply and the prompt it used once they are shown. */
async function tryIt(page: Page, message: string) {
  await page.getByLabel("A customer's message").fill(message);
  const answered = page.waitForResponse((r) => r.url().endsWith("/settings/try"));
  await page.getByRole("button", { name: "Try it" }).click();
  expect((await answered).status()).toBe(200);
  await page.locator("#try-result").waitFor({ state: "visible" });
  return {
    reply: (await page.locator("#try-reply").textContent()) ?? "",
    meta: (await page.locator("#try-meta").textContent()) ?? "",
    prompt: (await page.locator("#try-prompt").textContent()) ?? "",
  };
}

const savedSettings = async () =>
  (await json(await svc.call("GET", `/api/v1/admin/tenants/${tenant.id}/settings`, undefined, asKey)))
    .settings;

describe.skipIf(!hasChromium)("the assistant, knowledge and widget pages in a browser", () => {
  test("try the prompt on a draft: the answer follows the draft, nothing is saved until Save", async () => {
    const page = await open("assistant");
    await expectAccessible(page, "assistant");
    await page.getByLabel("Business name").fill("Draft Bakery");
    const first = await tryIt(page, "When does the bakery open on weekdays?");
    expect(first.reply).toContain("7am");
    expect(first.prompt).toContain("You answer for Draft Bakery.");
    await page.getByLabel("Business name").fill("Second Draft");
    const second = await tryIt(page, "When does the bakery open on weekdays?");
    expect(second.prompt).toContain("You answer for Second Draft.");
    expect(second.prompt).not.toContain("Draft Bakery");
    expect(await savedSettings()).toEqual({});
    await page.locator("#prompt-form").getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("#prompt-form [data-status]").textContent()).toBe("Saved.");
    expect(await savedSettings()).toEqual({ promptVariables: { businessName: "Second Draft" } });
    await page.context().close();
  });

  test("a new document changes the answer; deleting it changes it back", async () => {
    const question = "Do you deliver pizzas to Mars?";
    const assistant = await open("assistant");
    expect((await tryIt(assistant, question)).meta).toContain("not a confident answer");

    const page = await assistant.context().newPage();
    await page.goto(url("knowledge"));
    await expectAccessible(page, "knowledge list");
    await page.getByLabel("Name").fill("mars");
    await page.getByLabel("Title").fill("Mars deliveries");
    await page
      .getByLabel("Text (Markdown)")
      .fill("# Mars deliveries\n\nWe deliver pizzas to Mars every Tuesday.");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(url("knowledge/mars"));
    await expectAccessible(page, "knowledge editor");
    await expect.poll(() => page.locator("#preview h1").textContent()).toBe("Mars deliveries");

    const taught = await tryIt(assistant, question);
    expect(taught.reply).toContain("every Tuesday");
    expect(taught.meta).toContain("documents: mars");

    page.once("dialog", (dialog) => dialog.accept());
    await page.getByRole("button", { name: "Delete this document" }).click();
    await page.waitForURL(url("knowledge"));
    expect(await page.getByRole("link", { name: "Mars deliveries" }).count()).toBe(0);
    const forgotten = await tryIt(assistant, question);
    expect(forgotten.reply).not.toContain("every Tuesday");
    expect(forgotten.meta).toContain("not a confident answer");
    await assistant.context().close();
  });

  test("script in a document stays inert in the editor and in the preview", async () => {
    const xss = '# Tricky\n\n<script>window.pwned = 1</script>\n\n<img src="x" onerror="window.pwned = 2">';
    const body = `${xss}\n\n[click me](javascript:window.pwned=3)`;
    const res = await svc.call("PUT", `/api/v1/admin/tenants/${tenant.id}/knowledge/tricky`, body, {
      ...asKey,
      "content-type": "text/markdown",
    });
    expect(res.status).toBe(200);
    const page = await open("knowledge/tricky");
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    expect(await page.getByLabel("Text (Markdown)").inputValue()).toBe(body);
    const preview = page.locator("#preview");
    expect(await preview.textContent()).toContain("<script>window.pwned = 1</script>");
    expect(await preview.locator("script, img, a[href^='javascript']").count()).toBe(0);
    // The live preview of a draft with more of the same.
    await page
      .getByLabel("Text (Markdown)")
      .fill(`${body}\n\n<iframe src="javascript:window.pwned=4"></iframe>`);
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => preview.textContent()).toContain("<iframe");
    expect(await preview.locator("script, img, iframe, a[href^='javascript']").count()).toBe(0);
    expect(await page.evaluate("window.pwned")).toBeUndefined();
    expect(dialogs).toEqual([]);
    await expectAccessible(page, "knowledge editor with HTML in it");
    await page.context().close();
  });

  test("the widget page: a live preview of the draft look and the snippet to copy", async () => {
    const page = await open("widget", ["clipboard-read", "clipboard-write"]);
    await expectAccessible(page, "widget");
    const frame = page.frameLocator("#widget-preview");
    await frame.locator("[data-switchboard]").waitFor({ state: "attached" });
    await page.getByLabel("Title").fill("Ask the Bakers");
    await expect
      .poll(() => page.locator("#widget-preview").getAttribute("src"))
      .toContain("title=Ask+the+Bakers");
    await expect
      .poll(() =>
        frame
          .locator("script[src='/widget.js']")
          .getAttribute("data-title")
          .catch(() => null),
      )
      .toBe("Ask the Bakers");
    const snippet = await page.locator("#embed-snippet").inputValue();
    expect(snippet).toBe(
      `<script src="${svc.url}/widget.js" data-tenant="${tenant.widgetKey}" defer></script>`,
    );
    await page.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.locator("#copy-status").textContent()).toBe("Copied.");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(snippet);
    expect((await savedSettings()).widget).toBeUndefined();
    await page.context().close();
  });
});
