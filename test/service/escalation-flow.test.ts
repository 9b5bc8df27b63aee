import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import { WITH_PERSON_REPLY } from "../../service/src/engine/web-handoff";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "../emulators/intercom";
import { type SlackSink, startSlackSink } from "../emulators/slack-sink";
import { type SmtpSink, startSmtpSink } from "../emulators/smtp-sink";
import {
  type AdminService,
  asKey,
  asUser,
  auditRows,
  type Body,
  createTenant,
  json,
  startAdminService,
} from "./admin-helpers";
import { eventually, raw, testDatabase } from "./helpers";

/**
 * The escalation flow through the running service: a customer asks for a person in the web chat (JSON and
 * SSE) or in Intercom (for a tenant not on Intercom's inbox); the team gets the e-mail (SMTP sink) and the
 * Slack post (sink); an agent claims it through the admin API (the bot goes silent), resolves it (the bot
 * resumes). The in-process task queue sends the notifications.
 */

const INTERCOM_SECRET = "intercom-secret-for-escalations";
let intercom: IntercomEmulator;
let smtp: SmtpSink;
let slack: SlackSink;
let db: Database;
let drop: () => Promise<void>;
let svc: AdminService;
let acme: Body;

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  smtp = await startSmtpSink();
  slack = await startSlackSink();
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startAdminService(db, {
    SMTP_URL: smtp.url,
    NOTIFY_FROM: "Acme Support <escalations@notify.example.com>",
    SLACK_WEBHOOK_HOSTS: "127.0.0.1",
    PUBLIC_URL: "https://switchboard.example.com",
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_BASE: intercom.url,
    INTERCOM_WEBHOOK_SECRET: INTERCOM_SECRET,
    HANDOFF_ASSIGNEE: `team:${intercom.supportTeam.id}`,
    POLLING_INTERVAL: "0",
    BUSINESS_HOURS: "Mon-Sun 00:00-24:00",
  });
  acme = await createTenant(svc, "acme", "Acme Plumbing");
  await configureTeam(acme.id, "acme-team@example.com", "acme");
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await intercom?.close();
  await smtp?.close();
  await slack?.close();
});

async function configureTeam(tenantId: string, email: string, slackName: string, extra: Body = {}) {
  const patch = { escalations: { emails: [email], ...extra } };
  const settings = await svc.call("PATCH", `/api/v1/admin/tenants/${tenantId}/settings`, patch, asKey);
  expect(settings.status).toBe(200);
  const url = slack.webhookUrl(`T0/${slackName}/webhook-secret-${slackName}`);
  const set = await svc.call(
    "PUT",
    `/api/v1/admin/tenants/${tenantId}/escalations/slack-webhook`,
    { url },
    asKey,
  );
  expect(set.status).toBe(200);
  return url;
}

const widget = () => ({ "x-switchboard-tenant": acme.widgetKey as string });

async function chat(message: string, sessionId?: string, headers: Record<string, string> = {}) {
  const res = await svc.post("/api/v1/chat", { message, ...(sessionId ? { sessionId } : {}) }, headers);
  return { status: res.status, body: await json(res) };
}

const escalationsPath = (tenantId: string) => `/api/v1/admin/tenants/${tenantId}/escalations`;
const agent = (sub: string, tenantId = acme.id as string) => asUser({ sub, role: "agent", tenant: tenantId });

