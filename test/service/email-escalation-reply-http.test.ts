import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { googleOAuth } from "../../service/src/adapters/gmail";
import { insertChannel, setChannelSecretRefs } from "../../service/src/db/channels";
import type { Database, Sql } from "../../service/src/db/client";
import { inTenant } from "../../service/src/db/tenant-scope";
import { type GmailEmulator, startGmailEmulator } from "../emulators/gmail";
import { consoleHeaders, consoleLogin } from "./console-helpers";
import { partOf } from "./email-reply-world";
import { eventually, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * The console's answer to an escalated e-mail as the service composes it: a customer's mail asking for a
 * person reaches the running service by a signed push, is handed off, and the agent's POST …/reply (session
 * cookie + CSRF) goes out through the tenant's mailbox in the customer's thread, once per replyId.
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
  await connect();
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

describe("answering an escalated e-mail through the admin API", () => {
  test("the agent's reply reaches the customer's thread once; the same replyId sends nothing more", async () => {
    const notification = await emu.deliver(MAILBOX, {
      from: "Jane <jane@customer.example>",
      to: MAILBOX,
      subject: "Broken order",
      text: "My order arrived broken, I want to talk to a person please.",
    });
    const push = await emu.pushRequest({
      audience: AUDIENCE,
      serviceAccountEmail: ACCOUNT,
      data: notification,
    });
    expect((await svc.post("/webhooks/email/gmail-push", push.body, push.headers)).status).toBe(200);
    const [escalation] = await eventually(
      () => inspect<{ id: string }[]>`select id::text from escalations where tenant_id = ${tenantId}`,
      (rows) => rows.length === 1,
    );
    const notice = await eventually(
      () => emu.messages(MAILBOX, "SENT"),
      (m) => m.length === 1,
    );
    const agent = await consoleLogin(db, { role: "agent", tenantId });
    const path = `/api/v1/admin/tenants/${tenantId}/escalations/${escalation?.id}/reply`;
    const body = { text: "Hi Jane, Sam here: a new one ships today.", replyId: randomUUID() };

    const first = await svc.post(path, body, consoleHeaders(agent));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ channel: "email", status: "sent", duplicate: false });
    const again = await svc.post(path, body, consoleHeaders(agent));
    expect(await again.json()).toMatchObject({ status: "sent", duplicate: true });

    const sent = emu.messages(MAILBOX, "SENT");
    expect(sent).toHaveLength(2);
    const [inbound] = emu.messages(MAILBOX, "INBOX");
    expect(sent[1]?.threadId).toBe(notice[0]?.threadId);
    expect(sent[1]?.threadId).toBe(inbound?.threadId);
    expect(emu.header(sent[1] as (typeof sent)[number], "Subject")).toBe("Re: Broken order");
    expect(partOf(sent[1], "text/plain")).toContain(body.text);
  });
});
