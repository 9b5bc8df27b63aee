import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LOG_METRICS } from "../../infra/monitoring/log-metrics";
import type { Database } from "../../service/src/db/client";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import { LOG_EVENT, LOG_FIELD, MODEL_PURPOSE, UPSTREAM } from "../../service/src/observability/log-events";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { type GmailEmulator, startGmailEmulator } from "../emulators/gmail";
import { type IntercomEmulator, postNewConversation, startIntercomEmulator } from "../emulators/intercom";
import { type SlackSink, startSlackSink } from "../emulators/slack-sink";
import { type SmtpSink, startSmtpSink } from "../emulators/smtp-sink";
import { startTelnyxEmulator, type TelnyxEmulator } from "../emulators/telnyx";
import { playCall } from "../emulators/telnyx-voice";
import {
  signTwilioRequest,
  startTwilioEmulator,
  type TwilioEmulator,
  twilioForm,
  twilioInboundParams,
} from "../emulators/twilio";
import { startWebhookReceiver, type WebhookReceiver } from "../emulators/webhook-receiver";
import type { Body } from "./admin-helpers";
import { eventually, startTestService, type TestService, testDatabase } from "./helpers";
import { type EmailScene, emailEnv, emailSetup, emailTraffic, oauthRedirect } from "./log-metrics-email";

/**
 * Service and infra agree: every log event a log-based metric counts (infra/monitoring/log-metrics.ts) is
 * written by the running service, and every line of it carries each field the metric extracts, so no
 * dashboard or alert policy watches a series that never gets a point. The service is driven through the
 * doors a user would use (web chat, an Intercom webhook, texts, a call, Gmail pushes, the admin API) until
 * each counted event has happened.
 */

const SECRET = "intercom-client-secret-for-log-metrics";

const ADMIN_API_KEY = "log-metrics-admin-key-0123456789";
const PUBLIC_URL = "https://log-metrics.switchboard.test";
const TWILIO = {
  sid: "AC00000000000000000000000000000001",
  token: "log-metrics-twilio-token",
  number: "+15550100111",
};

