import type { Sql } from "../../db/client";
import { requestSync } from "../../db/email-sync";
import { mailboxesDueForSync } from "../../db/platform-email-push";
import { inTenant } from "../../db/tenant-scope";
import type { Sweep } from "../../engine/sweeps";
import type { Logger } from "../../logger";
import type { TaskQueue } from "../../ports/task-queue";
import { dispatchSync } from "./sync-tasks";

export interface SyncSweepOptions {
  sql: Sql;
  log: Logger;
  queue: TaskQueue;
  /** A mailbox not synced for this long is synced anyway. @default 600 */
  staleSeconds?: number;
  /** Mailboxes asked for per poll. @default 100 */
  limit?: number;
}

/**
 * The catch-up sweep, on every poll: a mailbox whose push announced history nobody read (a lost push
 * task, a sync that crashed and whose lease ran out), or that was not synced for `staleSeconds` (a lost
 * push; or no Pub/Sub at all, locally, where this is how mail is answered), gets a sync task.
 */
export function mailboxSyncSweep(opts: SyncSweepOptions): Sweep {
  const { sql, log, queue } = opts;
  return {
    name: "email-sync",
    async run() {
      const due = await mailboxesDueForSync(sql, {
        staleSeconds: opts.staleSeconds ?? 600,
        limit: opts.limit ?? 100,
      });
      let requested = 0;
      for (const { connectionId, tenantId } of due) {
        const attempt = await inTenant(tenantId, () => requestSync(sql, connectionId));
        if (attempt === undefined) continue;
        if (await dispatchSync({ queue, log }, { connectionId, tenantId, attempt })) requested++;
      }
      return { due: due.length, requested };
    },
  };
}
