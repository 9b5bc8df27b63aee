import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "../emulators/intercom";
import { type AdminService, adminSuite, asKey, type Body, createTenant, json } from "./admin-helpers";
import { eventually, raw } from "./helpers";

/**
 * A tenant's own Intercom app (issue 12): connected through the admin API, its webhooks arrive on the
 * connection's path, are verified with its client secret, recorded in its tenant, answered from its
 * knowledge and sent with its access token. The env-configured app stays the default tenant's.
 */

const ENV_SECRET = "env-intercom-client-secret";
const B = { secret: "bravo-client-secret-5e1f", token: "bravo-access-token-77aa", appId: "bravo-app" };
const A = { secret: "alpha-client-secret-0b3c", token: "alpha-access-token-19cd", appId: "alpha-app" };

let intercom: IntercomEmulator;
let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let tenantB: Body;
let connectionB: Body;
let connectionA: Body;

const channels = (tenant: Body) => `/api/v1/admin/tenants/${tenant.id}/channels`;

async function connect(tenant: Body, app: typeof A, extra: Body = {}) {
  intercom.acceptToken(app.token);
  const body = { kind: "intercom", appId: app.appId, clientSecret: app.secret, accessToken: app.token };
  const res = await svc.call("POST", channels(tenant), { ...body, ...extra }, asKey);
  if (res.status !== 201) throw new Error(`connect: ${res.status} ${await res.text()}`);
  return json(res);
}

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  ({ db, svc, stop } = await adminSuite({
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_BASE: intercom.url,
    INTERCOM_WEBHOOK_SECRET: ENV_SECRET,
    POLLING_INTERVAL: "0",
  }));
  tenantB = await createTenant(svc, "icom-bravo");
  const doc = { title: "Hours", body: "The bravo shop opens at 6am sharp." };
  await svc.call("PUT", `/api/v1/admin/tenants/${tenantB.id}/knowledge/hours`, doc, asKey);
  connectionB = await connect(tenantB, B, { adminId: intercom.botAdmin.id });
  // Alpha names no bot admin: it is read from Intercom with alpha's token (GET /me).
  connectionA = await connect(await createTenant(svc, "icom-alpha"), A);
});
afterAll(async () => {
  await stop?.();
  await intercom?.close();
});

function deliver(
  path: string,
  secret: string,
  conversationId: string,
  opts: { id?: string; appId?: string } = {},
) {
  const n = signedNotification(secret, "conversation.user.created", intercom.webhookItem(conversationId), {
    appId: opts.appId ?? B.appId,
    ...(opts.id ? { id: opts.id } : {}),
  });
  return { n, send: () => fetch(`${svc.url}${path}`, { method: "POST", headers: n.headers, body: n.body }) };
}

const pathOf = (connection: Body) => `/webhooks/intercom/${connection.id}`;
const botReplies = (id: string) => intercom.replies(id).filter((p) => p.author.id === intercom.botAdmin.id);
const replyCalls = (conversationId: string) =>
  intercom.requests.filter((r) => r.method === "POST" && r.path === `/conversations/${conversationId}/reply`);
const stored = async () =>
  (
    await raw(db)`select (select count(*)::int from webhook_deliveries) as deliveries,
                         (select count(*)::int from outbox) as outbox`
  )[0];

