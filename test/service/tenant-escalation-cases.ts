import { expect } from "vitest";
import type { Sql } from "../../service/src/db/client";
import * as escalations from "../../service/src/db/escalations";
import * as notifications from "../../service/src/db/notifications";
import { saveUnbilledMessages } from "../../service/src/db/turns";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the escalation tables' repository functions (escalations, notifications, the
 * Slack target), run like those of tenant-repository-cases.ts: inside tenant A's scope with B's ids.
 */

/** The conversation key both tenants' escalations share: the same key must not cross tenants. */
const SHARED_CONVERSATION = "esc-shared";

/**
 * Each tenant's escalation of the shared conversation (alpha's open, bravo's claimed: a leak shows in the
 * status), its e-mail notification and its Slack target (seedTenant).
 */
export async function seedEscalations(sql: Sql, marker: string) {
  const escalationConversationId = SHARED_CONVERSATION;
  const { row } = await escalations.openEscalation(sql, {
    channel: "sms",
    conversationId: escalationConversationId,
    contactId: null,
    sessionId: null,
    reason: `${marker} reason`,
    summary: `${marker} summary`,
  });
  if (marker.startsWith("b")) await escalations.claimEscalation(sql, row.id, `${marker}-agent`);
  const [notification] = await notifications.insertNotifications(sql, row.id, "escalation.created", [
    { kind: "email", target: `${marker}@example.com` },
  ]);
  await notifications.setSlackWebhookRef(sql, `db:${marker}-slack`);
  return { escalationId: row.id, escalationConversationId, notificationId: notification?.id as string };
}

const nothing = (result: unknown) => expect(result).toBeUndefined();

export const ESCALATION_CASES: Record<string, IsolationCase> = {
  "turns.saveUnbilledMessages": {
    run: ({ sql, b }) =>
      saveUnbilledMessages(
        sql,
        { sessionId: b.sessionId, identityId: b.identityId, channel: "web", externalRef: null },
        [{ role: "user", content: "alpha", tokens: 1 }],
      ),
    mayRefuse: "session ids are unique across tenants: B's id cannot start a session of A's",
  },
  "escalations.openEscalation": {
    // The key both tenants use: A joins its own unresolved escalation, never B's.
    run: ({ sql, b }) =>
      escalations.openEscalation(sql, {
        channel: "sms",
        conversationId: b.escalationConversationId,
        contactId: null,
        sessionId: null,
        reason: "alpha reason",
        summary: null,
      }),
    check: (r) =>
      expect(r).toMatchObject({ created: false, row: { status: "open", summary: "alpha summary" } }),
  },
  "escalations.findEscalation": {
    run: ({ sql, b }) => escalations.findEscalation(sql, b.escalationId),
    check: nothing,
  },
  "escalations.unresolvedStatus": {
    run: ({ sql, b }) => escalations.unresolvedStatus(sql, "sms", b.escalationConversationId),
    // A's is open, B's claimed.
    check: (r) => expect(r).toBe("open"),
  },
  "escalations.listEscalations": {
    run: ({ sql }) => escalations.listEscalations(sql, { limit: 500 }),
    check: async (r, ctx) => expect((r as unknown[]).length).toBe(await ctx.countOfA("escalations")),
  },
  "escalations.claimEscalation": {
    run: ({ sql, b }) => escalations.claimEscalation(sql, b.escalationId, "alpha-agent"),
    check: nothing,
  },
  "escalations.resolveEscalation": {
    run: ({ sql, b }) => escalations.resolveEscalation(sql, b.escalationId, "alpha-agent", true),
    check: nothing,
  },
  "notifications.insertNotifications": {
    run: ({ sql, b }) =>
      notifications.insertNotifications(sql, b.escalationId, "escalation.created", [
        { kind: "email", target: "alpha@example.com" },
      ]),
    mayRefuse: "a notification's escalation is (tenant_id, escalation_id): B's escalation is not A's",
  },
  "notifications.findNotification": {
    run: ({ sql, b }) => notifications.findNotification(sql, b.notificationId),
    check: nothing,
  },
  "notifications.notificationsOf": {
    run: ({ sql, b }) => notifications.notificationsOf(sql, b.escalationId),
    check: (r) => expect(r).toEqual([]),
  },
  "notifications.takeNotification": {
    run: ({ sql, b }) => notifications.takeNotification(sql, b.notificationId, 60),
    check: nothing,
  },
  "notifications.notificationSent": {
    run: ({ sql, b }) => notifications.notificationSent(sql, b.notificationId),
  },
  "notifications.notificationFailed": {
    run: ({ sql, b }) => notifications.notificationFailed(sql, b.notificationId, "alpha error", undefined),
  },
  "notifications.slackWebhookRef": {
    run: ({ sql }) => notifications.slackWebhookRef(sql),
    check: (r) => expect(r).toBe("db:alpha-slack"),
  },
  "notifications.setSlackWebhookRef": {
    run: ({ sql }) => notifications.setSlackWebhookRef(sql, "db:alpha-slack"),
    check: (r) => expect(r).toBe("db:alpha-slack"),
  },
};
