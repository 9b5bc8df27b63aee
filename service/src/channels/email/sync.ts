import type { Sql } from "../../db/client";
import { settledGmailIds } from "../../db/email-inbound";
import {
  extendSyncLease,
  finishSync,
  releaseSyncLease,
  requestSync,
  storeSyncPosition,
  takeSyncLease,
} from "../../db/email-sync";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import { LOG_EVENT, UPSTREAM } from "../../observability/log-events";
import { GmailApiError, GmailAuthRevoked, GmailHistoryGone, type GmailMessageRef } from "../../ports/gmail";
import type { TaskQueue } from "../../ports/task-queue";
import { type EmailDeliveryRecorder, type SyncedMailbox, takeInboundMessage } from "./inbound-message";
import type { MailboxAccess, OpenMailbox } from "./mailbox-access";
import type { EmailSettings } from "./settings";
import { dispatchSync } from "./sync-tasks";

export interface MailboxSyncDeps {
  sql: Sql;
  log: Logger;
  access: Pick<MailboxAccess, "open" | "revoked">;
  pipeline: EmailDeliveryRecorder;
  queue: TaskQueue;
  /** The tenant's e-mail settings (channels/email/settings.ts), read once per sync. */
  settings(tenantId: string): Promise<EmailSettings>;
  /** EMAIL_MAX_BYTES. */
  maxBytes: number;
  /** How long a sync holds the mailbox before another may take it (extended while it works). @default 120 */
  leaseSeconds?: number;
  /** How many recent INBOX messages are listed when the history is gone. @default 200 */
  recentLimit?: number;
  /** Rounds one task reads before it leaves the rest to the next task. @default 5 */
  maxRounds?: number;
}

/** How a sync task ended (the task's outcome, logged). */
export type SyncOutcome =
  /** Read up to the last pushed history. */
  | "synced"
  /** Another sync holds the mailbox: it reads on until it has caught up. */
  | "busy"
  /** The mailbox is gone or disconnected. */
  | "gone"
  /** Its refresh token stopped working: handed to MailboxAccess.revoked (disconnected). */
  | "revoked"
  /** Gmail said to come back later: a task is scheduled for then. */
  | "rate_limited"
  /** The lease ran out and another sync took over. */
  | "lost"
  /** `maxRounds` read and more pushed meanwhile: the sweep (or the next push) carries on. */
  | "more";

/** The lease ran out while the sync worked, and another sync took the mailbox over. */
class LeaseLost extends Error {}

/** A changed range of the mailbox: the messages added, and the historyId it reaches. */
interface Changes {
  added: GmailMessageRef[];
  historyId: string;
}

/**
 * Recent mail is listed from a little before the last sync (or the connection): Gmail's `after:` counts
 * whole seconds, and mail read before is settled, so an overlap costs a lookup, never a second answer.
 */
const FALLBACK_MARGIN_MS = 10 * 60_000;

/**
 * The `mailbox-sync` task: reads a connected mailbox's history since the stored historyId, in the tenant's
 * scope, under the mailbox's sync lease, and takes each new message once (inbound-message.ts). Every write
 * is its own statement, ordered so a crash anywhere is safe: a message is recorded before it is handed to
 * the pipeline, the history position is stored only after its range was taken, and a re-run skips what is
 * settled (email_messages is unique per Gmail id, and the pipeline's delivery id per message).
 */
export class MailboxSync {
  constructor(private readonly deps: MailboxSyncDeps) {}

  run(connectionId: string, tenantId: string): Promise<SyncOutcome> {
    return inTenant(tenantId, () => this.runInScope(connectionId, tenantId));
  }

  private async runInScope(connectionId: string, tenantId: string): Promise<SyncOutcome> {
    const { sql } = this.deps;
    const taken = await takeSyncLease(sql, connectionId, this.leaseSeconds);
    if (taken.kind !== "taken") return taken.kind;
    const lease = new SyncLease(sql, connectionId, taken.lease, this.leaseSeconds);
    let opened: OpenMailbox | undefined;
    try {
      opened = await this.deps.access.open(tenantId, connectionId);
      if (!opened) {
        await releaseSyncLease(sql, connectionId, lease.current);
        return "gone";
      }
      return await this.catchUp(opened, tenantId, lease);
    } catch (error) {
      await releaseSyncLease(sql, connectionId, lease.current).catch(() => {});
      return this.failed(error, { connectionId, tenantId, opened });
    }
  }

