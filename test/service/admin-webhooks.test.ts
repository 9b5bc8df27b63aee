import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { startWebhookReceiver, type WebhookReceiver } from "../emulators/webhook-receiver";
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
 * The admin API of signed webhooks out, on the real service (its in-process task queue delivers): an
 * endpoint registered with a `whsec_` secret shown once, a test event the receiver verifies with the
 * `standardwebhooks` package, the delivery log and its replay, secret rotation, and bad input refused.
 */

let db: Database;
let drop: () => Promise<void>;
let svc: AdminService;
let receiver: WebhookReceiver;
let tenantId: string;
let admin: Record<string, string>;
const T = "/api/v1/admin/tenants";

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startAdminService(db);
  receiver = await startWebhookReceiver();
  tenantId = (await createTenant(svc, "hooks", "Hooks")).id;
  admin = await asUser({ sub: "hooks-admin", role: "tenant_admin", tenant: tenantId });
}, 60_000);
afterAll(async () => {
  await svc?.close();
  await receiver?.close();
  await drop?.();
});

const endpoints = () => `${T}/${tenantId}/webhook-endpoints`;

async function register(
  path: string,
  events = ["lead.created"],
): Promise<{ endpoint: Body; secret: string }> {
  const res = await svc.call(
    "POST",
    endpoints(),
    { url: `${receiver.url}${path}`, events, description: "CRM" },
    admin,
  );
  expect(res.status).toBe(201);
  const body = await json(res);
  receiver.expect(path, body.secret);
  return { endpoint: body.endpoint, secret: body.secret };
}

const receivedAt = (path: string, n: number) =>
  eventually(
    () => receiver.received.filter((r) => r.path === path),
    (got) => got.length >= n,
  );

describe("an endpoint", () => {
  test("is registered with a whsec_ secret shown once and kept only in the secret store", async () => {
    const { endpoint, secret } = await register("/crm");
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(endpoint).toMatchObject({
      url: `${receiver.url}/crm`,
      events: ["lead.created"],
      status: "enabled",
    });
    const listed = await json(await svc.call("GET", endpoints(), undefined, admin));
    expect(listed.endpoints.map((e: Body) => e.id)).toContain(endpoint.id);
    expect(JSON.stringify(listed)).not.toContain(secret);
    const one = await json(await svc.call("GET", `${endpoints()}/${endpoint.id}`, undefined, admin));
    expect(JSON.stringify(one)).not.toContain(secret.slice(6));
    const everything = await raw(db).unsafe("select row_to_json(w)::text as r from webhook_endpoints w");
    expect(JSON.stringify(everything)).not.toContain(secret.slice(6));
    const [audit] = (await auditRows(db, "webhook_endpoint.created")).filter((r) => r.target === endpoint.id);
    expect(audit?.summary).toEqual({ host: new URL(receiver.url).host, events: ["lead.created"] });
  });

  test("gets a signed test event; the log shows it, and a replay sends it again with the same webhook-id", async () => {
    const { endpoint } = await register("/log");
    const sent = await svc.call("POST", `${endpoints()}/${endpoint.id}/test`, undefined, admin);
    expect(sent.status).toBe(202);
    const { webhookId, deliveryId } = await json(sent);
    const [first] = await receivedAt("/log", 1);
    expect(first).toMatchObject({ id: webhookId, type: "webhook.test" });

    const log = await eventually(
      async () => json(await svc.call("GET", `${endpoints()}/${endpoint.id}/deliveries`, undefined, admin)),
      (b) => b.deliveries[0]?.status === "delivered",
    );
    expect(log.deliveries[0]).toMatchObject({
      id: deliveryId,
      webhookId,
      eventType: "webhook.test",
      attempts: 1,
    });
    expect(log.deliveries[0].attemptLog).toEqual([expect.objectContaining({ statusCode: 204, error: null })]);

    const replay = await svc.call(
      "POST",
      `${endpoints()}/${endpoint.id}/deliveries/${deliveryId}/replay`,
      undefined,
      admin,
    );
    expect(replay.status).toBe(202);
    const got = await receivedAt("/log", 2);
    expect(got[1]?.id).toBe(webhookId);
    expect((await auditRows(db, "webhook_delivery.replayed")).map((r) => r.target)).toContain(deliveryId);
  });

  test("pages its delivery log newest first", async () => {
    const { endpoint } = await register("/pages");
    for (let i = 0; i < 3; i++)
      await svc.call("POST", `${endpoints()}/${endpoint.id}/test`, undefined, admin);
    await receivedAt("/pages", 3);
    const seen: string[] = [];
    let before: string | null = null;
    do {
      const q: string = before ? `?limit=2&before=${before}` : "?limit=2";
      const page = await json(
        await svc.call("GET", `${endpoints()}/${endpoint.id}/deliveries${q}`, undefined, admin),
      );
      seen.push(...page.deliveries.map((d: Body) => d.id));
      before = page.nextBefore;
    } while (before);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
  });

  test("signs with its new secret once rotated; the old one no longer verifies", async () => {
    const { endpoint, secret: old } = await register("/rotate");
    const res = await svc.call("POST", `${endpoints()}/${endpoint.id}/rotate-secret`, undefined, admin);
    expect(res.status).toBe(200);
    const { secret } = await json(res);
    expect(secret).not.toBe(old);
    // The receiver still verifies with the old secret: the delivery is refused.
    await svc.call("POST", `${endpoints()}/${endpoint.id}/test`, undefined, admin);
    await eventually(
      () => receiver.rejected.filter((r) => r.path === "/rotate"),
      (r) => r.length === 1,
    );
    receiver.expect("/rotate", secret);
    await svc.call("POST", `${endpoints()}/${endpoint.id}/test`, undefined, admin);
    await receivedAt("/rotate", 1);
  });

  test("is updated, disabled deliveries are refused a replay, and it is deleted", async () => {
    const { endpoint } = await register("/change");
    const patched = await svc.call(
      "PATCH",
      `${endpoints()}/${endpoint.id}`,
      { events: ["lead.updated", "call.completed"], description: null },
      admin,
    );
    expect(await json(patched)).toMatchObject({
      events: ["lead.updated", "call.completed"],
      description: null,
    });
    await raw(db).unsafe("update webhook_endpoints set status = 'disabled' where id = $1", [endpoint.id]);
    const test = await svc.call("POST", `${endpoints()}/${endpoint.id}/test`, undefined, admin);
    expect(test.status).toBe(409);
    const enabled = await svc.call("PATCH", `${endpoints()}/${endpoint.id}`, { enabled: true }, admin);
    expect((await json(enabled)).status).toBe("enabled");
    expect((await svc.call("DELETE", `${endpoints()}/${endpoint.id}`, undefined, admin)).status).toBe(204);
    expect((await svc.call("GET", `${endpoints()}/${endpoint.id}`, undefined, admin)).status).toBe(404);
  });
});

