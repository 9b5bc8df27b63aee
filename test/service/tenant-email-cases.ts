import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { insertChannel } from "../../service/src/db/channels";
import type { Sql } from "../../service/src/db/client";
import * as inbound from "../../service/src/db/email-inbound";
import * as mailboxes from "../../service/src/db/email-mailboxes";
import * as messages from "../../service/src/db/email-messages";
import * as oauth from "../../service/src/db/email-oauth";
import * as sync from "../../service/src/db/email-sync";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The e-mail channel's tables in each seeded tenant (seedTenant): a connected mailbox (its own address:
 * addresses are unique across tenants), an OAuth request in flight, and a message of a Gmail thread id
 * both tenants' mailboxes happen to use (thread ids are per mailbox, so they may meet).
 */
export const SHARED_THREAD_ID = "18c0ffee00000001";

export async function seedEmail(sql: Sql, marker: string) {
  const mailboxConnectionId = randomUUID();
  const mailboxAddress = `support@${marker}.example`;
  await insertChannel(sql, {
    id: mailboxConnectionId,
    kind: "gmail",
    publicId: mailboxAddress,
    settings: {},
  });
  await mailboxes.connectMailbox(sql, {
    connectionId: mailboxConnectionId,
    address: mailboxAddress,
    historyId: "1000",
    connectedBy: `${marker}-admin`,
  });
  await oauth.createOAuthRequest(sql, {
    stateHash: `${marker}-state-hash`,
    codeVerifier: `${marker}-verifier`,
    requestedBy: `${marker}-admin`,
    ttlSeconds: 600,
  });
  await sql`
    insert into email_messages (connection_id, direction, gmail_id, thread_id, rfc822_message_id, from_address,
      subject, status)
    values (${mailboxConnectionId}, 'inbound', ${`${marker}-gmail-1`}, ${SHARED_THREAD_ID},
      ${`<${marker}-1@customer.example>`}, 'shared-person@example.com', ${`${marker} subject`}, 'queued')`;
  const [outbound] = await sql<{ id: string }[]>`
    insert into email_messages (connection_id, direction, thread_id, rfc822_message_id, answers_gmail_id,
      from_address, subject, status)
    values (${mailboxConnectionId}, 'outbound', ${SHARED_THREAD_ID}, ${`<sb.${marker}@${marker}.example>`},
      ${`${marker}-gmail-1`}, ${mailboxAddress}, ${`Re: ${marker} subject`}, 'sending')
    returning id`;
  return { mailboxConnectionId, mailboxAddress, emailOutboundId: outbound?.id ?? "" };
}

const nothing = (result: unknown) => expect(result).toBeUndefined();

