import { randomBytes, randomUUID } from "node:crypto";
import { DatabaseSecretStore } from "../../service/src/adapters/database-secret-store";
import { googleOAuth } from "../../service/src/adapters/gmail";
import { emailChannel, emailNotification } from "../../service/src/channels/email/channel";
import { EmailConnections } from "../../service/src/channels/email/connections";
import { MailboxAccess } from "../../service/src/channels/email/mailbox-access";
import { parseEmail } from "../../service/src/channels/email/parse";
import { type EmailSettings, emailSettingsOf } from "../../service/src/channels/email/settings";
import type { ConnectedChannels, QueuedChannel } from "../../service/src/channels/pipeline/channel";
import { InboundPipeline } from "../../service/src/channels/pipeline/pipeline";
import type { TurnDeps } from "../../service/src/channels/pipeline/turn";
import { insertChannel, setChannelSecretRefs } from "../../service/src/db/channels";
import type { Database, Sql } from "../../service/src/db/client";
import { mergeContact } from "../../service/src/db/contacts";
import type { MailboxRow } from "../../service/src/db/email-mailboxes";
import { migrate } from "../../service/src/db/migrate";
import { inTenant } from "../../service/src/db/tenant-scope";
import type { BusinessHours } from "../../service/src/domain/business-hours";
import { createLogger } from "../../service/src/logger";
import type { GmailMailbox, GoogleOAuth } from "../../service/src/ports/gmail";
import {
  type GmailEmulator,
  type MailFields,
  type StoredMessage,
  startGmailEmulator,
} from "../emulators/gmail";
import { LogCapture, testDatabase } from "./helpers";
import { FakeEngine, FakeQueue } from "./pipeline-fakes";
import { createTenant } from "./sms-fakes";

/**
 * The e-mail reply tests' world: a real database, the Gmail + OAuth emulator behind the real adapter, a
 * DatabaseSecretStore holding each mailbox's refresh token (obtained through the emulator's consent flow),
 * and per "process" a real InboundPipeline with a fake engine and task queue. Customer mail is delivered
 * to the emulator, recorded as the mailbox sync records it (parseEmail, the inbound email_messages row),
 * and handed to the pipeline with acceptVerified.
 */

export { FakeEngine, FakeQueue };

const REDIRECT = "http://127.0.0.1:8080/api/v1/email/oauth/callback";

export interface Testbed {
  db: Database;
  /** Raw rows, whatever their tenant. */
  inspect: Sql;
  emu: GmailEmulator;
  google: GoogleOAuth;
  secrets: DatabaseSecretStore;
  close(): Promise<void>;
}

export async function emailTestbed(): Promise<Testbed> {
  const { db, inspect, drop } = await testDatabase();
  await migrate(db.sql);
  const emu = await startGmailEmulator({ redirectUris: [REDIRECT] });
  const google = googleOAuth({
    ...emu.client,
    redirectUri: REDIRECT,
    oauthBase: emu.url,
    gmailApiBase: emu.url,
  });
  const secrets = new DatabaseSecretStore(db.sql, { key: randomBytes(32) });
  return {
    db,
    inspect,
    emu,
    google,
    secrets,
    async close() {
      await emu.close();
      await drop();
    },
  };
}

/** A tenant with a connected mailbox: consent through the emulator, the token in the secret store. */
export interface ConnectedMailbox {
  tenantId: string;
  address: string;
  connectionId: string;
}

export async function connectedMailbox(
  bed: Testbed,
  slug: string,
  address: string,
): Promise<ConnectedMailbox> {
  const tenantId = await createTenant(bed.inspect, slug);
  const refreshToken = await consent(bed, address);
  const connectionId = randomUUID();
  await inTenant(tenantId, async () => {
    const ref = await bed.secrets.put({ tenantId, kind: "gmail-refresh-token" }, refreshToken);
    await insertChannel(bed.db.sql, { id: connectionId, kind: "gmail", publicId: address, settings: {} });
    await setChannelSecretRefs(bed.db.sql, connectionId, { refreshToken: ref });
    await bed.db.sql`
      insert into email_mailboxes (connection_id, address, history_id, connected_by)
      values (${connectionId}, ${address}, 1, 'test-admin')`;
  });
  return { tenantId, address, connectionId };
}

