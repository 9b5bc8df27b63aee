import { createHash, randomBytes } from "node:crypto";
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
import { type AdminService, adminSuite, auditRows, type Body, createTenant, json } from "./admin-helpers";
import { type ConsoleLogin, consoleHeaders, consoleLogin } from "./console-helpers";
import { eventually, raw } from "./helpers";

/**
 * The tenant admins' console pages (channels, users, webhooks, API keys) on the real service: what each
 * page shows, that every change goes through the admin API with the session, that secrets are shown once
 * and never on a page, and that another tenant's admin or an agent cannot open them.
 */

const PUBLIC_URL = "https://console-admin.switchboard.test";
const TWILIO = {
  number: "+15550109001",
  sid: "AC00000000000000000000000000000c0a",
  token: "console-twilio-token",
};

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let twilio: TwilioEmulator;
let receiver: WebhookReceiver;
let alpha: string;
let bravo: string;
let admin: ConsoleLogin;

beforeAll(async () => {
  twilio = await startTwilioEmulator({
    accountSid: TWILIO.sid,
    authToken: TWILIO.token,
    reach: (url) => url.replace(PUBLIC_URL, svc.url),
  });
  receiver = await startWebhookReceiver();
  ({ db, svc, stop } = await adminSuite({ PUBLIC_URL, TWILIO_API_BASE: twilio.url, POLLING_INTERVAL: "0" }));
  alpha = (await createTenant(svc, "console-alpha", "Alpha")).id;
  bravo = (await createTenant(svc, "console-bravo", "Bravo")).id;
  admin = await consoleLogin(db, { role: "tenant_admin", tenantId: alpha, email: "lead@alpha.example" });
}, 60_000);
afterAll(async () => {
  await stop?.();
  await twilio?.close();
  await receiver?.close();
});

/** Over https (PUBLIC_URL is), the session cookie carries the `__Host-` prefix. */
const headers = (who: ConsoleLogin) => ({ ...consoleHeaders(who), cookie: `__Host-${who.cookie}` });

const api = (method: string, path: string, body?: unknown, who = admin) =>
  svc.call(method, `/api/v1/admin/tenants/${alpha}/${path}`, body, headers(who));

async function page(path: string, who = admin) {
  const res = await fetch(`${svc.url}/console/t/${alpha}/${path}`, { headers: headers(who) });
  return { status: res.status, html: await res.text() };
}

/** A text to the Twilio number, signed as Twilio signs it (PUBLIC_URL + path and the form). */
async function textTheNumber(body: string) {
  const params = twilioInboundParams({
    from: "+15557650001",
    to: TWILIO.number,
    body,
    accountSid: TWILIO.sid,
  });
  const signature = signTwilioRequest(TWILIO.token, `${PUBLIC_URL}/webhooks/twilio/sms`, params);
  return fetch(`${svc.url}/webhooks/twilio/sms`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: twilioForm(params),
  });
}

describe("the channels page", () => {
  test("shows a new number's webhook URL, never its credential, and when traffic arrived", async () => {
    const made = await api("POST", "channels", {
      kind: "twilio",
      phoneNumber: TWILIO.number,
      accountSid: TWILIO.sid,
      authToken: TWILIO.token,
    });
    expect(made.status).toBe(201);
    const before = await page("channels");
    expect(before.status).toBe(200);
    expect(before.html).toContain(`${PUBLIC_URL}/webhooks/twilio/sms`);
    expect(before.html).toContain(TWILIO.number);
    expect(before.html).toContain("No traffic yet");
    expect(before.html).not.toContain(TWILIO.token);
    expect(before.html).toContain("e-mail is not configured on this deployment");

    expect((await textTheNumber("Are you open today?")).status).toBe(200);
    const after = await eventually(
      () => page("channels"),
      (p) => p.html.includes("Traffic arrived"),
    );
    expect(after.html).toContain("Traffic arrived");
    expect(after.html).not.toContain("No traffic yet");
  });

  test("is for tenant admins: an agent gets 403, another tenant's admin 404", async () => {
    const agent = await consoleLogin(db, { role: "agent", tenantId: alpha });
    const other = await consoleLogin(db, { role: "tenant_admin", tenantId: bravo });
    expect((await page("channels", agent)).status).toBe(403);
    for (const path of ["channels", "users", "webhooks", "api-keys"])
      expect((await page(path, other)).status).toBe(404);
  });
});

