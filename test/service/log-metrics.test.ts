import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LOG_METRICS } from "../../infra/monitoring/log-metrics";
import type { Database } from "../../service/src/db/client";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import { LOG_EVENT, LOG_FIELD, MODEL_PURPOSE, UPSTREAM } from "../../service/src/observability/log-events";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { type IntercomEmulator, postNewConversation, startIntercomEmulator } from "../emulators/intercom";
import {
  signTwilioRequest,
  startTwilioEmulator,
  type TwilioEmulator,
  twilioForm,
  twilioInboundParams,
} from "../emulators/twilio";
import { eventually, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * Service and infra agree: every log event a log-based metric counts (infra/monitoring/log-metrics.ts) is
 * written by the running service, and every line of it carries each field the metric extracts, so no
 * dashboard or alert policy watches a series that never gets a point. The service is driven through the
 * doors a user would use (web chat, an Intercom webhook) until each counted event has happened.
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

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  gemini = await startGeminiEmulator();
  twilio = await startTwilioEmulator({
    accountSid: TWILIO.sid,
    authToken: TWILIO.token,
    reach: (url) => url.replace(PUBLIC_URL, svc.url),
  });
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
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await intercom?.close();
  await gemini?.close();
  await twilio?.close();
});

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
  }, 60_000);

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
    expect(new Set(turns.map((l) => l[LOG_FIELD.channel]))).toEqual(new Set(["web", "intercom", "sms"]));
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
});
