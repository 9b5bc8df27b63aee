import { randomUUID } from "node:crypto";
import { appendAudit } from "../../db/audit";
import {
  type ChannelConnection,
  deleteChannel,
  insertChannel,
  listChannels,
  setChannelSecretRefs,
} from "../../db/channels";
import type { Sql } from "../../db/client";
import { connectMailbox, type MailboxRow } from "../../db/email-mailboxes";
import { type SecretRef, SecretStoreError } from "../../ports/secret-store";
import { MailboxConnectError } from "./connect-errors";
import { type Actor, type MailboxConnectionDeps, REFRESH_TOKEN, refreshTokenSecret } from "./connection-deps";

/** What a finished consent gives: the mailbox, its refresh token and where its history stands now. */
export interface Grant {
  address: string;
  refreshToken: string;
  historyId: string;
}

/**
 * Stores a granted mailbox in the current tenant: its `gmail` channel connection (a new one, or the
 * tenant's own for that address again), the refresh token in the secret store, the mailbox row and the
 * audit row. Another tenant's address is `mailbox_taken`. Nothing half-made stays behind a failure.
 */
export async function saveConnection(
  deps: MailboxConnectionDeps,
  tenantId: string,
  grant: Grant,
  by: Actor,
): Promise<{ row: MailboxRow; reconnected: boolean }> {
  const { sql } = deps;
  const own = (await listChannels(sql)).find((c) => c.kind === "gmail" && c.publicId === grant.address);
  const connection = own ?? (await newConnection(sql, grant.address));
  let ref: SecretRef;
  try {
    ref = await storeToken(deps, tenantId, connection, grant.refreshToken);
  } catch (error) {
    if (!own) await deleteChannel(sql, connection.id);
    throw new MailboxConnectError("secret_store_unavailable", storeMessage(error));
  }
  try {
    const row = await sql.begin(async (tx) => {
      const scoped = tx as unknown as Sql;
      await setChannelSecretRefs(scoped, connection.id, { ...connection.secretRefs, [REFRESH_TOKEN]: ref });
      const saved = await connectMailbox(scoped, {
        connectionId: connection.id,
        address: grant.address,
        historyId: grant.historyId,
        connectedBy: by.actor,
      });
      const summary = { address: grant.address, reconnected: own !== undefined };
      await appendAudit(scoped, { ...by, action: "email.mailbox_connected", target: connection.id, summary });
      return saved;
    });
    return { row, reconnected: own !== undefined };
  } catch (error) {
    if (!own) {
      await deleteChannel(sql, connection.id);
      await deps.secrets.delete(ref).catch(() => {});
    }
    throw error;
  }
}

/** A new connection for the address; the unique public id refuses one another tenant holds. */
async function newConnection(sql: Sql, address: string): Promise<ChannelConnection> {
  try {
    return await insertChannel(sql, { id: randomUUID(), kind: "gmail", publicId: address, settings: {} });
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === "23505")
      throw new MailboxConnectError(
        "mailbox_taken",
        `${address} belongs to another tenant of this deployment; its channel connection must be deleted there first`,
      );
    throw error;
  }
}

/**
 * The refresh token as the connection's secret. A token already stored is rotated, which destroys the
 * earlier one (it is not revoked: Google revokes the whole grant with any of its tokens, the new one too).
 */
async function storeToken(
  deps: MailboxConnectionDeps,
  tenantId: string,
  c: ChannelConnection,
  token: string,
) {
  const stored = c.secretRefs[REFRESH_TOKEN];
  try {
    if (stored) return await deps.secrets.rotate(stored, token);
  } catch (error) {
    // Destroyed meanwhile (a disconnection that stopped half-way): stored anew below.
    if (!(error instanceof SecretStoreError && error.code === "not_found")) throw error;
  }
  return deps.secrets.put(refreshTokenSecret(tenantId, c.id), token);
}

const storeMessage = (error: unknown) =>
  `The secret store did not take the refresh token (${error instanceof Error ? error.message : "failed"}); connect again`;
