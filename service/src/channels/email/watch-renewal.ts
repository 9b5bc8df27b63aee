import type { Sql } from "../../db/client";
import { type MailboxRow, setMailboxWatch } from "../../db/email-mailboxes";
import { type DueWatch, dueWatchRenewals, purgeExpiredOAuthRequests } from "../../db/platform-email";
import { inTenant } from "../../db/tenant-scope";
import type { Sweep } from "../../engine/sweeps";
import type { Logger } from "../../logger";
import { GmailAuthRevoked, type GmailMailbox } from "../../ports/gmail";
import type { MailboxAccess } from "./mailbox-access";

/**
 * Gmail's watch on each connected mailbox's inbox (`users.watch`): made when the mailbox is connected and
 * renewed daily, well before Gmail's 7-day expiry (docs/email.md). Cloud Scheduler calls the renewal
 * (POST /internal/email/renew-watches); the poll's sweep runs it too, so it also happens without them.
 */

export interface WatchDeps {
  sql: Sql;
  log: Logger;
  /** GMAIL_PUBSUB_TOPIC; undefined: no watch at all (the poll keeps mailboxes in sync). */
  topic: string | undefined;
}

export interface RenewalDeps extends WatchDeps {
  access: MailboxAccess;
  /** Mailboxes renewed per call, at most. @default 500 */
  batch?: number;
  /** Gmail calls in flight at once. @default 8 */
  concurrency?: number;
}

/** A mailbox whose watch expires within this many hours is due (Gmail's watches last 7 days). */
const EXPIRES_WITHIN_HOURS = 6 * 24;
/** A watch renewed longer ago than this is due: daily renewal, whatever its expiry says. */
const RENEWED_HOURS_AGO = 20;

/** Watches a just-connected mailbox; a failure leaves it due, so the renewal makes the watch. */
export async function watchMailbox(
  deps: WatchDeps,
  tenantId: string,
  row: MailboxRow,
  gmail: GmailMailbox,
): Promise<{ row: MailboxRow; watch: "active" | "none" | "failed" }> {
  if (!deps.topic) return { row, watch: "none" };
  try {
    const watch = await gmail.watch(deps.topic);
    const watched = await inTenant(tenantId, () => setMailboxWatch(deps.sql, row.connectionId, watch));
    return { row: watched ?? row, watch: "active" };
  } catch (error) {
    deps.log.warn(
      { event: "email.watch_failed", tenantId, connectionId: row.connectionId, error: String(error) },
      "the new mailbox's Gmail watch failed; the daily renewal retries it",
    );
    return { row, watch: "failed" };
  }
}

export interface RenewalCounts extends Record<string, number> {
  due: number;
  renewed: number;
  revoked: number;
  failed: number;
  skipped: number;
}

/**
 * Renews every due mailbox's watch (none yet, expiring within 6 days, or renewed more than 20 hours
 * ago). A refresh token Google refuses disconnects its mailbox (MailboxAccess.revoked); any other failure
 * leaves it due for the next round.
 */
export async function renewWatches(deps: RenewalDeps): Promise<RenewalCounts> {
  const counts: RenewalCounts = { due: 0, renewed: 0, revoked: 0, failed: 0, skipped: 0 };
  const topic = deps.topic;
  if (!topic) return counts;
  const due = await dueWatchRenewals(deps.sql, {
    expiresWithinHours: EXPIRES_WITHIN_HOURS,
    renewedHoursAgo: RENEWED_HOURS_AGO,
    limit: deps.batch ?? 500,
  });
  counts.due = due.length;
  const queue = [...due];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) counts[await renewOne(deps, topic, next)] += 1;
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 8, queue.length) }, worker));
  if (counts.renewed + counts.revoked + counts.failed > 0)
    deps.log.info({ event: "email.watches_renewed", ...counts }, "mailbox watches renewed");
  return counts;
}

/** One mailbox's renewal; its failure is counted and logged, never thrown at the others. */
async function renewOne(
  deps: RenewalDeps,
  topic: string,
  { tenantId, connectionId }: DueWatch,
): Promise<"renewed" | "revoked" | "failed" | "skipped"> {
  try {
    // Undefined: disconnected meanwhile, or its token is unreadable for good (logged by the access).
    const open = await deps.access.open(tenantId, connectionId);
    if (!open) return "skipped";
    try {
      const watch = await open.gmail.watch(topic);
      await inTenant(tenantId, () => setMailboxWatch(deps.sql, connectionId, watch));
      return "renewed";
    } catch (error) {
      if (!(error instanceof GmailAuthRevoked)) throw error;
      await deps.access.revoked(tenantId, open.row);
      return "revoked";
    }
  } catch (error) {
    deps.log.warn(
      { event: "email.watch_renewal_failed", tenantId, connectionId, error: String(error) },
      "a mailbox's Gmail watch was not renewed; the next round retries it",
    );
    return "failed";
  }
}

/** The renewal on every poll (and the expired OAuth requests purged): cheap when nothing is due. */
export function watchRenewalSweep(deps: RenewalDeps): Sweep {
  return {
    name: "email-watches",
    run: async () => ({
      ...(await renewWatches(deps)),
      oauthRequestsPurged: await purgeExpiredOAuthRequests(deps.sql),
    }),
  };
}
