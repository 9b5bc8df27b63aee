import { expect } from "vitest";
import type { Sql } from "../../service/src/db/client";
import * as queue from "../../service/src/db/escalation-queue";
import * as replies from "../../service/src/db/escalation-replies";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the console's escalation reads and of the replies people send (migration 00019),
 * run like those of tenant-repository-cases.ts: inside tenant A's scope with B's ids and keys.
 */

/** Both tenants' reply has this id (the key is per tenant): the same id must never reach B's. */
export const SHARED_REPLY_ID = "0b1e55ed-0000-4000-8000-00000000e5c1";

/** Each tenant's reply to its escalation, sent (seedTenant). */
export async function seedEscalationReplies(sql: Sql, escalationId: string, marker: string) {
  await replies.beginReply(sql, {
    id: SHARED_REPLY_ID,
    escalationId,
    author: `${marker}-agent@example.com`,
    channel: "sms",
  });
  await replies.finishReply(sql, SHARED_REPLY_ID, { status: "sent" });
}

const nothing = (result: unknown) => expect(result).toBeUndefined();

export const ESCALATION_REPLY_CASES: Record<string, IsolationCase> = {
  "escalation-replies.beginReply": {
    // The id both tenants used: A gets its own record back, never B's.
    run: ({ sql, b }) =>
      replies.beginReply(sql, {
        id: SHARED_REPLY_ID,
        escalationId: b.escalationId,
        author: "x",
        channel: "sms",
      }),
    check: (r, { a }) => expect(r).toMatchObject({ created: false, row: { escalationId: a.escalationId } }),
  },
  "escalation-replies.finishReply": {
    run: ({ sql }) => replies.finishReply(sql, SHARED_REPLY_ID, { status: "failed", outcome: "alpha" }),
    // A's own is sent already; B's is not reachable.
    check: nothing,
  },
  "escalation-replies.resumeReply": {
    // The id both tenants used: A's own is sent (not pending), and B's is never reached.
    run: ({ sql }) => replies.resumeReply(sql, SHARED_REPLY_ID, 0),
    check: nothing,
  },
  "escalation-replies.forgetReply": {
    run: ({ sql }) => replies.forgetReply(sql, SHARED_REPLY_ID),
  },
  "escalation-replies.repliesOf": {
    run: ({ sql, b }) => replies.repliesOf(sql, b.escalationId),
    check: (r) => expect(r).toEqual([]),
  },
  "escalation-replies.saveAgentMessage": {
    run: ({ sql, b }) =>
      replies.saveAgentMessage(sql, {
        sessionId: b.sessionId,
        identityId: b.identityId,
        channel: "web",
        externalRef: null,
        content: "alpha",
        tokens: 1,
      }),
    mayRefuse: "session ids are unique across tenants: B's id cannot start a session of A's",
  },
  "escalation-replies.lastInbound": {
    // Earlier write cases may give A a row of B's key; whatever comes back is A's (the test checks).
    run: ({ sql, b }) => replies.lastInbound(sql, "intercom", b.ownConversationId),
  },
  "escalation-queue.queueEntries": {
    run: ({ sql }) => queue.queueEntries(sql, { limit: 500 }),
    check: async (r, ctx) => expect((r as unknown[]).length).toBe(await ctx.countOfA("escalations")),
  },
  "escalation-queue.queueEntry": {
    run: ({ sql, b }) => queue.queueEntry(sql, b.escalationId),
    check: nothing,
  },
  "escalation-queue.queueMarker": {
    run: ({ sql }) => queue.queueMarker(sql),
    check: async (r, ctx) =>
      expect((r as { open: number }).open).toBe(await ctx.countOfA("escalations", "status = 'open'")),
  },
};
