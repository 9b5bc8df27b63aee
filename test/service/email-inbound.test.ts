import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../../service/src/app";
import { GmailPushInbound, parseGmailPush } from "../../service/src/channels/email/push";
import { gmailPushVerifier } from "../../service/src/channels/email/push-verifier";
import { InvalidNotification } from "../../service/src/channels/pipeline/channel";
import { findPushMailbox } from "../../service/src/db/platform-email-push";
import { inTenant } from "../../service/src/db/tenant-scope";
import { Authenticator } from "../../service/src/http/auth";
import type { EmailPushDeps } from "../../service/src/routes/email-push";
import {
  connectMailbox,
  createTenant,
  type EmailWorld,
  mailboxState,
  PUSH_ACCOUNT,
  PUSH_AUDIENCE,
  signedPush,
  startEmailWorld,
} from "./email-inbound-world";
import { minimalAppDeps } from "./minimal-app";
import { FakeEngine } from "./pipeline-fakes";

/**
 * The Gmail push door through the HTTP app (its middleware, the route, the door): the OIDC token is
 * checked on every request before anything is read, a push is routed by its address to the tenant's
 * mailbox and recorded there once, and a mailbox-sync task is asked for. The sync itself is
 * email-inbound-sync.test.ts's.
 */

let w: EmailWorld;
let tenantA: string;
let tenantB: string;
let mailboxA: string;
let mailboxB: string;
const A = "support@alpha.example";
const B = "help@bravo.example";

function appWith(deps: EmailPushDeps) {
  const { sql, log } = w;
  const auth = new Authenticator({ sessionKey: "email-inbound-test-session-key-0123456789" });
  return createApp({ ...minimalAppDeps({ log, auth, sql, engine: new FakeEngine() }), emailPush: deps });
}

let app: ReturnType<typeof appWith>;

/** A push as posted: its headers (the token, or none) and its exact body. */
interface Posted {
  headers: Record<string, string>;
  body: string;
}

const post = (push: Posted, headers: Record<string, string> = {}) =>
  app.request("/webhooks/email/gmail-push", {
    method: "POST",
    headers: { ...push.headers, ...headers },
    body: push.body,
  });

/** What a push may have stored: delivery ids, the mailboxes' push state, tasks. */
async function stored() {
  const deliveries = await w.inspect<{ notificationId: string }[]>`
    select notification_id from webhook_deliveries where channel = 'email' order by notification_id`;
  return {
    deliveries: deliveries.map((d) => d.notificationId),
    a: await mailboxState(w, mailboxA),
    b: await mailboxState(w, mailboxB),
    tasks: w.queue.tasks.length,
  };
}

beforeAll(async () => {
  w = await startEmailWorld();
  tenantA = await createTenant(w, "mail-a");
  tenantB = await createTenant(w, "mail-b");
  mailboxA = await connectMailbox(w, tenantA, A);
  mailboxB = await connectMailbox(w, tenantB, B);
  app = appWith({ inbound: w.push });
}, 60_000);
afterAll(async () => {
  await w?.close();
});
afterEach(async () => {
  w.queue.tasks = [];
  await w.inspect`delete from webhook_deliveries where channel = 'email'`;
  await w.inspect`update email_mailboxes set pushed_history_id = null, sync_requests = 0`;
  await w.inspect`update email_mailboxes set status = 'connected'`;
  await w.inspect`update tenants set status = 'active'`;
});