let intercom: IntercomEmulator;
let twilio: TwilioEmulator;
let gemini: GeminiEmulator;
let db: Database;
let drop: () => Promise<void>;
let svc: TestService;
// Issue 14's follow-up work: the team's e-mail and Slack, a tenant's webhook receiver, a voice tenant.
let smtp: SmtpSink;
let slack: SlackSink;
let receiver: WebhookReceiver;
let telnyx: TelnyxEmulator;
const VOICE = { number: "+15550100222", apiKey: "KEY_log_metrics_voice" };
// Issue 15's e-mail channel: the Gmail + OAuth emulator, two tenants' mailboxes (log-metrics-email.ts).
let gmail: GmailEmulator;
let emailTenants: Awaited<ReturnType<typeof emailSetup>>;

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  gemini = await startGeminiEmulator();
  twilio = await startTwilioEmulator({
    accountSid: TWILIO.sid,
    authToken: TWILIO.token,
    reach: (url) => url.replace(PUBLIC_URL, svc.url),
  });
  smtp = await startSmtpSink();
  slack = await startSlackSink();
  receiver = await startWebhookReceiver();
  telnyx = await startTelnyxEmulator({ apiKey: VOICE.apiKey });
  gmail = await startGmailEmulator({ redirectUris: [oauthRedirect(PUBLIC_URL)] });
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startTestService(db, {
    MODEL_PROVIDER: "gemini",
    GEMINI_API_KEY: gemini.apiKey,
    GOOGLE_GEMINI_BASE_URL: gemini.url,
    CONTEXT_CACHE: "false",
    MODEL_RETRY_BASE_MS: "10",
    CIRCUIT_BREAKER_THRESHOLD: "100",
    // Every turn passes the warning share of the budget: each one logs budget.warning.
    BUDGET_WARN_RATIO: "0",
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_BASE: intercom.url,
    INTERCOM_WEBHOOK_SECRET: SECRET,
    HANDOFF_ASSIGNEE: `team:${intercom.supportTeam.id}`,
    POLLING_INTERVAL: "0",
    ADMIN_API_KEY,
    PUBLIC_URL,
    TWILIO_API_BASE: twilio.url,
    TELNYX_API_BASE: telnyx.apiBase,
    SMTP_URL: smtp.url,
    SLACK_WEBHOOK_HOSTS: "127.0.0.1",
    // One attempt: a notification that fails once is given up (`failed`, what notification-failures selects).
    NOTIFY_MAX_ATTEMPTS: "1",
    ...emailEnv(gmail, PUBLIC_URL),
  });
  // The default tenant's number at Twilio: texts, delivery reports and opt-outs are logged for the SMS rows.
  const res = await fetch(`${svc.url}/api/v1/admin/tenants/${DEFAULT_TENANT_ID}/channels`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      kind: "twilio",
      phoneNumber: TWILIO.number,
      accountSid: TWILIO.sid,
      authToken: TWILIO.token,
    }),
  });
  expect(res.status).toBe(201);
  await followUpSetup();
  emailTenants = await emailSetup(emailScene());
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await intercom?.close();
  await gemini?.close();
  await twilio?.close();
  await smtp?.close();
  await slack?.close();
  await receiver?.close();
  await telnyx?.close();
  await gmail?.close();
});

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${svc.url}/api/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status, `${method} ${path}: ${res.status}`).toBeLessThan(300);
  return (await res.json()) as Body;
};
const tenantPath = `/tenants/${DEFAULT_TENANT_ID}`;
const emailScene = (): EmailScene => ({
  svc,
  emu: gmail,
  publicUrl: PUBLIC_URL,
  adminKey: ADMIN_API_KEY,
  admin,
});
let staleEndpointId: string;
let voiceUrls: { dynamicVariablesUrl: string; eventsUrl: string };

/**
 * The default tenant's team (e-mail and Slack) and two webhook endpoints: a CRM that verifies, and one
 * whose receiver verifies with another secret (a secret rotated on one side only: every attempt is a 4xx).
 * A second tenant takes calls through Telnyx.
 */
async function followUpSetup() {
  await admin("PATCH", `${tenantPath}/settings`, { escalations: { emails: ["team@log-metrics.test"] } });
  await admin("PUT", `${tenantPath}/escalations/slack-webhook`, {
    url: slack.webhookUrl("T0/log-metrics/webhook-secret"),
  });
  const endpoint = async (path: string) => {
    const created = await admin("POST", `${tenantPath}/webhook-endpoints`, {
      url: `${receiver.url}${path}`,
      events: ["escalation.created"],
    });
    return { id: created.endpoint.id as string, secret: created.secret as string };
  };
  const crm = await endpoint("/crm");
  receiver.expect("/crm", crm.secret);
  staleEndpointId = (await endpoint("/stale")).id;
  receiver.expect("/stale", crm.secret);
  const voiceTenant = await admin("POST", "/tenants", { slug: "log-metrics-voice", name: "Voice" });
  const connected = await admin("POST", `/tenants/${voiceTenant.id}/channels`, {
    kind: "telnyx",
    phoneNumber: VOICE.number,
    apiKey: VOICE.apiKey,
    publicKey: telnyx.publicKey,
  });
  voiceUrls = {
    dynamicVariablesUrl: connected.voice.dynamicVariablesUrl.replace(PUBLIC_URL, svc.url),
    eventsUrl: connected.voice.eventsUrl.replace(PUBLIC_URL, svc.url),
  };
}

/** Waits until the service has written `n` lines of `event` (matching `where`). */
const linesOf = (event: string, n: number, where: (l: Record<string, unknown>) => boolean = () => true) =>
  eventually(
    () => svc.logs.events(event).filter(where),
    (lines) => lines.length >= n,
    15_000,
  );

