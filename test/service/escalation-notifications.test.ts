import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DatabaseSecretStore } from "../../service/src/adapters/database-secret-store";
import { slackWebhookPoster } from "../../service/src/adapters/slack-webhook";
import { smtpMailer } from "../../service/src/adapters/smtp-mailer";
import type { Database, Sql } from "../../service/src/db/client";
import { eraseSubject } from "../../service/src/db/erasure";
import { migrate } from "../../service/src/db/migrate";
import { setSlackWebhookRef } from "../../service/src/db/notifications";
import { dueNotifications } from "../../service/src/db/platform-notifications";
import { inTenant } from "../../service/src/db/tenant-scope";
import { parseWeeklyHours, type WeeklyHours } from "../../service/src/domain/business-hours";
import { type EscalationSettings, TenantEscalations } from "../../service/src/engine/escalations";
import { NOTIFICATION_EVENT, NotificationSender } from "../../service/src/engine/notifications";
import { createLogger } from "../../service/src/logger";
import { type SlackSink, startSlackSink } from "../emulators/slack-sink";
import { type SmtpSink, startSmtpSink } from "../emulators/smtp-sink";
import { FakeOutboundEvents } from "./escalation-fakes";
import { LogCapture, testDatabase } from "./helpers";
import { FakeQueue } from "./pipeline-fakes";
import { createTenant, smsWorld } from "./sms-fakes";

/**
 * Escalations reaching the tenant's team: the real mailer (nodemailer) against an SMTP sink, the real Slack
 * poster against a Slack sink that fails on demand, the database secret store for the webhook URL; the
 * task queue is run by hand. Voice opens escalations through `Escalations.open` (the voice part's call);
 * SMS through the pipeline's handoff.
 */

let db: Database;
let inspect: Sql;
let drop: () => Promise<void>;
let smtp: SmtpSink;
let slack: SlackSink;
let tenantA: string;
let tenantB: string;
let seq = 0;

const always = { ...(parseWeeklyHours("Mon-Sun 00:00-24:00") as WeeklyHours), timeZone: "UTC" };

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  inspect = t.inspect;
  drop = t.drop;
  await migrate(db.sql);
  smtp = await startSmtpSink();
  slack = await startSlackSink();
  tenantA = await createTenant(inspect, "notify-a");
  tenantB = await createTenant(inspect, "notify-b");
});
afterAll(async () => {
  await drop?.();
  await smtp?.close();
  await slack?.close();
});

/** One "process": escalations and their sender on a fake queue, with the tenant's Slack webhook set. */
async function team(
  tenantId: string,
  opts: { emails?: string[]; maxAttempts?: number; slackName?: string } = {},
) {
  const logs = new LogCapture();
  const log = createLogger({ level: "info", destination: logs });
  const queue = new FakeQueue();
  const events = new FakeOutboundEvents();
  const secrets = new DatabaseSecretStore(db.sql, { key: randomBytes(32) });
  const webhookUrl = slack.webhookUrl(opts.slackName ?? `T1/B${++seq}/secret${seq}`);
  await inTenant(tenantId, async () => {
    const ref = await secrets.put({ tenantId, kind: "slack-webhook-url" }, webhookUrl);
    await setSlackWebhookRef(db.sql, ref);
  });
  const mailer = smtpMailer({ url: smtp.url, from: "Switchboard <escalations@notify.example.com>" });
  const settings: EscalationSettings = {
    emails: opts.emails ?? [`team-${seq}@acme.example`],
    resumeBotOnResolve: true,
    intercomInbox: true,
    hours: always,
  };
  const escalations = new TenantEscalations({
    sql: db.sql,
    events,
    queue,
    log,
    settings: async () => settings,
    mailer: true,
  });
  const sender = new NotificationSender({
    sql: db.sql,
    queue,
    log,
    secrets,
    slack: slackWebhookPoster(),
    mailer,
    maxAttempts: opts.maxAttempts ?? 5,
    businessName: async () => "Acme Plumbing",
    link: (t, id) => `https://switchboard.example.com/api/v1/admin/tenants/${t}/escalations/${id}`,
  });
  /** Runs the notification tasks queued so far (not their later retries: those wait for their time). */
  const work = async () => {
    const due = queue.tasks.splice(0).filter((t) => t.kind === "notification" && !t.notBefore);
    const outcomes: string[] = [];
    for (const task of due) outcomes.push(await sender.run(task.id, task.tenantId));
    return outcomes;
  };
  return { escalations, sender, events, queue, logs, work, webhookUrl, settings, mailer };
}