/** The isolation cases of the e-mail tables' repository functions, run inside A's scope with B's ids. */
export const EMAIL_CASES: Record<string, IsolationCase> = {
  "email-inbound.isOwnMessageId": {
    run: ({ sql, b }) => inbound.isOwnMessageId(sql, `<${b.marker}-1@customer.example>`),
    check: (r) => expect(r).toBe(false),
  },
  "email-inbound.recordInboundEmail": {
    run: ({ sql, b }) =>
      inbound.recordInboundEmail(sql, {
        connectionId: b.mailboxConnectionId,
        gmailId: `${b.marker}-gmail-1`,
        threadId: SHARED_THREAD_ID,
        rfc822MessageId: null,
        fromAddress: null,
        fromName: null,
        replyTo: [],
        to: [],
        cc: [],
        subject: "",
        references: [],
        contactId: null,
        status: "queued",
        reason: null,
        receivedAt: new Date(),
      }),
    check: async (r, { countOfA }) => {
      expect(r).toBeUndefined();
      expect(await countOfA("email_messages", "reason is null and subject = ''")).toBe(0);
    },
  },
  "email-inbound.settledGmailIds": {
    run: ({ sql, b }) => inbound.settledGmailIds(sql, b.mailboxConnectionId, [`${b.marker}-gmail-1`]),
    check: (r) => expect([...(r as Set<string>)]).toEqual([]),
  },
  "email-mailboxes.connectMailbox": {
    // B's connection id and address: both keys are unique across tenants, so the row is refused.
    run: ({ sql, b }) =>
      mailboxes.connectMailbox(sql, {
        connectionId: b.mailboxConnectionId,
        address: b.mailboxAddress,
        historyId: "1",
        connectedBy: "alpha-admin",
      }),
    mayRefuse: "B's connection id and address are taken",
  },
  "email-mailboxes.findMailbox": {
    run: ({ sql, b }) => mailboxes.findMailbox(sql, b.mailboxConnectionId),
    check: nothing,
  },
  "email-mailboxes.findMailboxByAddress": {
    run: ({ sql, b }) => mailboxes.findMailboxByAddress(sql, b.mailboxAddress),
    check: nothing,
  },
  "email-mailboxes.firstConnectedMailbox": {
    run: ({ sql }) => mailboxes.firstConnectedMailbox(sql),
    check: (r, { a }) => expect((r as { address: string }).address).toBe(a.mailboxAddress),
  },
  "email-mailboxes.listMailboxes": {
    run: ({ sql }) => mailboxes.listMailboxes(sql),
    check: (r, { a }) =>
      expect((r as { address: string }[]).map((m) => m.address)).toEqual([a.mailboxAddress]),
  },
  "email-mailboxes.markMailboxDisconnected": {
    run: ({ sql, b }) =>
      mailboxes.markMailboxDisconnected(sql, b.mailboxConnectionId, "disconnected_by_admin"),
    check: nothing,
  },
  "email-mailboxes.setMailboxWatch": {
    run: ({ sql, b }) =>
      mailboxes.setMailboxWatch(sql, b.mailboxConnectionId, { historyId: "5", expiration: new Date() }),
    check: nothing,
  },
  "email-messages.failOutbound": {
    run: ({ sql, b }) => messages.failOutbound(sql, b.emailOutboundId, "alpha-failure"),
  },
  "email-messages.findOutbound": {
    run: ({ sql, b }) => messages.findOutbound(sql, `<sb.${b.marker}@${b.marker}.example>`),
    check: nothing,
  },
  "email-messages.inboundMessages": {
    run: ({ sql, b }) =>
      messages.inboundMessages(sql, b.mailboxConnectionId, SHARED_THREAD_ID, [`${b.marker}-gmail-1`]),
    check: (r) => expect(r).toEqual([]),
  },
  "email-messages.markOutbound": {
    run: ({ sql, b }) =>
      messages.markOutbound(sql, b.emailOutboundId, { gmailId: "alpha-sent", status: "sent" }),
  },
  "email-messages.outboundAnswers": {
    run: ({ sql, b }) => messages.outboundAnswers(sql, b.mailboxConnectionId, [`${b.marker}-gmail-1`]),
    check: (r) => expect(r).toEqual([]),
  },
  "email-messages.recordOutbound": {
    // A row never points at another tenant's mailbox: nothing is written, in A or in B.
    run: ({ sql, b }) =>
      messages.recordOutbound(sql, {
        connectionId: b.mailboxConnectionId,
        threadId: SHARED_THREAD_ID,
        rfc822MessageId: "<sb.alpha-new@alpha.example>",
        answersGmailId: `${b.marker}-gmail-1`,
        fromAddress: b.mailboxAddress,
        fromName: "Alpha",
        toAddresses: ["shared-person@example.com"],
        ccAddresses: [],
        subject: "Re: x",
        references: [],
        contactId: null,
      }),
    check: async (r, { countOfA }) => {
      expect(r).toBeUndefined();
      expect(await countOfA("email_messages", "rfc822_message_id = '<sb.alpha-new@alpha.example>'")).toBe(0);
    },
  },
  "email-oauth.createOAuthRequest": {
    // Written in the caller's scope, whatever else exists: the row is A's.
    run: ({ sql }) =>
      oauth.createOAuthRequest(sql, {
        stateHash: "alpha-second-state",
        codeVerifier: "v",
        requestedBy: "alpha-admin",
        ttlSeconds: 600,
      }),
    check: async (_r, { countOfA }) =>
      expect(await countOfA("email_oauth_requests", "state_hash = 'alpha-second-state'")).toBe(1),
  },
  "email-sync.extendSyncLease": {
    run: ({ sql, b }) => sync.extendSyncLease(sql, b.mailboxConnectionId, new Date(), 60),
    check: nothing,
  },
  "email-sync.finishSync": {
    run: ({ sql, b }) => sync.finishSync(sql, b.mailboxConnectionId, new Date()),
    check: (r) => expect(r).toBe("lost"),
  },
  "email-sync.recordPush": {
    run: ({ sql, b }) =>
      sync.recordPush(sql, {
        connectionId: b.mailboxConnectionId,
        pubsubMessageId: `isolation-${b.marker}`,
        historyId: "999999",
      }),
    check: (r) => expect(r).toEqual({ kind: "gone" }),
  },
  "email-sync.releaseSyncLease": {
    run: ({ sql, b }) => sync.releaseSyncLease(sql, b.mailboxConnectionId, new Date()),
  },
  "email-sync.requestSync": {
    run: ({ sql, b }) => sync.requestSync(sql, b.mailboxConnectionId),
    check: nothing,
  },
  "email-sync.storeSyncPosition": {
    run: ({ sql, b }) =>
      sync.storeSyncPosition(sql, b.mailboxConnectionId, new Date(), {
        historyId: "999999",
        leaseSeconds: 60,
      }),
    check: nothing,
  },
  "email-sync.takeSyncLease": {
    run: ({ sql, b }) => sync.takeSyncLease(sql, b.mailboxConnectionId, 60),
    check: (r) => expect(r).toEqual({ kind: "gone" }),
  },
};

/** Not repository functions of a tenant's rows. */
export const EMAIL_DEPLOYMENT_WIDE: Record<string, string> = {
  "email-inbound.emailDeliveryId": "a pure id builder, not a query",
  "email-mailboxes.mailboxColumns": "a column list fragment, not a query",
  "platform-email.dueWatchRenewals":
    "the watch renewal's cross-tenant listing, as the platform: tested in email-connect.test.ts ('renewal')",
  "platform-email.purgeExpiredOAuthRequests":
    "expired OAuth requests of every tenant, as the platform: tested in email-connect.test.ts",
  "platform-email.takeOAuthRequest":
    "the OAuth callback's state → its tenant, as the platform: tested in email-connect.test.ts",
  "platform-email-push.findPushMailbox":
    "platform function: routes a Gmail push to its mailbox's tenant by address (email-inbound.test.ts)",
  "platform-email-push.mailboxesDueForSync":
    "the catch-up sweep's cross-tenant list: each mailbox is synced in its own tenant (email-inbound-sync.test.ts)",
};