describe("a verified push", () => {
  test("is recorded once in its mailbox's tenant and asks for one sync of that mailbox", async () => {
    const push = await signedPush(w, { emailAddress: A, historyId: 4242 });
    const first = await post(push);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: "accepted" });
    expect(await mailboxState(w, mailboxA)).toMatchObject({ pushedHistoryId: "4242", syncRequests: 1 });
    expect(w.queue.tasks).toEqual([
      { id: mailboxA, kind: "mailbox-sync", attempt: 1, tenantId: tenantA, notBefore: undefined },
    ]);
    // Pub/Sub redelivers the same message (same id): acknowledged, nothing more.
    const again = await post(push);
    expect(await again.json()).toEqual({ status: "duplicate" });
    expect(await mailboxState(w, mailboxA)).toMatchObject({ pushedHistoryId: "4242", syncRequests: 1 });
    expect(w.queue.tasks).toHaveLength(1);
  });

  test("pushes out of order never lower the announced history; each asks for a sync of its own", async () => {
    await post(await signedPush(w, { emailAddress: A, historyId: 5000 }));
    await post(await signedPush(w, { emailAddress: A, historyId: 4999 }));
    expect(await mailboxState(w, mailboxA)).toMatchObject({ pushedHistoryId: "5000", syncRequests: 2 });
    expect(w.queue.tasks.map((t) => t.attempt)).toEqual([1, 2]);
  });

  test("routes by the address whatever its case, and a historyId sent as a string or beyond 2^53 is exact", async () => {
    await post(await signedPush(w, { emailAddress: A.toUpperCase(), historyId: "18446744073709551000" }));
    expect((await mailboxState(w, mailboxA))?.pushedHistoryId).toBe("18446744073709551000");
    await w.inspect`update email_mailboxes set pushed_history_id = null`;
    await post(await rawPush(A, "9007199254740993"));
    expect((await mailboxState(w, mailboxA))?.pushedHistoryId).toBe("9007199254740993");
  });

  test("a push for one tenant's mailbox writes nothing of the other's", async () => {
    const before = await mailboxState(w, mailboxB);
    await post(await signedPush(w, { emailAddress: A, historyId: 7000 }));
    expect(await mailboxState(w, mailboxB)).toEqual(before);
    expect(w.queue.tasks.map((t) => t.tenantId)).toEqual([tenantA]);
    // The route's lookup is the platform's; inside B's scope B's own rows still hide A's.
    const seenByB = await inTenant(
      tenantB,
      () => w.sql`select 1 from email_mailboxes where connection_id = ${mailboxA}`,
    );
    expect(seenByB).toHaveLength(0);
    expect((await findPushMailbox(w.sql, A))?.tenantId).toBe(tenantA);
  });

  test("a failed enqueue still acknowledges: the raised push state is what the sweep looks for", async () => {
    const failing = new GmailPushInbound({
      sql: w.sql,
      log: w.log,
      verifier: { verify: () => true },
      queue: { name: "down", enqueue: () => Promise.reject(new Error("queue down")), close: async () => {} },
    });
    const res = await appWith({ inbound: failing }).request("/webhooks/email/gmail-push", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: (await signedPush(w, { emailAddress: A, historyId: 8000 })).body,
    });
    expect(await res.json()).toEqual({ status: "accepted" });
    expect(await mailboxState(w, mailboxA)).toMatchObject({ pushedHistoryId: "8000", syncRequests: 1 });
    expect(w.logs.events("email.sync_enqueue_failed")).toHaveLength(1);
  });
});

/** A push whose data carries the historyId exactly as written (a number too large for a double). */
async function rawPush(emailAddress: string, digits: string) {
  const push = await signedPush(w, "placeholder");
  const body = JSON.parse(push.body) as { message: { data: string } };
  body.message.data = Buffer.from(`{"emailAddress":"${emailAddress}","historyId":${digits}}`).toString(
    "base64",
  );
  return { headers: push.headers, body: JSON.stringify(body) };
}

describe("a push that does not verify is refused before anything is read or stored", () => {
  const cases: [string, () => Promise<Posted>][] = [
    ["signed with a key Google does not publish", () => signedPush(w, notification(), { forge: true })],
    ["expired", () => signedPush(w, notification(), { expiresInSeconds: -120 })],
    [
      "for another audience",
      () => signedPush(w, notification(), { audience: "https://elsewhere.example/push" }),
    ],
    [
      "of another service account",
      () => signedPush(w, notification(), { serviceAccountEmail: "intruder@evil.iam.gserviceaccount.com" }),
    ],
    ["with an unverified e-mail", () => signedPush(w, notification(), { emailVerified: false })],
    [
      "without a token",
      async () => ({
        headers: { "content-type": "application/json" },
        body: (await signedPush(w, notification())).body,
      }),
    ],
    [
      "with a token that is not a JWT",
      async () => ({
        headers: { "content-type": "application/json", authorization: "Bearer not-a-jwt" },
        body: (await signedPush(w, notification())).body,
      }),
    ],
  ];
  test.each(cases)("%s → 401", async (_name, make) => {
    const before = await stored();
    const res = await post(await make());
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    expect(await stored()).toEqual(before);
  });

  test("without a push service account configured, even Google's own token is refused", async () => {
    const door = new GmailPushInbound({
      sql: w.sql,
      log: w.log,
      verifier: gmailPushVerifier({
        audience: PUSH_AUDIENCE,
        serviceAccount: undefined,
        issuer: w.emu.issuer,
        jwksUrl: w.emu.jwksUrl,
      }),
      queue: w.queue,
    });
    const push = await signedPush(w, notification());
    const res = await appWith({ inbound: door }).request("/webhooks/email/gmail-push", {
      method: "POST",
      headers: push.headers,
      body: push.body,
    });
    expect(res.status).toBe(401);
    expect(await stored()).toMatchObject({ deliveries: [], tasks: 0 });
  });
});