/** A session of a person who signed in by e-mail only: no users row made for them (the admin's is). */
async function signInByEmail(email: string): Promise<ConsoleLogin> {
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

describe("the users page", () => {
  test("adds a person by e-mail alone, who then signs in with that address", async () => {
    const person = await signInByEmail("new.agent@alpha.example");
    const escalations = () => api("GET", "escalations", undefined, person);
    expect((await escalations()).status).not.toBe(200);
    const added = await api("POST", "users", { email: "new.agent@alpha.example", role: "agent" });
    expect(added.status).toBe(201);
    expect(await json(added)).toMatchObject({ subject: "email:new.agent@alpha.example", role: "agent" });
    expect((await escalations()).status).toBe(200);
    expect((await page("users")).html).toContain("new.agent@alpha.example");
    const [audit] = await auditRows(db, "user.created");
    expect(audit?.actor).toBe("lead@alpha.example");
  });

  test("refuses a body with neither subject nor e-mail", async () => {
    const res = await api("POST", "users", { role: "agent" });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("validation_failed");
  });

  test("a person cannot remove or demote themselves; another admin can", async () => {
    const users = (await json(await api("GET", "users"))).users as Body[];
    const me = users.find((u) => u.email === "lead@alpha.example") as Body;
    expect((await api("PATCH", `users/${me.id}`, { role: "agent" })).status).toBe(409);
    expect((await api("DELETE", `users/${me.id}`)).status).toBe(409);
    const html = (await page("users")).html;
    expect(html).not.toContain(`users/${me.id}`);
    const second = await consoleLogin(db, { role: "tenant_admin", tenantId: alpha });
    expect((await api("PATCH", `users/${me.id}`, { role: "agent" }, second)).status).toBe(200);
    expect((await api("PATCH", `users/${me.id}`, { role: "tenant_admin" }, second)).status).toBe(200);
  });
});

describe("the API keys page", () => {
  test("shows a key's prefix, never the key; the key works until revoked", async () => {
    const made = await json(await api("POST", "api-keys", { name: "Zapier <b>leads</b>", role: "agent" }));
    const key = made.key as string;
    const bearer = { authorization: `Bearer ${key}` };
    const html = (await page("api-keys")).html;
    expect(html).toContain(made.apiKey.prefix);
    expect(html).not.toContain(key);
    expect(html).toContain("Zapier &lt;b&gt;leads&lt;/b&gt;");
    const path = `/api/v1/admin/tenants/${alpha}/escalations`;
    expect((await svc.call("GET", path, undefined, bearer)).status).toBe(200);
    expect((await api("DELETE", `api-keys/${made.apiKey.id}`)).status).toBe(200);
    expect((await svc.call("GET", path, undefined, bearer)).status).toBe(401);
    expect((await page("api-keys")).html).toContain("Revoked");
  });
});

describe("the webhooks pages", () => {
  test("list an endpoint and its delivery log, never its secret; disable and enable it", async () => {
    const made = await json(
      await api("POST", "webhook-endpoints", {
        url: `${receiver.url}/crm`,
        events: ["lead.created"],
        description: "<img src=x onerror=alert(1)>",
      }),
    );
    receiver.expect("/crm", made.secret);
    const id = made.endpoint.id as string;
    const list = (await page("webhooks")).html;
    expect(list).toContain(`${receiver.url}/crm`);
    expect(list).not.toContain(made.secret);
    expect(list).not.toContain("<img src=x");
    expect((await api("POST", `webhook-endpoints/${id}/test`)).status).toBe(202);
    const detail = await eventually(
      () => page(`webhooks/${id}`),
      (p) => p.html.includes("delivered"),
    );
    expect(detail.html).toContain("webhook.test");
    expect(detail.html).toContain(">204<");
    expect(detail.html).not.toContain(made.secret);

    const off = await api("PATCH", `webhook-endpoints/${id}`, { enabled: false });
    expect(await json(off)).toMatchObject({ status: "disabled", disabledReason: "disabled_by_admin" });
    expect((await page(`webhooks/${id}`)).html).toContain("Disabled: disabled_by_admin");
    const on = await api("PATCH", `webhook-endpoints/${id}`, { enabled: true });
    expect(await json(on)).toMatchObject({ status: "enabled", disabledReason: null });
    const audits = await auditRows(db, "webhook_endpoint.updated");
    expect(audits.map((a) => a.summary)).toEqual([{ enabled: false }, { enabled: true }]);
  });

  test("an endpoint of another tenant, or no endpoint, is a 404 page", async () => {
    const other = await consoleLogin(db, { role: "tenant_admin", tenantId: bravo });
    const theirs = await json(
      await svc.call(
        "POST",
        `/api/v1/admin/tenants/${bravo}/webhook-endpoints`,
        { url: `${receiver.url}/bravo`, events: ["lead.created"] },
        headers(other),
      ),
    );
    expect((await page(`webhooks/${theirs.endpoint.id}`)).status).toBe(404);
    expect((await page("webhooks/not-an-id")).status).toBe(404);
  });
});