  /** Reads round after round until the stored position reaches the pushed one (or `maxRounds`). */
  private async catchUp(opened: OpenMailbox, tenantId: string, lease: SyncLease): Promise<SyncOutcome> {
    const { row, gmail } = opened;
    const settings = await this.deps.settings(tenantId);
    const box: SyncedMailbox = {
      tenantId,
      connectionId: row.connectionId,
      address: row.address,
      gmail,
      settings,
    };
    let position = row.historyId;
    for (let round = 1; ; round++) {
      const changes = await this.changes(opened, position);
      await this.take(box, changes.added, lease);
      await lease.store(changes.historyId);
      position = changes.historyId;
      const end = await finishSync(this.deps.sql, row.connectionId, lease.current);
      if (end === "done") return "synced";
      if (end === "lost") throw new LeaseLost();
      if (round >= (this.deps.maxRounds ?? 5)) {
        await releaseSyncLease(this.deps.sql, row.connectionId, lease.current);
        return "more";
      }
    }
  }

  /**
   * The messages added since `position`, or, when Gmail no longer has that history (404) or the mailbox
   * was never synced, the INBOX mail received since the last sync (or since it was connected). The
   * fallback's position is read before the listing, so mail arriving meanwhile is in the next range.
   */
  private async changes(opened: OpenMailbox, position: string | null): Promise<Changes> {
    const { row, gmail } = opened;
    if (position !== null) {
      try {
        return await gmail.history(position);
      } catch (error) {
        if (!(error instanceof GmailHistoryGone)) throw error;
        this.deps.log.warn(
          { event: "email.history_gone", connectionId: row.connectionId, historyId: position },
          "the mailbox's history is too old to list: listing recent INBOX mail instead",
        );
      }
    }
    const since = new Date((row.syncedAt ?? row.createdAt).getTime() - FALLBACK_MARGIN_MS);
    const { historyId } = await gmail.profile();
    const added = await gmail.recentInbox(since, this.deps.recentLimit ?? 200);
    return { added, historyId };
  }

  /** Takes each message of the range that is not settled yet, oldest first. */
  private async take(box: SyncedMailbox, added: GmailMessageRef[], lease: SyncLease) {
    const settled = await settledGmailIds(
      this.deps.sql,
      box.connectionId,
      added.map((m) => m.id),
    );
    for (const ref of added) {
      if (settled.has(ref.id)) continue;
      await lease.keep();
      await takeInboundMessage(this.deps, box, ref);
    }
  }

  private async failed(
    error: unknown,
    task: { connectionId: string; tenantId: string; opened: OpenMailbox | undefined },
  ): Promise<SyncOutcome> {
    const { connectionId, tenantId, opened } = task;
    if (error instanceof LeaseLost) return "lost";
    if (error instanceof GmailAuthRevoked && opened) {
      await this.deps.access.revoked(tenantId, opened.row);
      return "revoked";
    }
    if (!(error instanceof GmailApiError)) throw error;
    // Counted with the replies' Gmail failures (switchboard_upstream_errors, upstream gmail).
    this.deps.log.warn(
      {
        event: LOG_EVENT.upstreamError,
        upstream: UPSTREAM.gmail,
        status: error.status,
        task: "mailbox-sync",
        connectionId,
        retryAt: error.retryAt,
      },
      error.retryAt
        ? "gmail asked to slow down; the mailbox sync is scheduled again"
        : "a gmail call of the mailbox sync failed; the sync is retried",
    );
    if (!error.retryAt) throw error; // the task queue retries (Cloud Tasks); locally the sweep asks again
    // A task for when Gmail said, under a new request number (a task name is used once).
    const attempt = await requestSync(this.deps.sql, connectionId);
    if (attempt !== undefined)
      await dispatchSync(this.deps, { connectionId, tenantId, attempt, notBefore: error.retryAt });
    return "rate_limited";
  }

  private get leaseSeconds() {
    return this.deps.leaseSeconds ?? 120;
  }
}

/** The mailbox's sync lease as the holder keeps it: extended as it works, lost when another took over. */
class SyncLease {
  private renewedAt = Date.now();

  constructor(
    private readonly sql: Sql,
    private readonly connectionId: string,
    public current: Date,
    private readonly seconds: number,
  ) {}

  /** Extends the lease once half of it has passed. */
  async keep() {
    if (Date.now() - this.renewedAt < this.seconds * 500) return;
    this.set(await extendSyncLease(this.sql, this.connectionId, this.current, this.seconds));
  }

  /** Stores the history position reached (and extends the lease). */
  async store(historyId: string) {
    const position = { historyId, leaseSeconds: this.seconds };
    this.set(await storeSyncPosition(this.sql, this.connectionId, this.current, position));
  }

  private set(next: Date | undefined) {
    if (!next) throw new LeaseLost("the mailbox's sync lease was taken over");
    this.current = next;
    this.renewedAt = Date.now();
  }
}