const rows = (escalationId: string) =>
  inspect<{ kind: string; status: string; attempts: number; lastError: string | null }[]>`
    select kind, status, attempts, last_error from notifications where escalation_id = ${escalationId} order by kind`;

/** Makes the escalation's pending notifications due now (their backoff passed). */
const timePasses = (escalationId: string) =>
  inspect`update notifications set next_attempt_at = now() where escalation_id = ${escalationId} and status = 'pending'`;

const mailTo = (address: string) => smtp.messages.filter((m) => m.to.includes(address));

describe("a voice caller who asks for someone", () => {
  test("is escalated: the team gets the e-mail and the Slack post, and escalation.created is recorded", async () => {
    const { escalations, work, events, settings, logs, webhookUrl } = await team(tenantA);
    const opened = await inTenant(tenantA, () =>
      escalations.open({
        channel: "voice",
        conversationId: "v3:call-control-1",
        contactId: null,
        reason: "customer_request",
        summary: "Caller's boiler is leaking; wants a plumber today.",
      }),
    );
    expect(opened.notice).toBe("Thanks. A person from our team will call you back shortly.");
    expect(events.recorded).toMatchObject([{ type: "escalation.created", data: { channel: "voice" } }]);
    expect((await work()).sort()).toEqual(["sent", "sent"]);
    const [mail] = mailTo(settings.emails[0] as string);
    expect(mail?.from).toBe("escalations@notify.example.com");
    expect(mail?.subject).toBe("[Acme Plumbing] A customer is waiting for a person (voice)");
    expect(mail?.text).toContain("Summary: Caller's boiler is leaking; wants a plumber today.");
    expect(mail?.text).toContain(`/api/v1/admin/tenants/${tenantA}/escalations/${opened.id}`);
    const post = slack.posts.find((p) => webhookUrl.endsWith(p.path));
    expect(post?.text).toBe("A voice customer of Acme Plumbing is waiting for a person (customer request)");
    expect(await rows(opened.id)).toEqual([
      { kind: "email", status: "sent", attempts: 1, lastError: null },
      { kind: "slack", status: "sent", attempts: 1, lastError: null },
    ]);
    // The webhook URL is a credential: never in a log line.
    expect(logs.raw.join("\n")).not.toContain(webhookUrl.split("/services/")[1]);
    expect(logs.events(NOTIFICATION_EVENT).map((l) => [l.kind, l.outcome])).toEqual(
      expect.arrayContaining([
        ["email", "sent"],
        ["slack", "sent"],
      ]),
    );
  });
});

