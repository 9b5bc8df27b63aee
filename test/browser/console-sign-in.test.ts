import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import { type OidcProvider, startOidcProvider } from "../emulators/oidc";
import { raw, startTestService, type TestService, testDatabase } from "../service/helpers";
import { expectAccessible, hasChromium, launchChromium } from "./console-browser";

/**
 * Signing in to the console in Chromium: through the in-process OpenID provider (the whole redirect dance
 * and back, then sign-out through the provider's logout), and with the local one-time link.
 */

const ADA = { sub: "ada-browser", email: "ada@example.com", name: "Ada Lovelace" };

describe.skipIf(!hasChromium)("console sign-in in Chromium", () => {
  let browser: Browser;
  let op: OidcProvider;
  let t: Awaited<ReturnType<typeof testDatabase>>;
  let svc: TestService;
  let local: TestService;
  const links: string[] = [];

  beforeAll(async () => {
    op = await startOidcProvider();
    t = await testDatabase();
    svc = await startTestService(t.db, {
      OIDC_ISSUER: op.issuer,
      OIDC_CLIENT_ID: op.client.clientId,
      OIDC_CLIENT_SECRET: op.client.clientSecret,
    });
    op.setRedirectUris([`${svc.url}/console/auth/callback`], [`${svc.url}/console/sign-in`]);
    local = await startTestService(t.db, {}, { consoleLink: (line) => links.push(line) });
    await raw(t.db)`insert into tenant_users (tenant_id, subject, email, role)
      values (${DEFAULT_TENANT_ID}, ${ADA.sub}, ${ADA.email}, 'agent')`;
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await svc?.close();
    await local?.close();
    await t?.drop();
    await op?.close();
  });

  test("signs in through the OpenID provider, lands on the console, and signs out", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${svc.url}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    await expectAccessible(page, "sign-in page");
    op.signInAs(ADA);
    await page.getByRole("link", { name: `Sign in with ${new URL(op.issuer).host}` }).click();
    await page.waitForURL(`${svc.url}/console/t/${DEFAULT_TENANT_ID}/escalations`);
    await expect.poll(() => page.locator("form.person").textContent()).toContain("Ada Lovelace");
    await expectAccessible(page, "the console after sign-in");
    expect((await context.cookies(svc.url)).map((c) => c.name)).toContain("sb_console");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${svc.url}/console/sign-in`);
    expect((await context.cookies(svc.url)).map((c) => c.name)).not.toContain("sb_console");
    // The provider's session ended too: its logout was visited on the way.
    expect(op.requests.some((r) => r.path === "/session/end/confirm")).toBe(true);
    await page.goto(`${svc.url}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    await context.close();
  });

  test("the local one-time link signs the local admin in once", async () => {
    const link = /^Console: (\S+)/.exec(links[0] ?? "")?.[1] ?? "";
    const url = new URL(link);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${local.url}${url.pathname}${url.search}`);
    await page.waitForURL(new RegExp(`/console/t/${DEFAULT_TENANT_ID}/escalations$`));
    await expect.poll(() => page.locator("form.person").textContent()).toContain("Local admin");
    const again = await browser.newContext();
    const second = await again.newPage();
    await second.goto(`${local.url}${url.pathname}${url.search}`);
    await expect.poll(() => second.getByRole("alert").textContent()).toContain("used already");
    await expectAccessible(second, "a used sign-in link");
    await again.close();
    await context.close();
  });
});
