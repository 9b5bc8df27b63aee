import { expect } from "vitest";
import * as conversations from "../../service/src/db/conversations";
import * as timeline from "../../service/src/db/timeline";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the console's conversation reads (db/conversations.ts, db/timeline.ts), run like
 * those of tenant-repository-cases.ts: inside tenant A's scope with B's ids.
 */

const ids = (r: unknown) => (r as { id: string }[]).map((row) => row.id);

export const CONVERSATION_CASES: Record<string, IsolationCase> = {
  "conversations.listConversations": {
    run: ({ sql }) => conversations.listConversations(sql, {}, { limit: 500 }),
    check: (r, { b }) => expect(ids(r)).not.toContain(b.sessionId),
  },
  "conversations.conversationListQuery": {
    run: ({ sql, b }) =>
      conversations.conversationListQuery(sql, { contact: b.personContactId }, { limit: 50 }),
    check: (r) => expect(r).toEqual([]),
  },
  "timeline.timelineOf": {
    // B's session and B's contact: nothing of theirs, not even their call's transcript.
    run: ({ sql, b }) =>
      timeline.timelineOf(sql, { sessionId: b.sessionId, contactId: b.personContactId, limit: 100 }),
    check: (r) => expect(r).toEqual([]),
  },
  "timeline.findConversation": {
    run: ({ sql, b }) => timeline.findConversation(sql, b.sessionId),
    check: (r) => expect(r).toBeUndefined(),
  },
};

/** Exports of those modules that touch no tenant's rows. */
export const CONVERSATIONS_DEPLOYMENT_WIDE: Record<string, string> = {
  "conversations.CONVERSATION_STATUSES": "a constant",
};