describe("a texting customer who asks for a person", () => {
  test("the pipeline's handoff opens the escalation, texts the notice, and the team is told", async () => {
    const t = await team(tenantA);
    const world = smsWorld(db, tenantA, { number: "+12125550199", escalations: t.escalations });
    await world.text("+14155550142", "I need a person please");
    expect(await world.work()).toEqual(["handoff"]);
    expect(world.client.sent.map((s) => s.text)).toEqual([
      "Acme: Thanks. A person from our team will text you back here as soon as they can.",
    ]);
    const [escalation] = await inspect<
      { id: string; channel: string; contactId: string | null; reason: string }[]
    >`
      select id, channel, contact_id, reason from escalations
      where tenant_id = ${tenantA} and conversation_id = '+14155550142'`;
    expect(escalation).toMatchObject({ channel: "sms", reason: "customer_request" });
    expect(escalation?.contactId).not.toBeNull();
    expect(t.events.types()).toEqual(["escalation.created"]);
    expect((await t.work()).sort()).toEqual(["sent", "sent"]);
    expect(mailTo(t.settings.emails[0] as string)[0]?.subject).toContain("(sms)");
    // The bot stays out of the conversation after the handoff.
    await world.text("+14155550142", "hello?");
    expect(await world.work()).toEqual(["skipped"]);
    expect(world.engine.turns).toHaveLength(0);
    // Erasing the customer erases their escalation and its notifications.
    const { counts } = await inTenant(tenantA, () =>
      eraseSubject(
        db.sql,
        { identityIds: [], contactId: null, phone: "+14155550142" },
        { actor: "test", requestId: "req-esc", subjectRef: "ref-esc", deletedUpstream: false },
      ),
    );
    expect(counts.escalations).toBe(1);
    expect(await inspect`select 1 from escalations where id = ${escalation?.id as string}`).toHaveLength(0);
    expect(
      await inspect`select 1 from notifications where escalation_id = ${escalation?.id as string}`,
    ).toHaveLength(0);
  });
});

describe("when Slack is down", () => {
  test("the post is retried with backoff and sent when Slack is back; the escalation and the e-mail are intact", async () => {
    const t = await team(tenantA);
    slack.failNext(2);
    const opened = await inTenant(tenantA, () =>
      t.escalations.open({
        channel: "web",
        conversationId: `s-${++seq}`,
        contactId: null,
        reason: "topic",
        summary: null,
      }),
    );
    expect((await t.work()).sort()).toEqual(["retry", "sent"]);
    expect(await rows(opened.id)).toEqual([
      { kind: "email", status: "sent", attempts: 1, lastError: null },
      { kind: "slack", status: "pending", attempts: 1, lastError: "Slack webhook answered 500" },
    ]);
    // The retry is asked of the queue for later, with backoff.
    const retry = t.queue.tasks.find((task) => task.notBefore);
    expect(retry?.notBefore?.getTime()).toBeGreaterThan(Date.now() + 20_000);
    // Before its time, a task does nothing.
    expect(await t.sender.run(retry?.id as string, tenantA)).toBe("noop");
    await timePasses(opened.id);
    expect(await t.sender.run(retry?.id as string, tenantA)).toBe("retry");
    // The retry's task is lost: the sweep finds the due row and dispatches it again.
    t.queue.tasks.splice(0);
    await timePasses(opened.id);
    expect(await t.sender.sweep().run()).toMatchObject({ dispatched: 1 });
    expect(await t.work()).toEqual(["sent"]);
    expect(await rows(opened.id)).toEqual([
      { kind: "email", status: "sent", attempts: 1, lastError: null },
      { kind: "slack", status: "sent", attempts: 3, lastError: null },
    ]);
    expect(slack.posts.filter((p) => t.webhookUrl.endsWith(p.path))).toHaveLength(1);
    const [escalation] = await inspect<
      { status: string }[]
    >`select status from escalations where id = ${opened.id}`;
    expect(escalation?.status).toBe("open");
  });

  test("after the last attempt the notification is failed with its error; nothing is logged of the URL", async () => {
    const t = await team(tenantA, { maxAttempts: 2 });
    slack.failNext(5);
    const opened = await inTenant(tenantA, () =>
      t.escalations.open({
        channel: "web",
        conversationId: `s-${++seq}`,
        contactId: null,
        reason: "topic",
        summary: null,
      }),
    );
    await t.work();
    await timePasses(opened.id);
    await t.sender.sweep().run();
    await t.work();
    slack.failNext(0);
    expect((await rows(opened.id)).find((r) => r.kind === "slack")).toEqual({
      kind: "slack",
      status: "failed",
      attempts: 2,
      lastError: "Slack webhook answered 500",
    });
    const failed = t.logs.events(NOTIFICATION_EVENT).filter((l) => l.outcome === "failed");
    expect(failed).toMatchObject([{ kind: "slack", attempts: 2, reason: "Slack webhook answered 500" }]);
    expect(t.logs.raw.join("\n")).not.toContain(t.webhookUrl.split("/services/")[1]);
    // Given up: the sweep no longer picks it.
    await timePasses(opened.id);
    expect(await t.sender.sweep().run()).toMatchObject({ dispatched: 0 });
  });

  test("an SMTP relay that refuses is retried like Slack", async () => {
    const t = await team(tenantA);
    smtp.refuseNext(1);
    const opened = await inTenant(tenantA, () =>
      t.escalations.open({
        channel: "web",
        conversationId: `s-${++seq}`,
        contactId: null,
        reason: "topic",
        summary: null,
      }),
    );
    await t.work();
    const email = (await rows(opened.id)).find((r) => r.kind === "email");
    expect(email).toMatchObject({ status: "pending", attempts: 1 });
    expect(email?.lastError).toContain("451");
    await timePasses(opened.id);
    await t.sender.sweep().run();
    await t.work();
    expect((await rows(opened.id)).find((r) => r.kind === "email")).toMatchObject({
      status: "sent",
      attempts: 2,
    });
    expect(mailTo(t.settings.emails[0] as string)).toHaveLength(1);
  });
});