describe("a web chat customer who asks for a person", () => {
  let token: string;
  let sessionId: string;
  let escalationId: string;

  test("gets the notice as the reply; the team gets the e-mail and the Slack post", async () => {
    const first = await chat("Hi, my sink is leaking", undefined, widget());
    expect(first.body.outcome).toBe("answered");
    token = first.body.sessionToken;
    sessionId = first.body.sessionId;
    const auth = { ...widget(), authorization: `Bearer ${token}` };
    const asked = await chat("I want to talk to a person", sessionId, auth);
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({
      sessionId,
      outcome: "handoff",
      reply: "Thanks. A person from our team will reply to you here shortly.",
      usage: { inputTokens: 0, outputTokens: 0 },
    });
    escalationId = asked.body.escalation.id;
    const mail = await eventually(
      () => smtp.messages.filter((m) => m.to.includes("acme-team@example.com")),
      (m) => m.length > 0,
    );
    expect(mail).toHaveLength(1);
    expect(mail[0]?.subject).toBe("[Acme Plumbing] A customer is waiting for a person (web)");
    expect(mail[0]?.text).toContain(
      `Claim it: https://switchboard.example.com/api/v1/admin/tenants/${acme.id}/escalations/${escalationId}`,
    );
    const posts = await eventually(
      () => slack.posts.filter((p) => p.path.includes("/acme/")),
      (p) => p.length > 0,
    );
    expect(posts[0]?.text).toBe("A web customer of Acme Plumbing is waiting for a person (customer request)");
    // The customer's message and the notice are the session's history, like any turn.
    const history = await json(await svc.get(`/api/v1/sessions/${sessionId}/messages`, auth));
    expect(history.messages.slice(-2).map((m: Body) => [m.role, m.content])).toEqual([
      ["user", "I want to talk to a person"],
      ["assistant", "Thanks. A person from our team will reply to you here shortly."],
    ]);
    // The webhook URL is a credential: never in a log line.
    expect(svc.logs.raw.join("\n")).not.toContain("webhook-secret-acme");
  });

  test("shows in the queue, with its notifications sent", async () => {
    const as = await agent("ann");
    const list = await json(await svc.call("GET", `${escalationsPath(acme.id)}?status=open`, undefined, as));
    expect(list.escalations).toMatchObject([
      {
        id: escalationId,
        status: "open",
        channel: "web",
        conversationId: sessionId,
        sessionId,
        reason: "customer_request",
      },
    ]);
    const one = await eventually(
      async () => json(await svc.call("GET", `${escalationsPath(acme.id)}/${escalationId}`, undefined, as)),
      (e) => e.notifications?.every((n: Body) => n.status === "sent"),
    );
    expect(one.notifications).toEqual([
      {
        kind: "email",
        to: "acme-team@example.com",
        status: "sent",
        attempts: 1,
        lastError: null,
        sentAt: expect.any(String),
      },
      {
        kind: "slack",
        to: "slack",
        status: "sent",
        attempts: 1,
        lastError: null,
        sentAt: expect.any(String),
      },
    ]);
  });

  test("the bot answers while nobody has claimed it; once claimed it is silent; resolved, it answers again", async () => {
    const auth = { ...widget(), authorization: `Bearer ${token}` };
    expect((await chat("What are your opening hours?", sessionId, auth)).body.outcome).toBe("answered");

    const ann = await agent("ann");
    const claimed = await svc.call(
      "POST",
      `${escalationsPath(acme.id)}/${escalationId}/claim`,
      undefined,
      ann,
    );
    expect(claimed.status).toBe(200);
    expect(await json(claimed)).toMatchObject({ status: "claimed", claimedBy: "ann" });
    const bob = await svc.call(
      "POST",
      `${escalationsPath(acme.id)}/${escalationId}/claim`,
      undefined,
      await agent("bob"),
    );
    expect(bob.status).toBe(409);
    expect((await json(bob)).error.code).toBe("escalation_claimed");

    const silent = await chat("Hello? Anyone there?", sessionId, auth);
    expect(silent.body).toMatchObject({ outcome: "with_person", reply: WITH_PERSON_REPLY, model: "none" });
    const history = await json(await svc.get(`/api/v1/sessions/${sessionId}/messages`, auth));
    expect(history.messages.at(-2)).toMatchObject({ role: "user", content: "Hello? Anyone there?" });

    const resolved = await svc.call(
      "POST",
      `${escalationsPath(acme.id)}/${escalationId}/resolve`,
      undefined,
      ann,
    );
    expect(await json(resolved)).toMatchObject({ status: "resolved", resolvedBy: "ann" });
    expect((await chat("What are your opening hours?", sessionId, auth)).body.outcome).toBe("answered");

    const claims = (await auditRows(db, "escalation.claimed")).filter((r) => r.target === escalationId);
    expect(claims).toMatchObject([{ tenantId: acme.id, actor: "ann", role: "agent" }]);
    expect(
      (await auditRows(db, "escalation.resolved")).filter((r) => r.target === escalationId),
    ).toHaveLength(1);
    // Claiming a resolved escalation is refused.
    const late = await svc.call("POST", `${escalationsPath(acme.id)}/${escalationId}/claim`, undefined, ann);
    expect((await json(late)).error.code).toBe("escalation_resolved");
  });

  test("over SSE the notice streams like a reply", async () => {
    const res = await svc.post(
      "/api/v1/chat",
      { message: "can I speak to a human please" },
      {
        ...widget(),
        accept: "text/event-stream",
      },
    );
    const text = await res.text();
    expect(text).toContain("event: delta");
    const done = /event: done\ndata: (.*)\n/.exec(text)?.[1];
    expect(JSON.parse(done ?? "{}")).toMatchObject({
      outcome: "handoff",
      reply: "Thanks. A person from our team will reply to you here shortly.",
      escalation: { id: expect.any(String) },
    });
  });
});

