import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { insertChannel } from "../../service/src/db/channels";
import type { Sql } from "../../service/src/db/client";
import * as mailboxes from "../../service/src/db/email-mailboxes";
import * as oauth from "../../service/src/db/email-oauth";
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
  return { mailboxConnectionId, mailboxAddress };
}

const nothing = (result: unknown) => expect(result).toBeUndefined();

/** The isolation cases of the e-mail tables' repository functions, run inside A's scope with B's ids. */
export const EMAIL_CASES: Record<string, IsolationCase> = {
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
};

/** Not repository functions of a tenant's rows. */
export const EMAIL_DEPLOYMENT_WIDE: Record<string, string> = {
  "email-mailboxes.mailboxColumns": "a column list fragment, not a query",
  "platform-email.dueWatchRenewals":
    "the watch renewal's cross-tenant listing, as the platform: tested in email-connect.test.ts ('renewal')",
  "platform-email.purgeExpiredOAuthRequests":
    "expired OAuth requests of every tenant, as the platform: tested in email-connect.test.ts",
  "platform-email.takeOAuthRequest":
    "the OAuth callback's state → its tenant, as the platform: tested in email-connect.test.ts",
};
