import { afterAll, beforeAll, expect, test } from "vitest";
import { createTenant } from "./admin-helpers";
import { consoleHeaders, consoleLogin } from "./console-helpers";
import { type EmailWorld, emailWorld } from "./email-connect-helpers";

/**
 * The channels page's "Connect a Gmail mailbox" is a plain GET form to the admin API: submitted as a
 * browser does (the session cookie, no script, no CSRF header on a read), it lands on Google's consent
 * screen for the address typed.
 */

let world: EmailWorld;

beforeAll(async () => {
  world = await emailWorld();
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

test("connecting Gmail from the channels page goes to Google's consent screen for the address", async () => {
  const { svc, emu } = world;
  const tenantId = (await createTenant(svc, "console-gmail", "Gmail Co")).id;
  const admin = await consoleLogin(svc.db, { role: "tenant_admin", tenantId });
  // PUBLIC_URL is https: the session cookie carries the `__Host-` prefix.
  const headers = { cookie: `__Host-${consoleHeaders(admin, { csrf: false }).cookie}` };
  const html = await (await fetch(`${svc.url}/console/t/${tenantId}/channels`, { headers })).text();
  const action = html.match(/<form class="stack" method="get" action="([^"]+)"/)?.[1] ?? "";
  expect(action).toBe(`/api/v1/admin/tenants/${tenantId}/email/connect`);

  const res = await fetch(`${svc.url}${action}?loginHint=${encodeURIComponent("help@gmail-co.example")}`, {
    headers,
    redirect: "manual",
  });
  expect(res.status).toBe(302);
  const consent = new URL(res.headers.get("location") ?? "");
  expect(consent.origin).toBe(new URL(emu.url).origin);
  expect(consent.searchParams.get("login_hint")).toBe("help@gmail-co.example");
  expect(consent.searchParams.get("state")).toBeTruthy();
});