/**
 * A web customer asks for a person: an escalation, the team's e-mail (sent) and Slack post (failing once:
 * given up), escalation.created delivered to the CRM and refused by the stale endpoint; test events to the
 * stale endpoint until its circuit disables it (the team is told again); then a call to the voice tenant.
 */
async function followUp() {
  slack.failNext(1);
  await chat("I want to talk to a person");
  await linesOf(LOG_EVENT.escalationOpened, 1);
  await linesOf(LOG_EVENT.notificationAttempted, 2);
  await linesOf(LOG_EVENT.webhookDelivered, 1);
  await linesOf(LOG_EVENT.webhookAttemptFailed, 1);
  // DEFAULT_CIRCUIT: disabled after 50 failed attempts in a row, however recent.
  for (let failed = 1; failed < 50; failed++) {
    await admin("POST", `${tenantPath}/webhook-endpoints/${staleEndpointId}/test`);
    await linesOf(LOG_EVENT.webhookAttemptFailed, failed + 1);
  }
  await linesOf(LOG_EVENT.webhookEndpointDisabled, 1);
  await linesOf(LOG_EVENT.notificationAttempted, 4);
  await playCall(telnyx, voiceUrls, {
    from: "+15557650300",
    to: VOICE.number,
    lines: [
      { role: "assistant", text: "Hello, how can we help?" },
      { role: "user", text: "What are your opening hours?" },
    ],
  });
  await linesOf(LOG_EVENT.voiceCallStored, 1);
  // The pipeline's line of the call's turn follows its follow-up.
  await linesOf(LOG_EVENT.conversationProcessed, 1, (l) => l[LOG_FIELD.channel] === "voice");
}

const chat = async (message: string) => {
  const res = await svc.post("/api/v1/chat", { message });
  expect(res.status).toBe(200);
};

/** A customer writes in Intercom; resolves once the bot has answered or handed the conversation over. */
async function intercomConversation(body: string) {
  const conv = intercom.createConversation({ body });
  const res = await postNewConversation(svc.url, SECRET, intercom, conv.id);
  expect(res.status).toBe(200);
  const processed = await eventually(
    () => svc.logs.events(LOG_EVENT.conversationProcessed).filter((l) => l.conversationId === conv.id),
    (lines) => lines.length > 0,
    15_000,
  );
  expect(processed).not.toEqual([]);
}

/** A customer texts the default tenant's Twilio number; resolves once the text is dealt with. */
async function text(from: string, body: string) {
  const params = twilioInboundParams({ from, to: TWILIO.number, body, accountSid: TWILIO.sid });
  const res = await fetch(`${svc.url}/webhooks/twilio/sms`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signTwilioRequest(TWILIO.token, `${PUBLIC_URL}/webhooks/twilio/sms`, params),
    },
    body: twilioForm(params),
  });
  expect(res.status).toBe(200);
  await eventually(
    () => svc.logs.events(LOG_EVENT.conversationProcessed).filter((l) => l.channel === "sms"),
    (lines) => lines.length >= ++texts,
    15_000,
  );
}
let texts = 0;