describe("the sweep across tenants", () => {
  test("finds due rows of every tenant, each named with its own tenant", async () => {
    const a = await team(tenantA);
    const b = await team(tenantB);
    slack.failNext(0);
    const ea = await inTenant(tenantA, () =>
      a.escalations.open({
        channel: "web",
        conversationId: `s-${++seq}`,
        contactId: null,
        reason: "x",
        summary: null,
      }),
    );
    const eb = await inTenant(tenantB, () =>
      b.escalations.open({
        channel: "web",
        conversationId: `s-${++seq}`,
        contactId: null,
        reason: "x",
        summary: null,
      }),
    );
    const due = await dueNotifications(db.sql, 1000);
    const ids = async (e: string) =>
      (await inspect<{ id: string }[]>`select id::text from notifications where escalation_id = ${e}`).map(
        (r) => r.id,
      );
    const ofA = await ids(ea.id);
    const ofB = await ids(eb.id);
    expect(due.filter((d) => ofA.includes(d.id)).map((d) => d.tenantId)).toEqual([tenantA, tenantA]);
    expect(due.filter((d) => ofB.includes(d.id)).map((d) => d.tenantId)).toEqual([tenantB, tenantB]);
    // A task naming the wrong tenant finds nothing (row-level security), and sends nothing.
    expect(await a.sender.run(ofB[0] as string, tenantA)).toBe("noop");
    await a.work();
    await b.work();
  });
});

describe("a tenant's webhook endpoint disabled by its circuit", () => {
  test("is told to the team by e-mail and Slack, with its host and how to turn it back on", async () => {
    const t = await team(tenantA);
    await inTenant(tenantA, () =>
      t.escalations.notifyTeam("endpoint.disabled", {
        endpointId: "0b5f6b1e-4d0c-4f33-9a1f-0a0a0a0a0a0a",
        host: "hooks.zapier.com",
        reason: "failing for more than 24 h",
      }),
    );
    expect(await t.work()).toEqual(["sent", "sent"]);
    const [mail] = mailTo(t.settings.emails[0] as string);
    expect(mail?.subject).toBe("[Acme Plumbing] A webhook endpoint was disabled (hooks.zapier.com)");
    expect(mail?.text).toContain("failing for more than 24 h");
    expect(mail?.text).toContain("re-enable");
    const post = slack.posts.find((p) => t.webhookUrl.endsWith(p.path));
    expect(post?.text).toContain("hooks.zapier.com was disabled");
  });
});
