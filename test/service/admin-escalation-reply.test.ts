import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { auditRows, type Body, createTenant, json } from "./admin-helpers";
import { consoleHeaders, consoleLogin } from "./console-helpers";
import { type SmsWorld, startSmsWorld } from "./escalation-sms-world";
import { eventually, raw } from "./helpers";

/**
 * A person answers an escalated conversation (POST …/escalations/{id}/reply): the text reaches the customer
 * through the tenant's own channel (Twilio, the official client against the emulator) exactly once per
 * replyId, joins the conversation as an `agent` message, and is audited without its words.
 */

let world: SmsWorld;
beforeAll(async () => {
  world = await startSmsWorld("esc-reply");
});
afterAll(async () => {
  await world?.stop();
});

const replyPath = (tenantId: string, escalationId: string) =>
  `/api/v1/admin/tenants/${tenantId}/escalations/${escalationId}/reply`;
const sentTo = (phone: string) => world.twilio.sent.filter((m) => m.to === phone);

async function escalated(phone: string) {
  await world.text(phone, "Can I talk to a person please?");
  return world.escalationOf(phone);
}

async function reply(
  login: Awaited<ReturnType<typeof consoleLogin>>,
  tenantId: string,
  id: string,
  body: Body,
) {
  return world.svc.call("POST", replyPath(tenantId, id), body, consoleHeaders(login));
}

describe("answering an escalated SMS conversation", () => {
  test("the agent's text reaches the customer once, claims the escalation and joins the conversation", async () => {
    const phone = "+15557650101";
    const escalation = await escalated(phone);
    const handoffTexts = await eventually(
      () => sentTo(phone),
      (s) => s.length === 1,
    );
    expect(handoffTexts).toHaveLength(1);
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const body = { text: "Hi, Sam from Acme here: your order ships today.", replyId: randomUUID() };

    const first = await reply(agent, world.tenant.id, escalation.id, body);
    expect(first.status).toBe(200);
    expect(await json(first)).toMatchObject({ status: "sent", duplicate: false, channel: "sms" });
    const again = await reply(agent, world.tenant.id, escalation.id, body);
    expect(await json(again)).toMatchObject({ status: "sent", duplicate: true });

    const texts = sentTo(phone);
    expect(texts.map((t) => t.body)).toEqual([expect.any(String), body.text]);
    expect(texts[1]?.from).toBe("+15550100071");
    const [row] = await raw(world.db)`select status, claimed_by from escalations where id = ${escalation.id}`;
    expect(row).toMatchObject({ status: "claimed", claimedBy: agent.email });
    const messages = await raw(world.db)`
      select m.role, m.content from messages m join sessions s on s.id = m.session_id
      where s.channel = 'sms' and s.external_ref = ${phone} order by m.id`;
    expect(messages.at(-1)).toMatchObject({ role: "agent", content: body.text });
    const audits = (await auditRows(world.db, "escalation.replied")).filter(
      (a) => a.target === escalation.id,
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor: agent.email, role: "agent" });
    expect(JSON.stringify(audits[0]?.summary)).not.toContain("ships today");
  });

  test("the next text of the customer is not answered by the bot while the agent has it", async () => {
    const phone = "+15557650102";
    const escalation = await escalated(phone);
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    await reply(agent, world.tenant.id, escalation.id, { text: "I'm on it.", replyId: randomUUID() });
    const before = sentTo(phone).length;
    await world.text(phone, "Thanks! When do you open?");
    await eventually(
      () => raw(world.db)`select 1 from outbox where conversation_id = ${phone} and status = 'pending'`,
      (rows) => rows.length === 0,
    );
    expect(sentTo(phone)).toHaveLength(before);
  });

  test("another agent cannot answer a claimed escalation; a tenant admin can", async () => {
    const phone = "+15557650103";
    const escalation = await escalated(phone);
    const owner = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const other = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const admin = await consoleLogin(world.db, { role: "tenant_admin", tenantId: world.tenant.id });
    expect(
      (await reply(owner, world.tenant.id, escalation.id, { text: "Mine", replyId: randomUUID() })).status,
    ).toBe(200);
    const refused = await reply(other, world.tenant.id, escalation.id, {
      text: "Also me",
      replyId: randomUUID(),
    });
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.code).toBe("escalation_claimed");
    const byAdmin = await reply(admin, world.tenant.id, escalation.id, {
      text: "Admin here",
      replyId: randomUUID(),
    });
    expect(byAdmin.status).toBe(200);
    expect(sentTo(phone).map((t) => t.body)).not.toContain("Also me");
    expect(sentTo(phone).map((t) => t.body)).toContain("Admin here");
  });

  test("a resolved escalation is 409; without the CSRF token nothing is sent", async () => {
    const phone = "+15557650104";
    const escalation = await escalated(phone);
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const noCsrf = await world.svc.call(
      "POST",
      replyPath(world.tenant.id, escalation.id),
      { text: "sneaky", replyId: randomUUID() },
      consoleHeaders(agent, { csrf: false }),
    );
    expect(noCsrf.status).toBe(403);
    const resolved = await world.svc.call(
      "POST",
      `/api/v1/admin/tenants/${world.tenant.id}/escalations/${escalation.id}/resolve`,
      undefined,
      consoleHeaders(agent),
    );
    expect(resolved.status).toBe(200);
    const late = await reply(agent, world.tenant.id, escalation.id, { text: "late", replyId: randomUUID() });
    expect(late.status).toBe(409);
    expect((await json(late)).error.code).toBe("escalation_resolved");
    expect(sentTo(phone).map((t) => t.body)).not.toContain("sneaky");
    expect(sentTo(phone).map((t) => t.body)).not.toContain("late");
  });

  test("another tenant's person gets 404 and bad input is a 400 in the error shape", async () => {
    const phone = "+15557650105";
    const escalation = await escalated(phone);
    const other = await createTenant(world.svc, "esc-reply-other", "Other");
    const stranger = await consoleLogin(world.db, { role: "tenant_admin", tenantId: other.id });
    const viaOwnTenant = await reply(stranger, other.id, escalation.id, {
      text: "hi",
      replyId: randomUUID(),
    });
    expect(viaOwnTenant.status).toBe(404);
    const viaTheirs = await reply(stranger, world.tenant.id, escalation.id, {
      text: "hi",
      replyId: randomUUID(),
    });
    expect(viaTheirs.status).toBe(404);
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const bad = await reply(agent, world.tenant.id, escalation.id, { text: "  ", replyId: "nope" });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({
      code: expect.any(String),
      requestId: expect.any(String),
    });
    expect(sentTo(phone).map((t) => t.body)).not.toContain("hi");
  });
});