describe("the admin API refuses", () => {
  test("an unknown escalation, a bad status, and a Slack URL off Slack's hosts", async () => {
    const as = await agent("ann");
    const missing = await svc.call(
      "POST",
      `${escalationsPath(acme.id)}/00000000-0000-4000-8000-00000000abcd/claim`,
      undefined,
      as,
    );
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe("escalation_not_found");
    const bad = await svc.call("GET", `${escalationsPath(acme.id)}?status=pending`, undefined, as);
    expect(bad.status).toBe(400);
    const off = await svc.call(
      "PUT",
      `${escalationsPath(acme.id)}/slack-webhook`,
      { url: "https://evil.example.com/hook" },
      asKey,
    );
    expect(off.status).toBe(400);
    // An agent may not set where the team is told.
    const byAgent = await svc.call(
      "PUT",
      `${escalationsPath(acme.id)}/slack-webhook`,
      { url: slack.webhookUrl() },
      as,
    );
    expect(byAgent.status).toBe(403);
  });
});

describe("an Intercom customer who asks for a person", () => {
  const deliver = (conversationId: string) => {
    const n = signedNotification(
      INTERCOM_SECRET,
      "conversation.user.created",
      intercom.webhookItem(conversationId, { parts: "none" }),
    );
    return fetch(`${svc.url}/webhooks/intercom`, { method: "POST", headers: n.headers, body: n.body });
  };
  const escalationsOf = (conversationId: string) =>
    raw(db)<{ id: string; status: string }[]>`
      select id::text, status from escalations where channel = 'intercom' and conversation_id = ${conversationId}`;

  test("stays in Intercom's inbox by default, and is escalated for a tenant not on it", async () => {
    const inbox = intercom.createConversation({ body: "I want to talk to a person" });
    await deliver(inbox.id);
    await eventually(
      () => intercom.assignments(inbox.id),
      (a) => a.length > 0,
    );
    expect(await escalationsOf(inbox.id)).toEqual([]);

    await configureTeam(DEFAULT_TENANT_ID, "default-team@example.com", "default", { intercomInbox: false });
    const conv = intercom.createConversation({ body: "I want to talk to a person" });
    await deliver(conv.id);
    await eventually(
      () => intercom.assignments(conv.id),
      (a) => a.length > 0,
    );
    const [escalation] = await eventually(
      () => escalationsOf(conv.id),
      (e) => e.length > 0,
    );
    expect(escalation?.status).toBe("open");
    const mail = await eventually(
      () => smtp.messages.filter((m) => m.to.includes("default-team@example.com")),
      (m) => m.length > 0,
    );
    expect(mail[0]?.subject).toContain("(intercom)");
    await eventually(
      () => slack.posts.filter((p) => p.path.includes("/default/")),
      (p) => p.length > 0,
    );
  });
});