const notification = () => ({ emailAddress: A, historyId: 1234 });

describe("verified pushes that cannot be taken", () => {
  test.each([
    ["not JSON", "this is not json"],
    ["not a Pub/Sub message", JSON.stringify({ hello: "world" })],
    ["data that is not a Gmail notification", null],
  ])("%s → 400 invalid_push, nothing stored", async (_name, body) => {
    const push = await signedPush(w, { unexpected: true });
    const res = await post({ headers: push.headers, body: body ?? push.body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_push");
    expect(await stored()).toMatchObject({ deliveries: [], tasks: 0 });
  });

  test("an address no tenant has is acknowledged (Pub/Sub stops) and nothing is stored", async () => {
    const res = await post(await signedPush(w, { emailAddress: "nobody@nowhere.example", historyId: 1 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "unrouted" });
    expect(await stored()).toMatchObject({ deliveries: [], tasks: 0 });
    expect(w.logs.raw.join("\n")).not.toContain("nobody@nowhere.example");
  });

  test("a disconnected mailbox, or a suspended tenant's, is acknowledged and nothing is stored", async () => {
    await w.inspect`update email_mailboxes set status = 'disconnected' where connection_id = ${mailboxA}`;
    expect(await (await post(await signedPush(w, notification()))).json()).toEqual({ status: "inactive" });
    await w.inspect`update email_mailboxes set status = 'connected' where connection_id = ${mailboxA}`;
    await w.inspect`update tenants set status = 'suspended' where id = ${tenantA}`;
    expect(await (await post(await signedPush(w, notification()))).json()).toEqual({ status: "inactive" });
    expect(await stored()).toMatchObject({ deliveries: [], tasks: 0 });
  });

  test("a deployment that syncs no mailboxes answers 503, so Pub/Sub keeps the push", async () => {
    const res = await appWith({ inbound: undefined }).request("/webhooks/email/gmail-push", {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(503);
  });
});

describe("the push verifier", () => {
  test("Google's keys being unreachable is a 503 (Pub/Sub retries), not a verdict", async () => {
    const door = new GmailPushInbound({
      sql: w.sql,
      log: w.log,
      verifier: gmailPushVerifier({
        audience: PUSH_AUDIENCE,
        serviceAccount: PUSH_ACCOUNT,
        issuer: w.emu.issuer,
        jwksUrl: "http://127.0.0.1:9/certs",
      }),
      queue: w.queue,
    });
    const push = await signedPush(w, notification());
    const res = await appWith({ inbound: door }).request("/webhooks/email/gmail-push", {
      method: "POST",
      headers: push.headers,
      body: push.body,
    });
    expect(res.status).toBe(503);
    expect(await stored()).toMatchObject({ deliveries: [], tasks: 0 });
  });
});

describe("reading a verified body", () => {
  test("any bytes are a Gmail push or an InvalidNotification (a 400), never anything else", () => {
    const notificationData = fc
      .record({
        emailAddress: fc.oneof(fc.emailAddress(), fc.string()),
        historyId: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.double(), fc.string()),
      })
      .map((n) => `{"emailAddress":${JSON.stringify(n.emailAddress)},"historyId":${String(n.historyId)}}`);
    const envelope = fc
      .tuple(fc.oneof(notificationData, fc.string()), fc.string(), fc.boolean())
      .map(([data, messageId, encode]) =>
        JSON.stringify({
          message: { data: encode ? Buffer.from(data).toString("base64") : data, messageId },
          subscription: "projects/p/subscriptions/s",
        }),
      );
    fc.assert(
      fc.property(fc.oneof(envelope, fc.string()), (body) => {
        try {
          const push = parseGmailPush(new TextEncoder().encode(body));
          expect(push.historyId).toMatch(/^\d{1,20}$/);
          expect(push.emailAddress).toBe(push.emailAddress.toLowerCase());
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidNotification);
        }
      }),
    );
  });
});