describe("when the provider refuses", () => {
  test("a refusal sends nothing and the same replyId may try again, then sends once", async () => {
    const phone = "+15557650106";
    const escalation = await escalated(phone);
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    // The handoff notice went out first, so the fault below is the reply's.
    await eventually(
      () => sentTo(phone),
      (t) => t.length === 1,
    );
    const body = { text: "Sorry for the wait: it is sorted.", replyId: randomUUID() };
    world.twilio.failNext({ status: 500, times: 10 });
    const refused = await reply(agent, world.tenant.id, escalation.id, body);
    expect(refused.status).toBe(502);
    expect((await json(refused)).error.code).toBe("upstream_refused");
    world.twilio.reset();
    const retried = await reply(agent, world.tenant.id, escalation.id, body);
    expect(await json(retried)).toMatchObject({ status: "sent", duplicate: false });
    expect(sentTo(phone).filter((t) => t.body === body.text)).toHaveLength(1);
  });

  test("a customer who opted out gets nothing; the reply says why", async () => {
    const phone = "+15557650107";
    const escalation = await escalated(phone);
    world.twilio.optOut(phone);
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const res = await reply(agent, world.tenant.id, escalation.id, { text: "Hello?", replyId: randomUUID() });
    expect(await json(res)).toMatchObject({ status: "failed", outcome: "opted_out" });
    expect(sentTo(phone).map((t) => t.body)).not.toContain("Hello?");
  });
});

describe("answering other channels", () => {
  test("a web chat's answer is stored in its session for the widget's next read", async () => {
    const sessionId = randomUUID();
    await raw(world.db)`
      insert into sessions (id, identity_id, channel, tenant_id) values (${sessionId}, 'anon:w1', 'web', ${world.tenant.id})`;
    const [esc] = await raw(world.db)<{ id: string }[]>`
      insert into escalations (tenant_id, channel, conversation_id, session_id, reason, summary)
      values (${world.tenant.id}, 'web', ${sessionId}, ${sessionId}, 'customer_request', 'wants a person')
      returning id::text`;
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const res = await reply(agent, world.tenant.id, esc?.id as string, {
      text: "Hello from Sam",
      replyId: randomUUID(),
    });
    expect(await json(res)).toMatchObject({ status: "sent", channel: "web" });
    const rows = await raw(world.db)`select role, content from messages where session_id = ${sessionId}`;
    expect(rows).toEqual([{ role: "agent", content: "Hello from Sam" }]);
  });

  test("a phone call cannot be answered in writing", async () => {
    const [esc] = await raw(world.db)<{ id: string }[]>`
      insert into escalations (tenant_id, channel, conversation_id, reason)
      values (${world.tenant.id}, 'voice', 'call-1', 'customer_request') returning id::text`;
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const res = await reply(agent, world.tenant.id, esc?.id as string, { text: "hi", replyId: randomUUID() });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("channel_not_answerable");
  });

  test("an e-mail is no longer refused: without the tenant's mailbox it fails with why, nothing sent", async () => {
    const [esc] = await raw(world.db)<{ id: string }[]>`
      insert into escalations (tenant_id, channel, conversation_id, reason)
      values (${world.tenant.id}, 'email', 'conn:thread-1', 'customer_request') returning id::text`;
    const agent = await consoleLogin(world.db, { role: "agent", tenantId: world.tenant.id });
    const res = await reply(agent, world.tenant.id, esc?.id as string, { text: "hi", replyId: randomUUID() });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      channel: "email",
      status: "failed",
      outcome: "channel_not_connected",
    });
  });
});
