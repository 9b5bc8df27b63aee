import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { googleOAuth } from "../../service/src/adapters/gmail";
import { insertChannel, setChannelSecretRefs } from "../../service/src/db/channels";
import type { Database, Sql } from "../../service/src/db/client";
import { inTenant } from "../../service/src/db/tenant-scope";
import { type GmailEmulator, startGmailEmulator } from "../emulators/gmail";
import { eventually, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * The receiving side as the service composes it (compose/email-inbound.ts): a signed push to the running
 * service is recorded, the in-process queue runs the mailbox sync, and the mail lands in the pipeline;
 * the same sync runs as a Cloud Tasks target (/internal/tasks/mailbox-sync/{id}) and from the poll's sweep.
 */

const ACCOUNT = "gmail-push@switchboard-test.iam.gserviceaccount.com";
const AUDIENCE = "https://switchboard.example/webhooks/email/gmail-push";
const INTERNAL = "internal-shared-secret-0123456789";
const MAILBOX = "support@composed.example";
const REDIRECT = "http://127.0.0.1/api/v1/email/oauth/callback";

let emu: GmailEmulator;
let db: Database;
let inspect: Sql;
let drop: () => Promise<void>;
let svc: TestService;
let tenantId: string;
let connectionId: string;

beforeAll(async () => {
  emu = await startGmailEmulator({ redirectUris: [REDIRECT] });
  const t = await testDatabase();
  ({ db, inspect, drop } = t);
  svc = await startTestService(db, {
    GOOGLE_OAUTH_CLIENT_ID: emu.client.clientId,
    GOOGLE_OAUTH_CLIENT_SECRET: emu.client.clientSecret,
    GOOGLE_OAUTH_BASE: emu.url,
    GMAIL_API_BASE: emu.url,
    GMAIL_PUSH_SERVICE_ACCOUNT: ACCOUNT,
    GMAIL_PUSH_AUDIENCE: AUDIENCE,
    GMAIL_PUSH_ISSUER: emu.issuer,
    GMAIL_PUSH_JWKS_URL: emu.jwksUrl,
    INTERNAL_SHARED_SECRET: INTERNAL,
    POLLING_INTERVAL: "0",
  });
  tenantId = randomUUID();
  await inspect`insert into tenants (id, slug, name, widget_key) values (${tenantId}, 'composed', 'Composed', 'pk_composed')`;
  connectionId = await connect();
}, 60_000);
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await emu?.close();
});

/** A mailbox connected as compose/email.ts will: the refresh token in the service's own secret store. */
async function connect(): Promise<string> {
  emu.consentAs(MAILBOX);
  const google = googleOAuth({
    ...emu.client,
    redirectUri: REDIRECT,
    oauthBase: emu.url,
    gmailApiBase: emu.url,
  });
  const { verifier, challenge } = await google.pkce();
  const back = await fetch(google.authorizationUrl({ state: "s", codeChallenge: challenge }), {
    redirect: "manual",
  });
  const code = new URL(back.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const { refreshToken } = await google.exchange(code, verifier);
  const { historyId } = await google.mailbox(refreshToken ?? "").profile();
  const ref = await svc.secretStore.put({ tenantId, kind: "gmail-refresh-token" }, refreshToken ?? "");
  const id = randomUUID();
  await inTenant(tenantId, async () => {
    await insertChannel(db.sql, { id, kind: "gmail", publicId: MAILBOX, settings: {} });
    await setChannelSecretRefs(db.sql, id, { refreshToken: ref });
    await db.sql`
      insert into email_mailboxes (connection_id, address, history_id) values (${id}, ${MAILBOX}, ${historyId}::numeric)`;
  });
  return id;
}

const queued = () =>
  inspect<
    { body: string }[]
  >`select body from outbox where channel = 'email' and tenant_id = ${tenantId} order by created_at`;

describe("the composed service", () => {
  test("a signed push is acknowledged and the mailbox is synced by the task it queued", async () => {
    const notification = await emu.deliver(MAILBOX, {
      from: "Jane <jane@customer.example>",
      to: MAILBOX,
      subject: "Opening hours",
      text: "When are you open on Sunday?",
    });
    const push = await emu.pushRequest({
      audience: AUDIENCE,
      serviceAccountEmail: ACCOUNT,
      data: notification,
    });
    const res = await svc.post("/webhooks/email/gmail-push", push.body, push.headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "accepted" });
    const rows = await eventually(queued, (r) => r.length === 1);
    expect(rows.map((r) => r.body)).toEqual(["When are you open on Sunday?"]);
    const forged = await emu.pushRequest({
      audience: AUDIENCE,
      serviceAccountEmail: ACCOUNT,
      data: notification,
      forge: true,
    });
    expect((await svc.post("/webhooks/email/gmail-push", forged.body, forged.headers)).status).toBe(401);
  });

  test("the sync is a Cloud Tasks target, and the poll's sweep asks for owed syncs", async () => {
    await emu.deliver(MAILBOX, {
      from: "Carl <carl@customer.example>",
      to: MAILBOX,
      subject: "Hi",
      text: "Refund?",
    });
    const res = await svc.post(
      `/internal/tasks/mailbox-sync/${connectionId}`,
      { tenantId },
      { "x-internal-token": INTERNAL },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ outcome: "synced" });
    expect((await queued()).map((r) => r.body)).toEqual(["When are you open on Sunday?", "Refund?"]);
    await inspect`update email_mailboxes set synced_at = now() - interval '1 hour' where connection_id = ${connectionId}`;
    const poll = await svc.post("/internal/poll", {}, { "x-internal-token": INTERNAL });
    const swept = (await poll.json()) as { sweeps: Record<string, Record<string, number>> };
    expect(swept.sweeps["email-sync"]).toEqual({ due: 1, requested: 1 });
  });
});