describe("log events that log-based metrics count", () => {
  beforeAll(async () => {
    await chat("How do refunds work?");
    // Gemini overloaded, then rate limiting: retried, then answered.
    gemini.enqueue({ kind: "error", status: 503 }, { kind: "error", status: 429, retryDelaySeconds: 1 });
    await chat("How do I invite my team?");
    await intercomConversation("How do I reset my password?");
    await intercomConversation("I want to talk to a person please");
    // Intercom rate-limits the bot's reply once: the task fails, waits for the reset, and answers.
    intercom.failNext({ status: 429, pathIncludes: "/reply", resetInSeconds: 1 });
    await intercomConversation("Where can I download my invoices?");
    // Texts: Twilio rate-limits the first reply once (retried), the reply is not delivered, then a STOP.
    twilio.failNext({ status: 429, code: 20429, times: 1 });
    await text("+15557650100", "How do refunds work?");
    const [reply] = await eventually(
      () => twilio.sent,
      (sent) => sent.length > 0,
    );
    await twilio.statusCallback(reply?.sid as string, "undelivered", 30003);
    await text("+15557650100", "STOP");
    await followUp();
    await emailTraffic(emailScene(), emailTenants);
  }, 120_000);

  test.each(
    LOG_METRICS.map((m) => [m.name, m] as const),
  )("%s: the service writes its event with every field the metric reads", (_name, metric) => {
    const lines = svc.logs.events(metric.event);
    expect(lines.length, `no ${metric.event} line was written`).toBeGreaterThan(0);
    const fields = [...metric.labels.map((l) => l.field), ...(metric.valueField ? [metric.valueField] : [])];
    for (const line of lines) {
      for (const field of fields) {
        expect(line[field], `${metric.event} line without ${field}: ${JSON.stringify(line)}`).toBeDefined();
        expect(line[field]).not.toBeNull();
      }
      if (metric.kind === "distribution" && metric.valueField) {
        expect(typeof line[metric.valueField], `${metric.valueField} must be a number`).toBe("number");
      }
    }
  });

  test("each channel's turns, and the values the alert policies select, are among them", () => {
    const turns = svc.logs.events(LOG_EVENT.conversationProcessed);
    // The call is a turn of the voice channel too (its line counted by switchboard_conversations), and so
    // is each answered e-mail (dashboards/email.json charts channel "email").
    expect(new Set(turns.map((l) => l[LOG_FIELD.channel]))).toEqual(
      new Set(["web", "intercom", "sms", "voice", "email"]),
    );
    // One line per conversation processed: three Intercom conversations are counted three times, not six.
    expect(turns.filter((l) => l[LOG_FIELD.channel] === "intercom")).toHaveLength(3);
    // policies/context-cache-hit-rate.json: chat calls of Gemini models.
    const usage = svc.logs.events(LOG_EVENT.modelUsage);
    expect(
      usage.some((l) => l[LOG_FIELD.purpose] === MODEL_PURPOSE.chat && /^gemini/.test(String(l.model))),
    ).toBe(true);
    // policies/gemini-server-errors.json (status 5xx) and gemini-rate-limited.json (429).
    const errors = svc.logs.events(LOG_EVENT.upstreamError);
    const statuses = (upstream: string) =>
      errors.filter((l) => l[LOG_FIELD.upstream] === upstream).map((l) => l[LOG_FIELD.status]);
    expect(statuses(UPSTREAM.gemini)).toEqual(expect.arrayContaining([503, 429]));
    expect(statuses(UPSTREAM.intercom)).toContain(429);
    // policies/sms-provider-errors.json (429) and sms-delivery-failures.json (undelivered).
    expect(statuses(UPSTREAM.twilio)).toContain(429);
    const deliveries = svc.logs.events(LOG_EVENT.smsDelivery);
    expect(deliveries.map((l) => l[LOG_FIELD.deliveryStatus])).toContain("undelivered");
    expect(deliveries.every((l) => l[LOG_FIELD.provider] === "twilio")).toBe(true);
    expect(svc.logs.events(LOG_EVENT.smsConsent).map((l) => l.outcome)).toContain("opted_out");
    expect(svc.logs.events(LOG_EVENT.handoff).map((l) => l[LOG_FIELD.reason])).toContain("customer_request");
  });

  test("the follow-up events carry the values the follow-up dashboard and alerts select", () => {
    const [opened] = svc.logs.events(LOG_EVENT.escalationOpened);
    expect(opened).toMatchObject({ [LOG_FIELD.channel]: "web", [LOG_FIELD.reason]: "customer_request" });
    const notifications = svc.logs
      .events(LOG_EVENT.notificationAttempted)
      .map((l) => [l[LOG_FIELD.topic], l[LOG_FIELD.kind], l[LOG_FIELD.outcome]].join(" "))
      .sort();
    // policies/notification-failures.json: the Slack post that failed is given up as `failed`.
    expect(notifications).toEqual([
      "endpoint.disabled email sent",
      "endpoint.disabled slack sent",
      "escalation.created email sent",
      "escalation.created slack failed",
    ]);
    // policies/webhook-delivery-failures.json: delivered and failed attempts, with their status class.
    const classes = (event: string) => new Set(svc.logs.events(event).map((l) => l[LOG_FIELD.statusClass]));
    expect(classes(LOG_EVENT.webhookDelivered)).toEqual(new Set(["2xx"]));
    expect(classes(LOG_EVENT.webhookAttemptFailed)).toEqual(new Set(["4xx"]));
    expect(svc.logs.events(LOG_EVENT.webhookEndpointDisabled)).toHaveLength(1);
    expect(svc.logs.events(LOG_EVENT.voiceCallStored)).toHaveLength(1);
  });

  test("no follow-up metric label carries a tenant, an address or a person", () => {
    const followUp = LOG_METRICS.filter((m) =>
      [
        LOG_EVENT.escalationOpened,
        LOG_EVENT.notificationAttempted,
        LOG_EVENT.webhookDelivered,
        LOG_EVENT.webhookAttemptFailed,
      ].includes(m.event as never),
    );
    const values = followUp.flatMap((m) =>
      svc.logs.events(m.event).flatMap((l) => m.labels.map((label) => String(l[label.field]))),
    );
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) {
      expect(v).not.toContain(DEFAULT_TENANT_ID);
      expect(v).not.toMatch(/@|127\.0\.0\.1|https?:|\+1555/);
    }
  });

  test("the e-mail events carry the values the e-mail dashboard and alert select", () => {
    const values = (event: string, ...fields: string[]) =>
      svc.logs.events(event).map((l) => fields.map((f) => l[f]).join(" "));
    expect(values(LOG_EVENT.emailMessageSkipped, LOG_FIELD.reason)).toEqual(["bulk"]);
    // The question to each mailbox; the last mail is never read: its sync meets the revoked grant first.
    expect(svc.logs.events(LOG_EVENT.emailMessageQueued)).toHaveLength(2);
    expect(values(LOG_EVENT.emailReplyWritten, LOG_FIELD.outcome, LOG_FIELD.purpose).sort()).toEqual([
      "drafted reply",
      "sent reply",
    ]);
    // policies/gmail-mailbox-revoked.json selects refresh_token_revoked; an admin's disconnection is charted.
    expect(values(LOG_EVENT.emailMailboxDisconnected, LOG_FIELD.reason).sort()).toEqual([
      "disconnected_by_admin",
      "refresh_token_revoked",
    ]);
    expect(values(LOG_EVENT.emailPushRejected, LOG_FIELD.reason).sort()).toEqual([
      "token_missing",
      "token_refused",
    ]);
    // dashboards/email.json: Gmail's errors are upstream.error lines with upstream gmail (the failed send).
    const gmailErrors = svc.logs
      .events(LOG_EVENT.upstreamError)
      .filter((l) => l[LOG_FIELD.upstream] === UPSTREAM.gmail);
    expect(gmailErrors.map((l) => l[LOG_FIELD.status])).toEqual([503]);
    expect(
      svc.logs.events(LOG_EVENT.conversationProcessed).filter((l) => l[LOG_FIELD.channel] === "email"),
    ).toHaveLength(2);
  });

  test("no e-mail metric label carries a tenant, a mailbox or a customer's address", () => {
    const email = LOG_METRICS.filter((m) => m.event.startsWith("email."));
    expect(email.length).toBeGreaterThan(0);
    const labelled = email.filter((m) => m.labels.length > 0);
    const values = labelled.flatMap((m) =>
      svc.logs.events(m.event).flatMap((l) => m.labels.map((label) => String(l[label.field]))),
    );
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) {
      expect(v).not.toMatch(/@|log-metrics|[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(v).toMatch(/^[a-z_]+$/);
    }
  });
});
