import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { startTelnyxEmulator, type TelnyxEmulator, telnyxInboundEvent } from "../emulators/telnyx";
import {
  signTwilioRequest,
  startTwilioEmulator,
  type TwilioEmulator,
  twilioForm,
  twilioInboundParams,
} from "../emulators/twilio";
import { type AdminService, adminSuite, asKey, type Body, createTenant, json } from "./admin-helpers";
import { eventually, raw } from "./helpers";

/**
 * Issue 13 end to end: two tenants, one on Twilio and one on Telnyx, each texted on its own number through
 * the real service with the providers' real signatures; the replies go out through each tenant's provider
 * (the official clients against the emulators) with each tenant's knowledge.
 */

/** Where the providers reach the service: Twilio signs this URL, never the Host the request carries. */
const PUBLIC_URL = "https://sms.switchboard.test";
const ACME = {
  number: "+15550100001",
  sid: "AC0000000000000000000000000000ac4e",
  token: "acme-twilio-token",
};
const GLOBEX = { number: "+15550100002", apiKey: "KEY_globex_telnyx" };
const CUSTOMER = "+15557654321";

let twilio: TwilioEmulator;
let telnyx: TelnyxEmulator;
let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let acme: Body;
let globex: Body;

async function connect(tenant: Body, body: Body) {
  const res = await svc.call("POST", `/api/v1/admin/tenants/${tenant.id}/channels`, body, asKey);
  if (res.status !== 201) throw new Error(`connect: ${res.status} ${await res.text()}`);
  return json(res);
}

