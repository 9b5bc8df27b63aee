import { expect } from "vitest";
import * as calls from "../../service/src/db/calls";
import { SHARED } from "./tenant-fixtures";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the calls table's repository functions (db/calls.ts), run like those of
 * tenant-repository-cases.ts: inside tenant A's scope with B's ids, the call leg both tenants' calls share,
 * and the phone number both tenants' caller shares.
 */

const ended = (marker: string): calls.EndedCall => ({
  connectionId: null,
  callControlId: SHARED.callControlId,
  conversationId: `conversation-${marker}-again`,
  callSessionId: null,
  assistantId: null,
  fromNumber: SHARED.phone,
  toNumber: "+15550000000",
  contactId: null,
  durationSec: 1,
  reason: "user_hangup",
  transcript: [],
  endedAt: new Date(),
});

export const CALL_CASES: Record<string, IsolationCase> = {
  "calls.recordEndedCall": {
    // The shared call leg is A's own call in A's scope: its row is rewritten, B's untouched.
    run: ({ sql, a }) => calls.recordEndedCall(sql, ended(a.marker)),
    check: (r, { a }) => expect(r).toEqual({ id: a.callId, firstEnd: false }),
  },
  "calls.recordCallInsights": {
    run: ({ sql }) =>
      calls.recordCallInsights(
        sql,
        { connectionId: null, callControlId: SHARED.callControlId, callSessionId: null },
        { insightGroupId: "group", results: [], receivedAt: "y" },
      ),
    check: (r, { a }) => expect(r).toEqual({ id: a.callId }),
  },
  "calls.markContactChannel": { run: ({ sql, b }) => calls.markContactChannel(sql, b.smsContactId, "voice") },
  "calls.findCall": {
    run: ({ sql, b }) => calls.findCall(sql, b.callId),
    check: (r) => expect(r).toBeUndefined(),
  },
  "calls.listCalls": {
    run: ({ sql }) => calls.listCalls(sql, { number: SHARED.phone }, 50),
    // A's calls from the number (the contacts' seed has one too), never B's.
    check: (r, { a, b }) => {
      const ids = (r as { id: string }[]).map((c) => c.id);
      expect(ids).toContain(a.callId);
      expect(ids).not.toContain(b.callId);
    },
  },
  "calls.callerContext": {
    run: ({ sql }) => calls.callerContext(sql, SHARED.phone),
    check: (r, { a }) =>
      expect(r).toEqual({
        name: `${a.marker} name`,
        openEscalations: 0,
        lastSummary: `${a.marker} call summary`,
      }),
  },
};
