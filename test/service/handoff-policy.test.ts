import { describe, expect, test } from "vitest";
import { notificationWork } from "../../service/src/channels/intercom/parser";
import { BudgetExceeded, GuestBudgetExceeded, RateLimited } from "../../service/src/domain/errors";
import type { TurnResult } from "../../service/src/domain/turn";
import {
  HANDOFF_TOOL,
  type HandoffRules,
  handoffAfterTurn,
  handoffBeforeTurn,
  handoffOnRefusal,
} from "../../service/src/engine/handoff-policy";

const rules: HandoffRules = {
  requestPattern: /\b(talk|speak)\b.{0,24}\b(human|person)\b/i,
  topicPattern: /\brefund\b/i,
  lowConfidenceLimit: 2,
  maxAttempts: 8,
};

const answered = (over: Partial<TurnResult> = {}) =>
  ({
    outcome: "answered",
    confident: true,
    functionCalls: [],
    ...over,
  }) as const satisfies Partial<TurnResult>;
const handoffCall = (reason: string) => [{ name: HANDOFF_TOOL.name, args: { reason } }];

describe("before the model is asked", () => {
  test("a request for a person, a topic that needs one, or work that keeps failing", () => {
    expect(handoffBeforeTurn("Can I talk to a person?", 1, rules)).toBe("customer_request");
    expect(handoffBeforeTurn("I want a refund", 1, rules)).toBe("topic");
    expect(handoffBeforeTurn("How do I export data?", 9, rules)).toBe("processing_failed");
    expect(handoffBeforeTurn("How do I export data?", 8, rules)).toBeUndefined();
  });

  test("asking for a person wins over the topic; no topic pattern means no topic handoffs", () => {
    expect(handoffBeforeTurn("talk to a person about my refund", 1, rules)).toBe("customer_request");
    expect(handoffBeforeTurn("I want a refund", 1, { ...rules, topicPattern: undefined })).toBeUndefined();
  });
});

describe("when the engine refuses the turn", () => {
  test("a used-up budget goes to a person; other refusals are retried", () => {
    expect(handoffOnRefusal(new BudgetExceeded("used up", 60))).toBe("budget_exhausted");
    expect(handoffOnRefusal(new GuestBudgetExceeded("used up", 60))).toBeUndefined();
    expect(handoffOnRefusal(new RateLimited("slow down", 5))).toBeUndefined();
    expect(handoffOnRefusal(new Error("database away"))).toBeUndefined();
  });
});

describe("after the model answered", () => {
  test("a confident answer is sent", () => {
    expect(handoffAfterTurn(answered(), 0, rules)).toEqual({ uncertain: false });
  });

  test("the fallback and the model's own handoff call go to a person", () => {
    expect(handoffAfterTurn(answered({ outcome: "fallback" }), 0, rules)).toEqual({
      handoff: "model_unavailable",
    });
    expect(handoffAfterTurn(answered({ functionCalls: handoffCall("sensitive") }), 0, rules)).toEqual({
      handoff: "model_sensitive",
    });
    // A call without a reason is read as "cannot help".
    const noReason = [{ name: HANDOFF_TOOL.name, args: {} }];
    expect(handoffAfterTurn(answered({ functionCalls: noReason }), 0, rules)).toEqual({
      handoff: "model_cannot_help",
    });
  });

  test("an uncertain answer is sent until it would be the Nth unconfident one in a row", () => {
    const uncertainCall = answered({ functionCalls: handoffCall("uncertain") });
    expect(handoffAfterTurn(uncertainCall, 0, rules)).toEqual({ uncertain: true });
    expect(handoffAfterTurn(answered({ confident: false }), 0, rules)).toEqual({ uncertain: true });
    expect(handoffAfterTurn(uncertainCall, 1, rules)).toEqual({ handoff: "low_confidence" });
    expect(handoffAfterTurn(answered(), 1, rules)).toEqual({ uncertain: false });
  });

  test("another function's call is no handoff", () => {
    const other = answered({ functionCalls: [{ name: "lookup_order", args: {} }] });
    expect(handoffAfterTurn(other, 5, rules)).toEqual({ uncertain: false });
  });
});

describe("what an Intercom notification asks for", () => {
  const BOT = "991";
  const item = (extra: Record<string, unknown>) => ({ id: "c1", ...extra });
  const part = (id: string, type: string, authorType: string, authorId: string, body = "hi") => ({
    id,
    part_type: type,
    body,
    author: { type: authorType, id: authorId },
  });

  test("a customer message is queued; the bot's own and empty parts are not", () => {
    const n = {
      id: "notif_1",
      topic: "conversation.user.replied",
      item: item({
        source: { id: "s1", body: "first", author: { type: "user", id: "u1" } },
        conversation_parts: {
          conversation_parts: [
            part("p1", "comment", "user", "u1", "second"),
            part("p2", "comment", "admin", BOT),
            part("p3", "comment", "user", "u1", "   "),
            part("p4", "note", "user", "u1"),
          ],
        },
      }),
    };
    expect(notificationWork(n, BOT)).toEqual({
      conversationId: "c1",
      partIds: ["s1", "p1"],
      humanTookOver: false,
    });
  });

  test("a person assigned or replying takes over; the bot itself does not", () => {
    const assigned = (assignee: unknown) => ({
      id: "n",
      topic: "conversation.admin.assigned",
      item: item({ admin_assignee_id: assignee }),
    });
    expect(notificationWork(assigned(123), BOT).humanTookOver).toBe(true);
    expect(notificationWork(assigned(Number(BOT)), BOT).humanTookOver).toBe(false);
    expect(notificationWork(assigned(null), BOT).humanTookOver).toBe(false);
    const replied = (authorId: string) => ({
      id: "n",
      topic: "conversation.admin.replied",
      item: item({ conversation_parts: { conversation_parts: [part("p9", "comment", "admin", authorId)] } }),
    });
    expect(notificationWork(replied("77"), BOT).humanTookOver).toBe(true);
    expect(notificationWork(replied(BOT), BOT).humanTookOver).toBe(false);
  });

  test("a notification without a conversation, or of another topic, asks for nothing", () => {
    expect(notificationWork({ id: "n", topic: "contact.user.created", item: { email: "x" } }, BOT)).toEqual({
      conversationId: null,
      partIds: [],
      humanTookOver: false,
    });
    expect(notificationWork({ id: "n", topic: "conversation.admin.closed", item: item({}) }, BOT)).toEqual({
      conversationId: "c1",
      partIds: [],
      humanTookOver: false,
    });
  });
});