describe("an endpoint enabled again", () => {
  test("sends what it kept while disabled at once, not at its next retry hours later", async () => {
    const path = "/kept";
    const res = await svc.call(
      "POST",
      endpoints(),
      { url: `${receiver.url}${path}`, events: ["lead.created"] },
      admin,
    );
    const { endpoint, secret } = await json(res);
    // The receiver does not know the secret yet: the test event is refused and waits for its retry.
    await svc.call("POST", `${endpoints()}/${endpoint.id}/test`, undefined, admin);
    await eventually(
      () => receiver.rejected.filter((r) => r.path === path),
      (r) => r.length === 1,
    );
    // Then the circuit opened, and the next retry is 10 hours away.
    await raw(db).unsafe(
      "update webhook_endpoints set status = 'disabled', disabled_reason = 'test' where id = $1",
      [endpoint.id],
    );
    await raw(db).unsafe(
      "update event_deliveries set next_attempt_at = now() + interval '10 hours' where endpoint_id = $1",
      [endpoint.id],
    );
    receiver.expect(path, secret);
    const enabled = await svc.call("PATCH", `${endpoints()}/${endpoint.id}`, { enabled: true }, admin);
    expect(await json(enabled)).toMatchObject({
      status: "enabled",
      disabledReason: null,
      consecutiveFailures: 0,
    });
    const [got] = await receivedAt(path, 1);
    expect(got?.type).toBe("webhook.test");
  });
});

describe("bad input", () => {
  test.each([
    ["no events", { url: "https://crm.example.com/h", events: [] }],
    ["an unknown event", { url: "https://crm.example.com/h", events: ["lead.deleted"] }],
    ["a URL that is not one", { url: "crm", events: ["lead.created"] }],
    ["plain http to a public host", { url: "http://crm.example.com/h", events: ["lead.created"] }],
    ["credentials in the URL", { url: "https://u:p@crm.example.com/h", events: ["lead.created"] }],
    ["ftp", { url: "ftp://crm.example.com/h", events: ["lead.created"] }],
  ])("%s is a 400 with the uniform error", async (_name, body) => {
    const res = await svc.call("POST", endpoints(), body, admin);
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toMatch(/^(validation_failed|invalid_webhook_url)$/);
    expect(error.requestId).toBeTruthy();
  });

  test("an agent may not manage endpoints (403)", async () => {
    const agent = await asUser({ sub: "hooks-agent", role: "agent", tenant: tenantId });
    expect((await svc.call("GET", endpoints(), undefined, agent)).status).toBe(403);
    const res = await svc.call(
      "POST",
      endpoints(),
      { url: `${receiver.url}/x`, events: ["lead.created"] },
      agent,
    );
    expect(res.status).toBe(403);
  });

  test("a replay of another endpoint's delivery is a 404", async () => {
    const a = await register("/one");
    const b = await register("/two");
    const { deliveryId } = await json(
      await svc.call("POST", `${endpoints()}/${a.endpoint.id}/test`, undefined, asKey),
    );
    const res = await svc.call(
      "POST",
      `${endpoints()}/${b.endpoint.id}/deliveries/${deliveryId}/replay`,
      undefined,
      admin,
    );
    expect(res.status).toBe(404);
  });
});