/** Consents as the mailbox the way a browser follows Google's redirects; returns the refresh token. */
async function consent(bed: Testbed, address: string): Promise<string> {
  bed.emu.consentAs(address);
  const { verifier, challenge } = await bed.google.pkce();
  const url = bed.google.authorizationUrl({ state: randomUUID(), codeChallenge: challenge });
  const back = await fetch(url, { redirect: "manual" });
  const code = new URL(back.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const { refreshToken } = await bed.google.exchange(code, verifier);
  if (!refreshToken) throw new Error("the emulator issued no refresh token");
  return refreshToken;
}

/** One "process": a pipeline answering the tenant's e-mail threads. */
export interface ReplyWorld {
  mailbox: ConnectedMailbox;
  engine: FakeEngine;
  queue: FakeQueue;
  logs: LogCapture;
  pipeline: InboundPipeline;
  /** The mailboxes MailboxAccess was told were revoked. */
  revoked: MailboxRow[];
  /** A customer's mail arrives, is recorded as the sync records it, and is queued; returns Gmail's copy. */
  receive(mail: MailFields): Promise<StoredMessage>;
  /** Runs the tasks queued so far. */
  work(): Promise<string[]>;
}

export interface WorldOptions {
  settings?: Partial<EmailSettings>;
  leaseSeconds?: number;
  escalations?: TurnDeps["escalations"];
  /** Wraps each Gmail client the process builds (a process that dies inside a call). */
  gmail?: (mailbox: GmailMailbox) => GmailMailbox;
  /** The tenant's support hours and the channel's clock (the handoff notice's wording). */
  hours?: BusinessHours;
  now?: Date;
  /** The tenants' channels as composition builds them, instead of the world's own. */
  connected?: ConnectedChannels;
}

export function replyWorld(bed: Testbed, mailbox: ConnectedMailbox, opts: WorldOptions = {}): ReplyWorld {
  const logs = new LogCapture();
  const log = createLogger({ level: "info", destination: logs });
  const engine = new FakeEngine();
  const queue = new FakeQueue();
  const revoked: MailboxRow[] = [];
  const wrap = opts.gmail;
  const google: GoogleOAuth = wrap
    ? { ...bed.google, mailbox: (token) => wrap(bed.google.mailbox(token)) }
    : bed.google;
  const access = new MailboxAccess({
    sql: bed.db.sql,
    log,
    secrets: bed.secrets,
    google,
    onRevoked: async (_tenantId, row) => void revoked.push(row),
  });
  const settings = { ...emailSettingsOf({}, "Acme Support"), ...opts.settings };
  const connected = new EmailConnections({
    channel: async (tenantId) =>
      emailChannel({
        ...{ sql: bed.db.sql, log, tenantId, settings, mailboxes: access },
        businessHours: () => opts.hours,
        now: () => opts.now ?? new Date(),
      }) as QueuedChannel<unknown>,
  });
  const pipeline = new InboundPipeline({
    sql: bed.db.sql,
    engine,
    log,
    connected: opts.connected ?? connected,
    escalations: opts.escalations,
    settings: {
      leaseSeconds: opts.leaseSeconds ?? 30,
      handoff: { requestPattern: /\b(human|person|agent)\b/i, lowConfidenceLimit: 2, maxAttempts: 5 },
    },
  });
  pipeline.attachQueue(queue);
  return {
    mailbox,
    engine,
    queue,
    logs,
    pipeline,
    revoked,
    async receive(mail) {
      await bed.emu.deliver(mailbox.address, mail);
      const message = bed.emu.messages(mailbox.address).at(-1) as StoredMessage;
      await syncRecords(bed, mailbox, message, pipeline);
      return message;
    },
    work: () => queue.runAll(pipeline),
  };
}

/** What the mailbox sync does with a new message: its inbound row (threading facts), then the pipeline. */
async function syncRecords(
  bed: Testbed,
  mailbox: ConnectedMailbox,
  message: StoredMessage,
  pipeline: InboundPipeline,
) {
  const mail = await parseEmail(Buffer.from(message.raw, "utf8"));
  const contactId = await inTenant(mailbox.tenantId, async () => {
    const contact = await mergeContact(bed.db.sql, {
      email: mail.from?.address,
      name: mail.from?.name,
      channel: "email",
    });
    await recordInbound(bed.db.sql, mailbox.connectionId, {
      gmailId: message.id,
      threadId: message.threadId,
      contactId: contact.id,
      mail,
    });
    return contact.id;
  });
  await pipeline.acceptVerified(
    "email",
    mailbox.tenantId,
    emailNotification(mailbox.connectionId, {
      gmailId: message.id,
      threadId: message.threadId,
      text: mail.text,
      contactId,
      notBefore: new Date(message.internalDate),
    }),
  );
}

/** An inbound email_messages row, as the sync worker writes it (bare lowercased addresses). */
export async function recordInbound(
  sql: Sql,
  connectionId: string,
  m: {
    gmailId: string;
    threadId: string;
    contactId: string | null;
    mail: Awaited<ReturnType<typeof parseEmail>>;
  },
) {
  const { mail } = m;
  const addresses = (list: { address: string }[]) => list.map((a) => a.address);
  await sql`
    insert into email_messages (connection_id, direction, gmail_id, thread_id, rfc822_message_id, from_address,
      from_name, reply_to, to_addresses, cc_addresses, subject, "references", contact_id, status, received_at)
    values (${connectionId}, 'inbound', ${m.gmailId}, ${m.threadId}, ${mail.messageId ?? null},
      ${mail.from?.address ?? null}, ${mail.from?.name ?? null}, ${addresses(mail.replyTo)}::text[],
      ${addresses(mail.to)}::text[], ${addresses(mail.cc)}::text[], ${mail.subject}, ${mail.references}::text[],
      ${m.contactId}::uuid, 'queued', ${mail.date ?? new Date()})`;
}

/** The outbox rows of a mailbox's conversations, oldest first. */
export function outboxOf(bed: Testbed, connectionId: string) {
  return bed.inspect<{ partId: string; status: string; outcome: string | null }[]>`
    select part_id, status, outcome from outbox
    where channel = 'email' and conversation_id like ${`${connectionId}:%`} order by created_at`;
}

/** The e-mail channel's rows of a mailbox, oldest first. */
export function emailRows(bed: Testbed, connectionId: string) {
  return bed.inspect<
    {
      direction: string;
      gmailId: string | null;
      threadId: string;
      rfc822MessageId: string | null;
      answersGmailId: string | null;
      status: string;
      reason: string | null;
      toAddresses: string[];
      ccAddresses: string[];
      subject: string;
      tenantId: string;
    }[]
  >`select direction, gmail_id, thread_id, rfc822_message_id, answers_gmail_id, status, reason, to_addresses,
      cc_addresses, subject, tenant_id from email_messages where connection_id = ${connectionId} order by created_at`;
}

/** A label's id in the emulated mailbox, by name. */
export function labelIdOf(bed: Testbed, address: string, name: string): string | undefined {
  return bed.emu.mailbox(address).labels.find((l) => l.name === name)?.id;
}

/** A header of a stored message (case-insensitive); undefined without the message. */
export function headerOf(bed: Testbed, message: StoredMessage | undefined, name: string): string | undefined {
  return message ? bed.emu.header(message, name) : undefined;
}

/** The decoded body of a stored message's part of `mimeType`. */
export function partOf(message: StoredMessage | undefined, mimeType: string): string | undefined {
  if (!message) return undefined;
  const parts = [message.payload, ...(message.payload.parts ?? []).flatMap((p) => [p, ...(p.parts ?? [])])];
  const data = parts.find((p) => p.mimeType === mimeType)?.body.data;
  return data === undefined ? undefined : Buffer.from(data, "base64url").toString("utf8");
}