describe("a tenant's own Intercom app", () => {
  test("its channel answer names the webhook path to paste into Intercom", () => {
    expect(connectionB.webhookUrl).toBe(`/webhooks/intercom/${connectionB.id}`);
  });

  test("a signed webhook on its path is answered from its knowledge, with its token, in its tenant", async () => {
    const conv = intercom.createConversation({ body: "When does the shop open?" });
    const { n, send } = deliver(pathOf(connectionB), B.secret, conv.id);
    const res = await send();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "accepted", queued: 1 });
    const replies = await eventually(
      () => botReplies(conv.id),
      (r) => r.length > 0,
    );
    expect(replies).toHaveLength(1);
    expect(replies[0]?.body).toContain("6am");
    expect(replyCalls(conv.id).map((r) => r.headers.authorization)).toEqual([`Bearer ${B.token}`]);
    const rows = await raw(db)`
      select 'outbox' as t, tenant_id from outbox where conversation_id = ${conv.id}
      union all select 'session', tenant_id from sessions where external_ref = ${conv.id}`;
    expect(rows.map((r) => r.tenantId)).toEqual([tenantB.id, tenantB.id]);
    // Deduplicated per connection: another tenant's notification of the same id cannot shadow it.
    const [delivery] = await raw(db)`select notification_id from webhook_deliveries
      where notification_id like ${`%${n.id}`}`;
    expect(delivery?.notificationId).toBe(`${connectionB.id}:${n.id}`);
    // Reading the tenant's credentials is on its audit log: which, never their values.
    const reads = await raw(db)<{ tenantId: string; summary: { credential: string } }[]>`
      select tenant_id, summary from audit_log where action = 'credential.read' and target = ${connectionB.id}`;
    expect(reads.map((r) => r.tenantId)).toEqual([tenantB.id, tenantB.id]);
    expect(reads.map((r) => r.summary.credential).sort()).toEqual(["accessToken", "clientSecret"]);
    expect(JSON.stringify(reads)).not.toContain(B.secret);
    expect(JSON.stringify(reads)).not.toContain(B.token);
  });

  test("a retried delivery is answered once", async () => {
    const conv = intercom.createConversation({ body: "When does the shop open?" });
    const { send } = deliver(pathOf(connectionB), B.secret, conv.id);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(((await (await send()).json()) as Body).status);
    expect(statuses).toEqual(["accepted", "duplicate", "duplicate"]);
    await eventually(
      () => botReplies(conv.id),
      (r) => r.length > 0,
    );
    await eventually(
      async () => (await raw(db)`select count(*)::int as n from outbox where status = 'pending'`)[0]?.n,
      (pending) => pending === 0,
    );
    expect(botReplies(conv.id)).toHaveLength(1);
  });

  test("another secret on its path (the env app's, another tenant's) is refused and nothing is stored", async () => {
    const conv = intercom.createConversation({ body: "Hello?" });
    const before = await stored();
    for (const secret of [ENV_SECRET, A.secret, "not-a-secret"]) {
      const res = await deliver(pathOf(connectionB), secret, conv.id).send();
      expect(res.status).toBe(401);
      expect(((await res.json()) as Body).error.code).toBe("invalid_signature");
    }
    // B's secret on the default tenant's path is no better.
    expect((await deliver("/webhooks/intercom", B.secret, conv.id).send()).status).toBe(401);
    expect(await stored()).toEqual(before);
    expect(botReplies(conv.id)).toHaveLength(0);
  });

  test("a notification of another app, though signed with its secret, is refused (400), nothing stored", async () => {
    const conv = intercom.createConversation({ body: "Hello?" });
    const before = await stored();
    const res = await deliver(pathOf(connectionB), B.secret, conv.id, { appId: A.appId }).send();
    expect(res.status).toBe(400);
    expect(((await res.json()) as Body).error.code).toBe("validation_failed");
    expect(await stored()).toEqual(before);
  });

  test("the default tenant suspended: its env-configured app's messages finish unanswered, then answer again", async () => {
    const tenant = `/api/v1/admin/tenants/${DEFAULT_TENANT_ID}`;
    await svc.call("PATCH", tenant, { status: "suspended" }, asKey);
    try {
      const conv = intercom.createConversation({ body: "Anyone there?" });
      const res = await deliver("/webhooks/intercom", ENV_SECRET, conv.id).send();
      expect(res.status).toBe(200);
      const row = await eventually(
        async () => (await raw(db)`select status, outcome from outbox where conversation_id = ${conv.id}`)[0],
        (r) => r?.status !== "pending",
      );
      expect(row).toMatchObject({ status: "skipped", outcome: "tenant_suspended" });
      expect(botReplies(conv.id)).toEqual([]);
    } finally {
      await svc.call("PATCH", tenant, { status: "active" }, asKey);
    }
    const again = intercom.createConversation({ body: "Anyone there now?" });
    expect((await deliver("/webhooks/intercom", ENV_SECRET, again.id).send()).status).toBe(200);
    await eventually(
      () => botReplies(again.id),
      (r) => r.length > 0,
    );
  });

  test("an unknown connection, or a suspended tenant's, answers as a bad signature", async () => {
    const conv = intercom.createConversation({ body: "Hello?" });
    const before = await stored();
    const unknown = await deliver(`/webhooks/intercom/${randomUUID()}`, B.secret, conv.id).send();
    expect(unknown.status).toBe(401);
    const suspended = await createTenant(svc, "icom-suspended");
    const app = { secret: "s-secret-3", token: "s-token-3", appId: "s-app" };
    const connection = await connect(suspended, app, { adminId: intercom.botAdmin.id });
    await svc.call("PATCH", `/api/v1/admin/tenants/${suspended.id}`, { status: "suspended" }, asKey);
    const res = await deliver(pathOf(connection), app.secret, conv.id, { appId: app.appId }).send();
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_signature" } });
    expect(await stored()).toEqual(before);
  });

  test("a tenant without a bot admin id replies as its token's owner (GET /me with its token)", async () => {
    const conv = intercom.createConversation({ body: "When does the shop open?" });
    const res = await deliver(pathOf(connectionA), A.secret, conv.id, { appId: A.appId }).send();
    expect(res.status).toBe(200);
    await eventually(
      () => botReplies(conv.id),
      (r) => r.length > 0,
    );
    expect(replyCalls(conv.id).map((r) => r.headers.authorization)).toEqual([`Bearer ${A.token}`]);
    const me = intercom.requests.filter((r) => r.path === "/me").map((r) => r.headers.authorization);
    expect(me).toContain(`Bearer ${A.token}`);
  });

  test("a deleted connection's queued rows are skipped, not retried forever", async () => {
    const tenant = await createTenant(svc, "icom-deleted");
    const app = { secret: "d-secret-4", token: "d-token-4", appId: "d-app" };
    const connection = await connect(tenant, app, { adminId: intercom.botAdmin.id });
    const conv = intercom.createConversation({ body: "Anyone there?" });
    // The first attempt fails (Intercom answers 500), so the row waits for its retry.
    intercom.failNext({ status: 500, pathIncludes: `/conversations/${conv.id}` });
    const res = await deliver(pathOf(connection), app.secret, conv.id, { appId: app.appId }).send();
    expect(res.status).toBe(200);
    await eventually(
      async () =>
        (await raw(db)`select attempts from outbox where conversation_id = ${conv.id}`)[0]?.attempts,
      (attempts) => attempts === 1,
    );
    const deleted = await svc.call("DELETE", `${channels(tenant)}/${connection.id}`, undefined, asKey);
    expect(deleted.status).toBe(204);
    const [row] = await eventually(
      () => raw(db)`select status, outcome, tenant_id from outbox where conversation_id = ${conv.id}`,
      (rows) => rows[0]?.status !== "pending",
    );
    expect(row).toEqual({ status: "skipped", outcome: "channel_not_connected", tenantId: tenant.id });
    expect(botReplies(conv.id)).toHaveLength(0);
    // Its path is now unknown.
    expect((await deliver(pathOf(connection), app.secret, conv.id, { appId: app.appId }).send()).status).toBe(
      401,
    );
  });
});
