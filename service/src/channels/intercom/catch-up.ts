import type { Sql } from "../../db/client";
import { getCursor, setCursor } from "../../db/cursors";
import type { IntercomGateway } from "../../ports/intercom";
import type { CatchUp, CatchUpQueue } from "../pipeline/channel";
import { unansweredParts } from "./parts";

const CURSOR_KEY = "intercom.poll.updated_at";

export interface IntercomCatchUpSettings {
  adminId: string;
  /** How far back the first poll looks. */
  lookbackSeconds: number;
  /** Conversations looked at per poll. */
  limit: number;
}

/**
 * Intercom's catch-up: the open conversations updated since the cursor, each waiting for an answer and
 * not with a person, read for customer parts no admin comment follows yet (a missed webhook).
 */
export function intercomCatchUp(deps: {
  sql: Sql;
  gateway: IntercomGateway;
  settings: IntercomCatchUpSettings;
}): CatchUp {
  const { sql, gateway, settings } = deps;
  return {
    async run(queue: CatchUpQueue) {
      const now = Math.floor(Date.now() / 1000);
      const cursor = Number((await getCursor(sql, CURSOR_KEY)) ?? now - settings.lookbackSeconds);
      // Overlap a minute: conversations updated in the same second as the cursor are not missed.
      const found = await gateway.searchOpenConversations(cursor - 60, settings.limit);
      let queued = 0;
      let newest = cursor;
      for (const summary of found) {
        newest = Math.max(newest, summary.updatedAt);
        if (summary.waitingSince === null) continue;
        if ((await queue.state(summary.id)).mode === "human") continue;
        const conversation = await gateway.getConversation(summary.id);
        queued += await queue.queue({
          id: conversation.id,
          contactId: conversation.contactId,
          messages: unansweredParts(conversation, settings.adminId).map((p) => ({ id: p.id })),
        });
      }
      await setCursor(sql, CURSOR_KEY, String(newest));
      return { conversations: found.length, queued };
    },
  };
}
