import { afterAll, beforeAll, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import type { SlackSink } from "../emulators/slack-sink";
import { startSlackSink } from "../emulators/slack-sink";
import { type SmtpSink, startSmtpSink } from "../emulators/smtp-sink";
import { startTelnyxEmulator, type TelnyxEmulator } from "../emulators/telnyx";
import { playCall } from "../emulators/telnyx-voice";
import { startWebhookReceiver, type WebhookReceiver } from "../emulators/webhook-receiver";
import { type AdminService, adminSuite, asKey, type Body, createTenant, json } from "./admin-helpers";
import { eventually, raw } from "./helpers";

/**
 * Issue 14's flow through the service as composed for production (the contacts' extraction, the
 * escalations and the signed webhooks out wired together, nothing faked): a call becomes a call, a contact,
 * a lead and signed events at the tenant's CRM, once however often Telnyx delivers its end; a web chat
 * asking for a person reaches the team by e-mail and Slack and the CRM as `escalation.created`.
 */

const PUBLIC_URL = "https://switchboard.example.com";
const NUMBER = "+15550100002";
const CALLER = "+15557654321";
const API_KEY = "KEY_follow_up_flow";

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let telnyx: TelnyxEmulator;
let receiver: WebhookReceiver;
let smtp: SmtpSink;
let slack: SlackSink;
let tenant: Body;
let urls: { dynamicVariablesUrl: string; eventsUrl: string };

const admin = async (method: string, path: string, body?: unknown) =>
  json(await svc.call(method, `/api/v1/admin/tenants/${tenant.id}${path}`, body, asKey));

beforeAll(async () => {
  telnyx = await startTelnyxEmulator({ apiKey: API_KEY });
  receiver = await startWebhookReceiver();
  smtp = await startSmtpSink({ port: 0 });
  slack = await startSlackSink();
  ({ db, svc, stop } = await adminSuite({
    PUBLIC_URL,
    TELNYX_API_BASE: telnyx.apiBase,
    POLLING_INTERVAL: "0",
    SMTP_URL: smtp.url,
    NOTIFY_FROM: "Switchboard <escalations@notify.example.com>",
    SLACK_WEBHOOK_HOSTS: "127.0.0.1",
  }));
  tenant = await createTenant(svc, "follow-up-flow", "Flow Plumbing");
  const channel = await admin("POST", "/channels", {
    kind: "telnyx",
    phoneNumber: NUMBER,
    apiKey: API_KEY,
    publicKey: telnyx.publicKey,
  });
  urls = {
    dynamicVariablesUrl: channel.voice.dynamicVariablesUrl.replace(PUBLIC_URL, svc.url),
    eventsUrl: channel.voice.eventsUrl.replace(PUBLIC_URL, svc.url),
  };
  const endpoint = await admin("POST", "/webhook-endpoints", {
    url: `${receiver.url}/crm`,
    events: ["lead.created", "call.completed", "escalation.created"],
    description: "the CRM",
  });
  receiver.expect("/crm", endpoint.secret);
  await admin("PATCH", "/settings", { escalations: { emails: ["team@flow.example"] } });
  await admin("PUT", "/escalations/slack-webhook", { url: slack.webhookUrl("T1/B1/flow") });
});
afterAll(async () => {
  await stop?.();
  await Promise.all([telnyx?.close(), receiver?.close(), smtp?.close(), slack?.close()]);
});

test("a call delivered three times: one call, contact, lead and summary, and one signed lead.created", async () => {
  const played = await playCall(telnyx, urls, {
    from: CALLER,
    to: NUMBER,
    durationSec: 64,
    deliveries: 3,
    lines: [
      { role: "assistant", text: "Flow Plumbing, how can I help?" },
      { role: "user", text: "Hi, this is Jane Doe, jane@example.com." },
      { role: "user", text: "I want to book a boiler service next week." },
    ],
  });
  expect(played.events).toEqual([200, 200, 200]);
  const leads = await eventually(
    async () => (await admin("GET", "/leads")).leads as Body[],
    (l) => l.length === 1,
  );
  expect(leads[0]).toMatchObject({
    intent: "booking",
    status: "new",
    contact: { name: "Jane Doe", email: "jane@example.com", phone: CALLER },
    source: { channel: "voice", kind: "call" },
  });
  const { calls } = await admin("GET", "/calls");
  expect(calls).toHaveLength(1);
  expect(calls[0].summary).toContain("book a boiler service");
  expect((await admin("GET", "/contacts")).contacts).toHaveLength(1);
  const types = await eventually(
    async () => receiver.received.filter((e) => e.path === "/crm").map((e) => e.type),
    (t) => t.length >= 2,
  );
  expect(types.sort()).toEqual(["call.completed", "lead.created"]);
  expect(receiver.rejected).toEqual([]);
  // Every delivery above arrived, verified; the retried end wrote nothing twice.
  const [counts] = await raw(db)`
    select (select count(*)::int from calls) as calls, (select count(*)::int from leads) as leads,
           (select count(*)::int from outbound_events) as events`;
  expect(counts).toEqual({ calls: 1, leads: 1, events: 2 });
});

test("a web chat asking for a person: e-mail and Slack to the team, escalation.created to the CRM", async () => {
  const res = await svc.call(
    "POST",
    "/api/v1/chat",
    { message: "I want to talk to a person" },
    { "x-switchboard-tenant": tenant.widgetKey as string },
  );
  const chat = await json(res);
  expect(chat.outcome).toBe("handoff");
  const id = chat.escalation.id as string;
  const mail = await eventually(
    async () => smtp.messages.filter((m) => m.to.includes("team@flow.example")),
    (m) => m.length === 1,
  );
  expect(mail[0]?.subject).toBe("[Flow Plumbing] A customer is waiting for a person (web)");
  // The team reads what the customer wrote, not "none yet".
  expect(mail[0]?.text).toContain('Summary: The customer wrote: "I want to talk to a person"');
  await eventually(
    async () => slack.posts.filter((p) => p.path.endsWith("/T1/B1/flow")),
    (p) => p.length === 1,
  );
  const created = await eventually(
    async () => receiver.received.filter((e) => e.type === "escalation.created"),
    (e) => e.length === 1,
  );
  expect(created[0]?.data).toMatchObject({
    id,
    channel: "web",
    reason: "customer_request",
    summary: 'The customer wrote: "I want to talk to a person"',
  });
  expect((await admin("POST", `/escalations/${id}/claim`)).status).toBe("claimed");
  expect((await admin("POST", `/escalations/${id}/resolve`)).status).toBe("resolved");
});
