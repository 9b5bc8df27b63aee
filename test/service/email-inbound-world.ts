import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "vitest";
import { DatabaseSecretStore } from "../../service/src/adapters/database-secret-store";
import { googleOAuth } from "../../service/src/adapters/gmail";
import { MailboxAccess } from "../../service/src/channels/email/mailbox-access";
import { GmailPushInbound } from "../../service/src/channels/email/push";
import { gmailPushVerifier } from "../../service/src/channels/email/push-verifier";
import { type EmailSettings, emailSettingsOf } from "../../service/src/channels/email/settings";
import { MailboxSync, type MailboxSyncDeps } from "../../service/src/channels/email/sync";
import type { InboundRequest } from "../../service/src/channels/pipeline/channel";
import { InboundPipeline } from "../../service/src/channels/pipeline/pipeline";
import { insertChannel, setChannelSecretRefs } from "../../service/src/db/channels";
import type { Database, Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { inTenant } from "../../service/src/db/tenant-scope";
import { createLogger, type Logger } from "../../service/src/logger";
import type { GoogleOAuth } from "../../service/src/ports/gmail";
import {
  type GmailEmulator,
  type GmailNotification,
  type PushRequest,
  startGmailEmulator,
} from "../emulators/gmail";
import { LogCapture, testDatabase } from "./helpers";
import { FakeEngine, FakeQueue } from "./pipeline-fakes";

/**
 * The e-mail channel's receiving side on a real database, against the Gmail + OAuth emulator with the real
 * adapter: tenants, their mailboxes connected through the emulator's consent flow (refresh tokens in a
 * database secret store), the push door, the sync worker, and the real inbound pipeline with a fake engine
 * and a task queue the test runs by hand.
 */

export const PUSH_ACCOUNT = "gmail-push@switchboard-test.iam.gserviceaccount.com";
export const PUSH_AUDIENCE = "https://switchboard.example/webhooks/email/gmail-push";
const REDIRECT = "http://127.0.0.1:8080/api/v1/email/oauth/callback";

export interface EmailWorld {
  db: Database;
  sql: Sql;
  /** Reads any tenant's rows (the superuser). */
  inspect: Sql;
  emu: GmailEmulator;
  google: GoogleOAuth;
  /** Where the mailboxes' refresh tokens are. */
  secrets: DatabaseSecretStore;
  logs: LogCapture;
  log: Logger;
  queue: FakeQueue;
  pipeline: InboundPipeline;
  access: MailboxAccess;
  /** The mailboxes handed to MailboxAccess.revoked. */
  revoked: { tenantId: string; connectionId: string }[];
  /** Each tenant's e-mail settings (as the tenant settings' `email` block would give them). */
  settings: Map<string, Partial<EmailSettings>>;
  push: GmailPushInbound;
  /** A sync worker; `over` replaces some of its parts (a failing pipeline, a smaller size limit). */
  syncer(over?: Partial<MailboxSyncDeps>): MailboxSync;
  close(): Promise<void>;
}

export async function startEmailWorld(): Promise<EmailWorld> {
  const t = await testDatabase();
  await migrate(t.db.sql);
  const emu = await startGmailEmulator({ redirectUris: [REDIRECT] });
  const google = googleOAuth({
    ...emu.client,
    redirectUri: REDIRECT,
    oauthBase: emu.url,
    gmailApiBase: emu.url,
  });
  const logs = new LogCapture();
  const log = createLogger({ level: "info", destination: logs });
  const sql = t.db.sql;
  const secrets = new DatabaseSecretStore(sql, { key: randomBytes(32) });
  const revoked: EmailWorld["revoked"] = [];
  const access = new MailboxAccess({
    sql,
    log,
    secrets,
    google,
    onRevoked: async (tenantId, row) => void revoked.push({ tenantId, connectionId: row.connectionId }),
  });
  const queue = new FakeQueue();
  const pipeline = new InboundPipeline({
    sql,
    engine: new FakeEngine(),
    log,
    settings: {
      leaseSeconds: 30,
      handoff: { requestPattern: /\bhuman\b/i, lowConfidenceLimit: 2, maxAttempts: 5 },
    },
  });
  pipeline.attachQueue(queue);
  const settings = new Map<string, Partial<EmailSettings>>();
  const verifier = gmailPushVerifier({
    audience: PUSH_AUDIENCE,
    serviceAccount: PUSH_ACCOUNT,
    issuer: emu.issuer,
    jwksUrl: emu.jwksUrl,
  });
  const syncer = (over: Partial<MailboxSyncDeps> = {}) =>
    new MailboxSync({
      sql,
      log,
      access,
      pipeline,
      queue,
      settings: async (tenantId) => ({ ...emailSettingsOf({}, "Acme"), ...settings.get(tenantId) }),
      maxBytes: 1024 * 1024,
      ...over,
    });
  return {
    db: t.db,
    sql,
    inspect: t.inspect,
    emu,
    google,
    secrets,
    logs,
    log,
    queue,
    pipeline,
    access,
    revoked,
    settings,
    push: new GmailPushInbound({ sql, log, verifier, queue }),
    syncer,
    async close() {
      await emu.close();
      await t.drop();
    },
  };
}

export async function createTenant(w: EmailWorld, slug: string): Promise<string> {
  const id = randomUUID();
  await w.inspect`insert into tenants (id, slug, name, widget_key) values (${id}, ${slug}, ${slug}, ${`pk_${slug}`})`;
  return id;
}

/**
 * Connects `address` for the tenant as the mailbox composition does: consent at the emulator (the real
 * OAuth client, PKCE), the refresh token in the secret store, the `gmail` connection naming it, and the
 * mailbox row at the mailbox's current historyId (mail before this is not answered).
 */
export async function connectMailbox(w: EmailWorld, tenantId: string, address: string): Promise<string> {
  w.emu.consentAs(address);
  const { verifier, challenge } = await w.google.pkce();
  const back = await fetch(w.google.authorizationUrl({ state: "s", codeChallenge: challenge }), {
    redirect: "manual",
  });
  const code = new URL(back.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const { refreshToken } = await w.google.exchange(code, verifier);
  expect(refreshToken).toBeTruthy();
  const { historyId } = await w.google.mailbox(refreshToken ?? "").profile();
  const id = randomUUID();
  // One secret per mailbox: a tenant may connect several.
  const ref = await w.secrets.put({ tenantId, kind: `gmail-${id.slice(0, 8)}` }, refreshToken ?? "");
  return inTenant(tenantId, async () => {
    await insertChannel(w.sql, { id, kind: "gmail", publicId: address, settings: {} });
    await setChannelSecretRefs(w.sql, id, { refreshToken: ref });
    await w.sql`
      insert into email_mailboxes (connection_id, address, history_id, connected_by)
      values (${id}, ${address}, ${historyId}::numeric, 'test-admin')`;
    return id;
  });
}

/** The request a push is, as the route hands it to the door. */
export function pushedRequest(push: PushRequest): InboundRequest {
  const headers: Record<string, string> = push.headers;
  return {
    body: new TextEncoder().encode(push.body),
    header: (name) => headers[name.toLowerCase()],
    url: PUSH_AUDIENCE,
    receivedAt: new Date(),
  };
}

/** What Google would push for this notification, signed with the world's subscription identity. */
export function signedPush(
  w: EmailWorld,
  data: GmailNotification | unknown,
  over: Record<string, unknown> = {},
) {
  return w.emu.pushRequest({ audience: PUSH_AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT, data, ...over });
}

/** Runs the mailbox-sync tasks queued so far (leaving the pipeline's outbox tasks queued). */
export async function runSyncTasks(w: EmailWorld, sync = w.syncer()): Promise<string[]> {
  const due = w.queue.tasks.filter((t) => t.kind === "mailbox-sync");
  w.queue.tasks = w.queue.tasks.filter((t) => t.kind !== "mailbox-sync");
  const outcomes: string[] = [];
  for (const task of due) outcomes.push(await sync.run(task.id, task.tenantId));
  return outcomes;
}

export interface OutboxRow {
  conversationId: string;
  partId: string;
  body: string | null;
  replyVia: string | null;
  leaseUntil: Date | null;
  tenantId: string;
}

/** The pipeline's e-mail rows of every tenant, oldest first. */
export const emailOutbox = (w: EmailWorld) =>
  w.inspect<OutboxRow[]>`
    select conversation_id, part_id, body, reply_via, lease_until, tenant_id from outbox
    where channel = 'email' order by created_at, part_id`;

export interface InboundRow {
  gmailId: string;
  threadId: string;
  tenantId: string;
  status: string;
  reason: string | null;
  rfc822MessageId: string | null;
  fromAddress: string | null;
  fromName: string | null;
  replyTo: string[];
  toAddresses: string[];
  ccAddresses: string[];
  subject: string;
  references: string[];
  contactId: string | null;
  receivedAt: Date | null;
}

export const inboundRows = (w: EmailWorld, connectionId: string) =>
  w.inspect<InboundRow[]>`
    select gmail_id, thread_id, tenant_id, status, reason, rfc822_message_id, from_address, from_name,
      reply_to, to_addresses, cc_addresses, subject, "references", contact_id, received_at
    from email_messages where connection_id = ${connectionId} and direction = 'inbound'
    order by received_at, gmail_id`;

export const mailboxState = async (w: EmailWorld, connectionId: string) => {
  const [row] = await w.inspect<
    {
      historyId: string | null;
      pushedHistoryId: string | null;
      syncRequests: number;
      syncLeaseUntil: Date | null;
      syncedAt: Date | null;
    }[]
  >`
    select history_id::text, pushed_history_id::text, sync_requests::int, sync_lease_until, synced_at
    from email_mailboxes where connection_id = ${connectionId}`;
  return row;
};