async function know(tenant: Body, slug: string, markdown: string) {
  const res = await svc.call("PUT", `/api/v1/admin/tenants/${tenant.id}/knowledge/${slug}`, markdown, {
    ...asKey,
    "content-type": "text/markdown",
  });
  if (res.status >= 300) throw new Error(`knowledge: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  twilio = await startTwilioEmulator({
    accountSid: ACME.sid,
    authToken: ACME.token,
    // The service is reached directly, as an edge would forward to it; Twilio still signs the public URL.
    reach: (url) => url.replace(PUBLIC_URL, svc.url),
  });
  telnyx = await startTelnyxEmulator({ apiKey: GLOBEX.apiKey });
  ({ db, svc, stop } = await adminSuite({
    PUBLIC_URL,
    TWILIO_API_BASE: twilio.url,
    TELNYX_API_BASE: telnyx.apiBase,
    POLLING_INTERVAL: "0",
  }));
  acme = await createTenant(svc, "sms-acme", "Acme");
  globex = await createTenant(svc, "sms-globex", "Globex");
  await know(acme, "hours", "# Opening hours\n\nAcme's shop opens at 7am on weekdays.");
  await know(globex, "hours", "# Opening hours\n\nGlobex opens at noon, never before.");
  await connect(acme, {
    kind: "twilio",
    phoneNumber: ACME.number,
    accountSid: ACME.sid,
    authToken: ACME.token,
  });
  await connect(globex, {
    kind: "telnyx",
    phoneNumber: GLOBEX.number,
    apiKey: GLOBEX.apiKey,
    publicKey: telnyx.publicKey,
  });
});
afterAll(async () => {
  await stop?.();
  await twilio?.close();
  await telnyx?.close();
});

/** A text to Acme's Twilio number, signed as Twilio signs it (over PUBLIC_URL + path and the form). */
function twilioText(
  body: string,
  opts: { from?: string; to?: string; sid?: string; tamper?: (form: string) => string } = {},
) {
  const params = twilioInboundParams({
    from: opts.from ?? CUSTOMER,
    to: opts.to ?? ACME.number,
    body,
    accountSid: ACME.sid,
    ...(opts.sid ? { messageSid: opts.sid } : {}),
  });
  const signature = signTwilioRequest(ACME.token, `${PUBLIC_URL}/webhooks/twilio/sms`, params);
  const form = twilioForm(params);
  const send = () =>
    fetch(`${svc.url}/webhooks/twilio/sms`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      body: opts.tamper ? opts.tamper(form) : form,
    });
  return { sid: params.MessageSid as string, send };
}

/** A text to Globex's Telnyx number, signed with the account's Ed25519 key as Telnyx signs it. */
function telnyxText(text: string, opts: { from?: string; to?: string } = {}) {
  const event = telnyxInboundEvent({ from: opts.from ?? CUSTOMER, to: opts.to ?? GLOBEX.number, text });
  return telnyx.deliver(`${svc.url}/webhooks/telnyx/sms`, event);
}

/** Texts Acme and waits until the text is dealt with (a customer waits for an answer before the next). */
async function textAndWait(customer: string, body: string) {
  const { sid, send } = twilioText(body, { from: customer });
  expect((await send()).status).toBe(200);
  await eventually(
    () => raw(db)`select 1 from outbox where part_id = ${sid} and status <> 'pending'`,
    (rows) => rows.length === 1,
  );
}

const sentByTwilio = (to: string) => twilio.sent.filter((m) => m.to === to);
const sentByTelnyx = (to: string) => telnyx.sent.filter((m) => m.to === to);
const stored = async () =>
  (
    await raw(db)`select (select count(*)::int from webhook_deliveries) as deliveries,
                         (select count(*)::int from outbox) as outbox`
  )[0];

describe("texting a tenant's number", () => {
  test("the channel answer names the URL to paste into the provider's console", async () => {
    const res = await svc.call("GET", `/api/v1/admin/tenants/${acme.id}/channels`, undefined, asKey);
    const [channel] = (await json(res)).channels as Body[];
    expect(channel).toMatchObject({
      kind: "twilio",
      publicId: ACME.number,
      credentials: { authToken: "set" },
      webhookUrl: `${PUBLIC_URL}/webhooks/twilio/sms`,
    });
    expect(JSON.stringify(channel)).not.toContain(ACME.token);
  });

  test("each tenant's number is answered once, through its provider, from its knowledge", async () => {
    const customer = "+15557650001";
    const res = await twilioText("When does the shop open?", { from: customer }).send();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(await res.text()).toContain("<Response></Response>");
    const telnyxRes = await telnyxText("When do you open?", { from: customer });
    expect(telnyxRes.status).toBe(200);

    const [acmeReply] = await eventually(
      () => sentByTwilio(customer),
      (s) => s.length > 0,
    );
    const [globexReply] = await eventually(
      () => sentByTelnyx(customer),
      (s) => s.length > 0,
    );
    expect(acmeReply).toMatchObject({ from: ACME.number });
    expect(acmeReply?.body).toContain("7am");
    expect(globexReply).toMatchObject({ from: GLOBEX.number });
    expect(globexReply?.text).toContain("noon");
    // The reply asked for its delivery report at the public status path.
    expect(acmeReply?.statusCallback).toBe(`${PUBLIC_URL}/webhooks/twilio/status`);
    // Tenant isolation of threads: the same customer has one session in each tenant, each its own.
    const sessions = await raw(db)<{ tenantId: string; externalRef: string }[]>`
      select tenant_id, external_ref from sessions where channel = 'sms' and external_ref = ${customer}`;
    expect(sessions.map((s) => s.tenantId).sort()).toEqual([acme.id, globex.id].sort());
  });

  test("a text delivered twice is answered once", async () => {
    const customer = "+15557650002";
    const text = twilioText("When does the shop open?", { from: customer });
    const first = await text.send();
    const again = await text.send();
    expect([first.status, again.status]).toEqual([200, 200]);
    await eventually(
      () => sentByTwilio(customer),
      (s) => s.length > 0,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(sentByTwilio(customer)).toHaveLength(1);
  });

  test("a tampered body, an added parameter or a wrong signature is refused and nothing is stored", async () => {
    const before = await stored();
    const tampered = await twilioText("hello", { tamper: (f) => f.replace("hello", "hellp") }).send();
    const extra = await twilioText("hello", { tamper: (f) => `${f}&Extra=1` }).send();
    expect([tampered.status, extra.status]).toEqual([401, 401]);
    expect(((await tampered.json()) as Body).error.code).toBe("invalid_signature");
    const event = telnyxInboundEvent({ from: CUSTOMER, to: GLOBEX.number, text: "hi" });
    const body = JSON.stringify(event);
    const headers = telnyx.signTelnyxWebhook(body);
    const forged = await fetch(`${svc.url}/webhooks/telnyx/sms`, {
      method: "POST",
      headers,
      body: body.replace('"hi"', '"ho"'),
    });
    expect(forged.status).toBe(401);
    expect(await stored()).toEqual(before);
  });

  test("a text to a number no tenant has is acknowledged and never answered", async () => {
    const before = await stored();
    const res = await twilioText("anyone there?", { to: "+15550109999", from: "+15557650003" }).send();
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(sentByTwilio("+15557650003")).toHaveLength(0);
    expect(await stored()).toEqual(before);
    // A request naming no number at all (Voxie's delivery events name none) is acknowledged the same way.
    const nameless = await fetch(`${svc.url}/webhooks/twilio/sms`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "x" },
      body: "MessageSid=SM1&Body=hello",
    });
    expect(nameless.status).toBe(200);
    expect(await stored()).toEqual(before);
  });

  test("STOP stops every further text; START brings the answers back; HELP gets the help text", async () => {
    const customer = "+15557650004";
    await textAndWait(customer, "STOP");
    await textAndWait(customer, "When does the shop open?");
    expect(sentByTwilio(customer)).toHaveLength(0);
    const consent = await raw(db)<{ tenantId: string; status: string; keyword: string }[]>`
      select tenant_id, status, keyword from sms_consent where phone = ${customer}`;
    expect(consent).toEqual([
      expect.objectContaining({ tenantId: acme.id, status: "opted_out", keyword: "STOP" }),
    ]);

    await textAndWait(customer, "start");
    await textAndWait(customer, "When does the shop open?");
    const [reply] = await eventually(
      () => sentByTwilio(customer),
      (s) => s.length > 0,
    );
    expect(reply?.body).toContain("7am");

    await twilioText("HELP", { from: customer }).send();
    const help = await eventually(
      () => sentByTwilio(customer),
      (s) => s.length > 1,
    );
    expect(help[1]?.body).toMatch(/Acme.*STOP/s);
  });

  test("a text to a suspended tenant's number is not answered", async () => {
    const customer = "+15557650005";
    await svc.call("PATCH", `/api/v1/admin/tenants/${globex.id}`, { status: "suspended" }, asKey);
    try {
      const res = await telnyxText("When do you open?", { from: customer });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect(sentByTelnyx(customer)).toHaveLength(0);
    } finally {
      await svc.call("PATCH", `/api/v1/admin/tenants/${globex.id}`, { status: "active" }, asKey);
    }
  });

  test("the provider's opt-out refusal is recorded as an opt-out and not retried", async () => {
    const customer = "+15557650006";
    twilio.optOut(customer);
    await twilioText("When does the shop open?", { from: customer }).send();
    const consent = await eventually(
      () => raw(db)<{ source: string }[]>`select source from sms_consent where phone = ${customer}`,
      (rows) => rows.length > 0,
    );
    expect(consent[0]?.source).toBe("provider_error");
    const attempts = () =>
      twilio.requests.filter(
        (r) => r.method === "POST" && String(r.body ?? "").includes(encodeURIComponent(customer)),
      );
    const tried = attempts().length;
    await new Promise((r) => setTimeout(r, 500));
    expect(attempts().length).toBe(tried);
  });

  test("a delivery report updates the message, and a failure is recorded with its code", async () => {
    const customer = "+15557650007";
    await twilioText("When does the shop open?", { from: customer }).send();
    const [reply] = await eventually(
      () => sentByTwilio(customer),
      (s) => s.length > 0,
    );
    // Twilio reports a message after its API answered the send; the emulator answers at once, so wait
    // until the service recorded that answer (a report before it is dropped: see docs/sms.md).
    await eventually(
      () =>
        raw(db)<
          { id: string }[]
        >`select id from sms_messages where provider_message_id = ${reply?.sid as string}`,
      (rows) => rows.length > 0,
    );
    const result = await twilio.statusCallback(reply?.sid as string, "undelivered", 30003);
    expect(result.status).toBe(200);
    const [row] = await raw(db)<{ status: string; errorCode: string }[]>`
      select status, error_code from sms_messages where provider_message_id = ${reply?.sid as string}`;
    expect(row).toEqual({ status: "undelivered", errorCode: "30003" });
    // Visible in the customer's conversation through the admin API (the console's timeline reads it).
    const texts = await svc.call(
      "GET",
      `/api/v1/admin/tenants/${acme.id}/contacts/phone/${encodeURIComponent(customer)}/texts`,
      undefined,
      asKey,
    );
    expect(texts.status).toBe(200);
    const list = (await json(texts)).texts as Body[];
    expect(list[0]).toMatchObject({
      direction: "outbound",
      purpose: "reply",
      status: "undelivered",
      errorCode: "30003",
    });
    expect(list.map((t) => t.direction)).toContain("inbound");
    // Another tenant's admin API sees nothing of it.
    const other = await svc.call(
      "GET",
      `/api/v1/admin/tenants/${globex.id}/contacts/phone/${encodeURIComponent(customer)}/texts`,
      undefined,
      asKey,
    );
    expect((await json(other)).texts).toEqual([]);
  });

  test("through Telnyx: STOP is honoured and a delivery report moves the text along", async () => {
    const customer = "+15557650008";
    expect((await telnyxText("When do you open?", { from: customer })).status).toBe(200);
    const [reply] = await eventually(
      () => sentByTelnyx(customer),
      (s) => s.length > 0,
    );
    const report = telnyx.statusEvent(reply?.id as string, {
      eventType: "message.finalized",
      status: "delivery_failed",
      errorCode: "40008",
    });
    expect((await telnyx.deliver(`${svc.url}/webhooks/telnyx/sms`, report)).status).toBe(200);
    const [row] = await raw(db)<{ status: string; errorCode: string }[]>`
      select status, error_code from sms_messages where provider_message_id = ${reply?.id as string}`;
    expect(row).toEqual({ status: "undelivered", errorCode: "40008" });

    await telnyxText("Stop", { from: customer });
    await eventually(
      () => raw(db)<{ status: string }[]>`select status from sms_consent where phone = ${customer}`,
      (rows) => rows.length > 0,
    );
    await telnyxText("When do you open?", { from: customer });
    await eventually(
      () => raw(db)`select 1 from outbox where conversation_id = ${customer} and status = 'pending'`,
      (rows) => rows.length === 0,
    );
    expect(sentByTelnyx(customer)).toHaveLength(1);
  });

  test("a long answer with emoji is capped at the tenant's segments, its link whole", async () => {
    const customer = "+15557650009";
    const res = await svc.call(
      "PATCH",
      `/api/v1/admin/tenants/${globex.id}/settings`,
      { sms: { maxSegments: 1 } },
      asKey,
    );
    expect(res.status).toBe(200);
    const long = Array.from({ length: 12 }, (_, i) => `Delivery rule ${i + 1} applies to parcels 🚚.`).join(
      " ",
    );
    await know(globex, "delivery", `# Delivery\n\n${long} Track it at https://globex.example/track/123.`);
    await telnyxText("How does delivery work?", { from: customer });
    const [reply] = await eventually(
      () => sentByTelnyx(customer),
      (s) => s.length > 0,
    );
    // UCS-2 (the emoji): one segment is 70 UTF-16 units; Telnyx billed it as one part.
    expect(reply?.text).toContain("🚚");
    expect(reply?.parts).toBe(1);
    expect(reply?.text.length).toBeLessThanOrEqual(70);
    expect(reply?.text).not.toMatch(/https:\/\/globex\.example\/tr(?!ack\/123)/);
  });

  test("a tenant admin erases a texting customer: their thread goes, their opt-out stays, the other tenant's is untouched", async () => {
    const customer = "+15557650010";
    await textAndWait(customer, "When does the shop open?");
    await textAndWait(customer, "STOP");
    await telnyxText("When do you open?", { from: customer });
    await eventually(
      () => sentByTelnyx(customer),
      (s) => s.length > 0,
    );
    const res = await svc.call(
      "DELETE",
      `/api/v1/admin/tenants/${acme.id}/contacts/phone/${customer}`,
      undefined,
      asKey,
    );
    expect(res.status).toBe(200);
    const kept = await raw(db)<{ tenantId: string; what: string }[]>`
      select tenant_id, 'session' as what from sessions where external_ref = ${customer}
      union all select tenant_id, 'contact' from contacts where phone = ${customer}
      union all select tenant_id, 'text' from sms_messages where customer_phone = ${customer}
      union all select tenant_id, 'consent' from sms_consent where phone = ${customer}`;
    expect(kept.filter((r) => r.tenantId === acme.id).map((r) => r.what)).toEqual(["consent"]);
    const globexKept = new Set(kept.filter((r) => r.tenantId === globex.id).map((r) => r.what));
    expect([...globexKept].sort()).toEqual(["contact", "session", "text"]);
    const again = await svc.call(
      "DELETE",
      `/api/v1/admin/tenants/${acme.id}/contacts/phone/${customer}`,
      undefined,
      asKey,
    );
    expect(again.status).toBe(404);
    const bad = await svc.call(
      "DELETE",
      `/api/v1/admin/tenants/${acme.id}/contacts/phone/not-a-number`,
      undefined,
      asKey,
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Body).error.code).toBe("validation_failed");
  });
});
