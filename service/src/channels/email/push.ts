import { z } from "zod";
import type { Sql } from "../../db/client";
import { recordPush } from "../../db/email-sync";
import { findPushMailbox } from "../../db/platform-email-push";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import type { TaskQueue } from "../../ports/task-queue";
import { type InboundRequest, InvalidNotification, type WebhookVerifier } from "../pipeline/channel";
import { dispatchSync } from "./sync-tasks";

/** What a Gmail push asks for: read the mailbox's history up to `historyId`. */
export interface GmailPush {
  /** Pub/Sub's id of the message, the same on each redelivery. */
  messageId: string;
  /** Lowercased. */
  emailAddress: string;
  /** A uint64 as decimal digits (a JSON number may not hold it exactly). */
  historyId: string;
}

const Envelope = z.object({
  message: z.object({
    data: z.string().min(1),
    messageId: z.string().min(1).max(200),
    publishTime: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  }),
  subscription: z.string(),
});

const Notification = z.object({
  emailAddress: z.email().max(320),
  // Any positive integer: one beyond 2^53 is read from the text (digitsOf), not from the lossy number.
  historyId: z.union([z.number().positive().refine(Number.isInteger), z.string().regex(/^\d{1,20}$/)]),
});

/**
 * Reads a verified push body: Pub/Sub's envelope, and in its base64 `data` Gmail's notification
 * `{"emailAddress","historyId":<number>}` (a numeric string is taken too). Throws `InvalidNotification`.
 */
export function parseGmailPush(body: Uint8Array): GmailPush {
  const envelope = Envelope.safeParse(parseJson(new TextDecoder().decode(body)));
  if (!envelope.success)
    throw new InvalidNotification("validation_failed", "not a Pub/Sub push message", envelope.error.issues);
  const { data, messageId } = envelope.data.message;
  const decoded = Buffer.from(data, "base64").toString("utf8");
  const notification = Notification.safeParse(parseJson(decoded));
  if (!notification.success)
    throw new InvalidNotification("validation_failed", "not a Gmail notification", notification.error.issues);
  const { emailAddress, historyId } = notification.data;
  return { messageId, emailAddress: emailAddress.toLowerCase(), historyId: digitsOf(historyId, decoded) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidNotification("invalid_json", "the push body is not JSON");
  }
}

/** A number beyond 2^53 lost digits in JSON.parse: its digits are read from the text instead. */
function digitsOf(historyId: number | string, text: string): string {
  if (typeof historyId === "string") return historyId.replace(/^0+(?=\d)/, "");
  if (Number.isSafeInteger(historyId)) return String(historyId);
  const raw = /"historyId"\s*:\s*(\d{1,20})\s*[,}]/.exec(text)?.[1];
  if (!raw) throw new InvalidNotification("validation_failed", "historyId is not an integer");
  return raw;
}

/** How a push was taken. */
export type PushAcknowledgement =
  /** The token did not verify: nothing was read or stored (401). */
  | { status: "rejected" }
  /** No mailbox has the address, or it is disconnected, or its tenant suspended: acknowledged, nothing stored. */
  | { status: "unrouted" | "inactive" }
  /** Recorded and a sync asked for; or a redelivery of a push recorded before. */
  | { status: "accepted" | "duplicate" };

export interface GmailPushInboundDeps {
  sql: Sql;
  log: Logger;
  verifier: WebhookVerifier;
  queue: TaskQueue;
}

/**
 * The Gmail push door: verify, read, route by address, record the push and its sync request in the
 * mailbox's tenant in one statement, ask for a sync task, acknowledge. The sync itself runs in the task
 * (channels/email/sync.ts), so the acknowledgement waits for no Gmail call. A lost enqueue loses nothing:
 * the raised pushed_history_id is what the catch-up sweep looks for.
 */
export class GmailPushInbound {
  constructor(private readonly deps: GmailPushInboundDeps) {}

  async receive(request: InboundRequest): Promise<PushAcknowledgement> {
    const { sql, log, verifier, queue } = this.deps;
    if (!(await verifier.verify(request))) return { status: "rejected" };
    const push = parseGmailPush(request.body);
    const route = await findPushMailbox(sql, push.emailAddress);
    if (!route) {
      // Gmail pushes only for a watched mailbox: one disconnected and deleted, whose watch runs out.
      log.info({ event: "email.push_unrouted" }, "a push for a mailbox no tenant has: acknowledged");
      return { status: "unrouted" };
    }
    const { connectionId, tenantId } = route;
    if (
      route.status !== "connected" ||
      route.connectionStatus !== "active" ||
      route.tenantStatus !== "active"
    ) {
      log.info(
        { event: "email.push_inactive", tenantId, connectionId },
        "a push for a disconnected mailbox or a suspended tenant: acknowledged, not synced",
      );
      return { status: "inactive" };
    }
    const recorded = await inTenant(tenantId, () =>
      recordPush(sql, { connectionId, pubsubMessageId: push.messageId, historyId: push.historyId }),
    );
    if (recorded.kind !== "recorded")
      return { status: recorded.kind === "duplicate" ? "duplicate" : "inactive" };
    await dispatchSync({ queue, log }, { connectionId, tenantId, attempt: recorded.syncRequests });
    log.info(
      { event: "email.push_received", tenantId, connectionId, historyId: push.historyId },
      "gmail push recorded; mailbox sync requested",
    );
    return { status: "accepted" };
  }
}
