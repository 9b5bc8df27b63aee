import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { readAdmission } from "../../service/src/db/admission";
import type { Sql } from "../../service/src/db/client";
import { getCursor, setCursor } from "../../service/src/db/cursors";
import { eraseSubject } from "../../service/src/db/erasure";
import * as handoffs from "../../service/src/db/handoffs";
import * as knowledge from "../../service/src/db/knowledge";
import { listMessages } from "../../service/src/db/messages";
import { findModelCache, forgetModelCache, saveModelCache } from "../../service/src/db/model-caches";
import * as pipeline from "../../service/src/db/pipeline";
import { findProviderSession, saveProviderSession } from "../../service/src/db/provider-sessions";
import * as retention from "../../service/src/db/retention";
import * as secrets from "../../service/src/db/secret-versions";
import { findSession, findSessionByRef } from "../../service/src/db/sessions";
import { currentTenant, saveTenantSettings } from "../../service/src/db/tenants";
import { saveSummary, saveTurn } from "../../service/src/db/turns";
import type { LedgerEntry, UsageCharge } from "../../service/src/db/usage";
import { ADMIN_READS, ADMIN_WRITES } from "./tenant-admin-cases";
import { ASSISTANT_CASES } from "./tenant-assistant-cases";
import { CHANNEL_TRAFFIC_CASES } from "./tenant-channel-traffic-cases";
import { CONSOLE_DEPLOYMENT_WIDE } from "./tenant-console-cases";
import { CONTACTS_CASES, CONTACTS_DEPLOYMENT_WIDE } from "./tenant-contacts-cases";
import { CONVERSATION_CASES, CONVERSATIONS_DEPLOYMENT_WIDE } from "./tenant-conversations-cases";
import { EMAIL_CASES, EMAIL_DEPLOYMENT_WIDE } from "./tenant-email-cases";
import { ESCALATION_CASES } from "./tenant-escalation-cases";
import { ESCALATION_REPLY_CASES } from "./tenant-escalation-reply-cases";
import { type SeededTenant, SHARED } from "./tenant-fixtures";
import { SIGNIN_DEPLOYMENT_WIDE } from "./tenant-signin-cases";
import { SMS_CASES } from "./tenant-sms-cases";
import { USAGE_CASES } from "./tenant-usage-cases";
import { CALL_CASES } from "./tenant-voice-cases";
import { WEBHOOK_CASES } from "./tenant-webhooks-cases";

/**
 * One isolation case per repository function of service/src/db that reads or writes tenant data: it is
 * called inside tenant A's scope with B's ids and keys. The test (tenant-isolation.test.ts) then checks
 * that the result holds nothing of B's and that B's rows are unchanged; `check` adds what the result
 * must be. `mayRefuse`: the write may fail instead of landing in A (a key that is unique across tenants).
 * A new export of service/src/db fails that test until it is listed here or in DEPLOYMENT_WIDE.
 */
export interface IsolationCase {
  run(ctx: CaseContext): Promise<unknown>;
  check?(result: unknown, ctx: CaseContext): void | Promise<void>;
  mayRefuse?: string;
}

export interface CaseContext {
  sql: Sql;
  a: SeededTenant;
  b: SeededTenant;
  /** A's rows, counted outside any scope with an explicit filter (the test login is a superuser). */
  countOfA(table: string, where?: string): Promise<number>;
}

const today = () => new Date().toISOString().slice(0, 10);
const month = () => `${today().slice(0, 7)}-01`;
const nothing = (result: unknown) => expect(result).toBeUndefined();
const empty = (result: unknown) => expect(result).toEqual([]);

function ledgerEntry(sessionId: string | null): LedgerEntry {
  return {
    ...{ identityId: "user:alpha-person", sessionId, channel: "web", purpose: "summary", provider: "fake" },
    ...{ model: "m", inputTokens: 1, outputTokens: 1, cachedTokens: 0, thoughtsTokens: 0, costUsd: 0 },
    ...{ latencyMs: 1, outcome: "ok" },
  };
}
const charge = (): UsageCharge => ({ tokens: 2, day: today(), month: month() });
const sealed = () => ({
  keyId: "alpha-key",
  iv: Buffer.alloc(12),
  ciphertext: Buffer.from("x"),
  tag: Buffer.alloc(16),
});
const bShared = { channel: "intercom", conversationId: SHARED.conversationId };
const bOwn = (b: SeededTenant) => ({ channel: "intercom", conversationId: b.ownConversationId });

const reads: Record<string, IsolationCase> = {
  "admission.readAdmission": {
    run: ({ sql, b }) =>
      readAdmission(sql, {
        gates: [],
        identityId: b.identityId,
        day: today(),
        month: month(),
        session: { id: b.sessionId },
      }),
    check: (r) =>
      expect(r).toEqual({ gates: [], used: { day: 0, month: 0 }, session: undefined, history: [] }),
  },
  "cursors.getCursor": {
    run: ({ sql, b }) => getCursor(sql, b.cursorKey),
    check: (r) => expect(r).toBeNull(),
  },
  "messages.listMessages": {
    run: ({ sql, b }) => listMessages(sql, b.sessionId, { limit: 50 }),
    check: empty,
  },
  "sessions.findSession": { run: ({ sql, b }) => findSession(sql, b.sessionId), check: nothing },
  "sessions.findSessionByRef": {
    run: ({ sql }) => findSessionByRef(sql, "intercom", SHARED.conversationId),
    check: (r, { a }) => expect((r as { id: string }).id).toBe(a.intercomSessionId),
  },
  "knowledge.listDocuments": {
    run: ({ sql }) => knowledge.listDocuments(sql),
    check: (r) => expect((r as { slug: string }[]).map((d) => d.slug)).toEqual(["alpha-only", "shared-doc"]),
  },
  "knowledge.staleFileDocuments": { run: ({ sql }) => knowledge.staleFileDocuments(sql, []), check: empty },
  "knowledge.readKnowledge": {
    run: ({ sql }) => knowledge.readKnowledge(sql),
    check: (r) => expect((r as { chunks: unknown[] }).chunks).toHaveLength(2),
  },
  "knowledge.searchKnowledge": {
    run: ({ sql }) => knowledge.searchKnowledge(sql, "bravo", 10),
    check: empty,
  },
  "model-caches.findModelCache": {
    run: ({ sql, b }) => findModelCache(sql, b.ownCacheKey, 0),
    check: nothing,
  },
  "provider-sessions.findProviderSession": {
    run: ({ sql, b }) => findProviderSession(sql, b.sessionId),
    check: nothing,
  },
  "secret-versions.latestSecretVersion": {
    run: ({ sql, b }) => secrets.latestSecretVersion(sql, b.secretId),
    check: nothing,
  },
  "secret-versions.secretExists": {
    run: ({ sql, b }) => secrets.secretExists(sql, b.secretId),
    check: (r) => expect(r).toBe(false),
  },

  "tenants.currentTenant": {
    run: ({ sql }) => currentTenant(sql),
    check: (r, { a }) => expect((r as { id: string }).id).toBe(a.id),
  },
  "handoffs.handoffCounts": {
    run: ({ sql }) => handoffs.handoffCounts(sql, 24),
    check: (r) => expect(r).toEqual([{ reason: "alpha reason", count: 1 }]),
  },
  "pipeline.conversationState": {
    run: ({ sql, b }) => pipeline.conversationState(sql, bOwn(b)),
    check: (r) => expect(r).toEqual({ mode: "bot", lowConfidenceAnswers: 0, contactId: null }),
  },

  "pipeline.outboxStats": {
    run: ({ sql }) => pipeline.outboxStats(sql),
    check: async (r, ctx) =>
      expect((r as { pending: number }).pending).toBe(await ctx.countOfA("outbox", "status = 'pending'")),
  },
  "pipeline.claimConversation": {
    run: ({ sql, b }) =>
      pipeline.claimConversation(sql, b.outboxIds[0] as string, ["intercom"], {
        holder: randomUUID(),
        seconds: 30,
      }),
    check: (r) => expect(r).toEqual({ kind: "gone" }),
  },
};

/** Writes with B's ids: they change nothing of B's (the test compares B's rows before and after). */
const writes: Record<string, IsolationCase> = {
  "cursors.setCursor": {
    run: ({ sql, b }) => setCursor(sql, b.cursorKey, "alpha-cursor"),
    mayRefuse: "app_state's primary key is (key) alone: a key B holds cannot be A's too",
  },
  "provider-sessions.saveProviderSession": {
    run: ({ sql, b }) => saveProviderSession(sql, b.sessionId, "alpha-provider-session"),
    check: (r) => expect(r).toBe("alpha-provider-session"),
    mayRefuse: "app_state's primary key is (key) alone",
  },
  "model-caches.saveModelCache": {
    run: ({ sql }) =>
      saveModelCache(sql, {
        key: SHARED.cacheKey,
        name: "alpha-new",
        model: "m",
        tokens: 2,
        expiresAt: new Date(Date.now() + 60_000),
      }),
  },
  "model-caches.forgetModelCache": { run: ({ sql, b }) => forgetModelCache(sql, b.ownCacheKey) },
  "knowledge.putDocument": {
    run: ({ sql }) =>
      knowledge.putDocument(sql, { slug: SHARED.documentSlug, title: "alpha t", body: "alpha b" }, []),
  },
  "knowledge.deleteDocument": {
    run: ({ sql, b }) => knowledge.deleteDocument(sql, b.ownDocumentSlug),
    check: (r) => expect(r).toBe(false),
  },
  "handoffs.openHandoff": {
    run: ({ sql }) => handoffs.openHandoff(sql, bShared, "alpha reason"),
    check: (r, { b }) => expect((r as { id: string }).id).not.toBe(b.handoffId),
  },
  "handoffs.startHandoffStep": {
    run: ({ sql, b }) => handoffs.startHandoffStep(sql, b.handoffId, "alpha-step"),
  },
  "handoffs.handoffStepDone": {
    run: ({ sql, b }) => handoffs.handoffStepDone(sql, b.handoffId, "alpha-step"),
  },
  "handoffs.finishHandoff": {
    run: ({ sql, b }) => handoffs.finishHandoff(sql, bOwn(b), b.handoffId, b.outboxIds),
  },
  "pipeline.recordDelivery": {
    run: ({ sql, b }) =>
      pipeline.recordDelivery(
        sql,
        "intercom",
        { id: `notif-${randomUUID()}`, topic: "conversation.user.replied" },
        [{ conversationId: b.ownConversationId, contactId: "alpha-contact", handover: "human" }],
        [
          {
            id: b.outboxIds[1] as string,
            conversationId: b.ownConversationId,
            partId: "part-1",
            body: "alpha",
          },
        ],
      ),
    check: empty,
  },
  "pipeline.queueMessages": {
    run: ({ sql, b }) =>
      pipeline.queueMessages(sql, "intercom", { conversationId: b.ownConversationId, contactId: null }, [
        { id: randomUUID(), conversationId: b.ownConversationId, partId: "part-1", body: "alpha" },
      ]),
    check: (r) => expect(r).toHaveLength(1),
  },
  "pipeline.unlockConversation": {
    run: ({ sql }) => pipeline.unlockConversation(sql, bShared, randomUUID()),
  },
  "pipeline.rememberContact": {
    run: ({ sql, b }) => pipeline.rememberContact(sql, bOwn(b), "alpha-contact"),
  },
  "pipeline.markSending": { run: ({ sql, b }) => pipeline.markSending(sql, b.outboxIds) },
  "pipeline.completeOutbox": {
    run: ({ sql, b }) => pipeline.completeOutbox(sql, b.outboxIds, "skipped", "alpha"),
  },
  "pipeline.recordAnswer": { run: ({ sql, b }) => pipeline.recordAnswer(sql, bShared, b.outboxIds, false) },
  "pipeline.releaseOutbox": {
    run: ({ sql, b }) =>
      pipeline.releaseOutbox(sql, b.outboxIds, { at: new Date(), error: "alpha", refused: true }),
  },
  "secret-versions.addSecretVersion": {
    run: ({ sql, b }) => secrets.addSecretVersion(sql, b.secretId, sealed, { replace: true }),
    mayRefuse: "secret_versions' primary key is (secret_id, version); secret ids carry their tenant's id",
  },
  "secret-versions.deleteSecretVersions": {
    run: ({ sql, b }) => secrets.deleteSecretVersions(sql, b.secretId),
    check: (r) => expect(r).toBe(0),
  },
  "tenants.saveTenantSettings": {
    run: ({ sql }) => saveTenantSettings(sql, { promptVariables: { businessName: "Alpha" } }),
    check: (r, { a }) => expect((r as { id: string }).id).toBe(a.id),
  },
  "turns.saveTurn": {
    run: ({ sql, b }) =>
      saveTurn(
        sql,
        {
          sessionId: b.sessionId,
          identityId: b.identityId,
          channel: "web",
          externalRef: null,
          userText: "alpha",
          userTokens: 1,
          reply: "alpha",
          replyTokens: 1,
          model: "m",
        },
        ledgerEntry(b.sessionId),
        charge(),
      ),
    mayRefuse: "session ids are unique across tenants: B's id cannot start a session of A's",
  },
  "turns.saveSummary": {
    run: ({ sql, b }) =>
      saveSummary(
        sql,
        { sessionId: b.sessionId, text: "alpha", through: "999999" },
        ledgerEntry(null),
        charge(),
      ),
  },
  "erasure.eraseSubject": {
    run: ({ sql, b }) =>
      eraseSubject(
        sql,
        { identityIds: [b.identityId, `intercom:${b.contactId}`], contactId: b.contactId },
        { actor: "alpha", requestId: "alpha", subjectRef: "alpha-ref", deletedUpstream: false },
      ),
    check: (r) => {
      const { counts } = r as { counts: Record<string, number> };
      // rate_limit_windows is deployment-wide (keys name no tenant): see the report of issue 12.
      const { rateLimitWindows: _deploymentWide, ...tenantCounts } = counts;
      expect(Object.values(tenantCounts).every((n) => n === 0)).toBe(true);
    },
  },
};

/** The purges delete A's old rows (age 0: everything) and must leave B's: run last, they empty A. */
const purges: Record<string, IsolationCase> = Object.fromEntries(
  Object.entries({
    purgeMessages: retention.purgeMessages,
    purgeSessions: retention.purgeSessions,
    purgeUsageLedger: retention.purgeUsageLedger,
    purgeUsageCounters: retention.purgeUsageCounters,
    purgeOutbox: retention.purgeOutbox,
    purgeOutboundEvents: retention.purgeOutboundEvents,
    purgeHandoffs: retention.purgeHandoffs,
    purgeConversations: retention.purgeConversations,
    purgeSmsMessages: retention.purgeSmsMessages,
    purgeSmsQuotaNotices: retention.purgeSmsQuotaNotices,
    purgeCalls: retention.purgeCalls,
    purgeResolvedEscalations: retention.purgeResolvedEscalations,
    purgeEmailMessages: retention.purgeEmailMessages,
  }).map(([name, purge]) => [`retention.${name}`, { run: ({ sql }: CaseContext) => purge(sql, 0, 1000) }]),
);

export const ISOLATION_CASES: Record<string, IsolationCase> = {
  ...reads,
  ...ADMIN_READS,
  ...writes,
  ...ADMIN_WRITES,
  ...SMS_CASES,
  ...WEBHOOK_CASES,
  ...CONTACTS_CASES,
  ...ESCALATION_CASES,
  ...ESCALATION_REPLY_CASES,
  ...EMAIL_CASES,
  ...CHANNEL_TRAFFIC_CASES,
  ...CALL_CASES,
  ...USAGE_CASES,
  ...CONVERSATION_CASES,
  ...ASSISTANT_CASES,
  ...purges,
};

/**
 * Exports of service/src/db that need no tenant case, and why. Anything else exported there must have a
 * case above: a new repository function cannot land without one.
 */
export const DEPLOYMENT_WIDE: Record<string, string> = {
  ...CONTACTS_DEPLOYMENT_WIDE,
  ...EMAIL_DEPLOYMENT_WIDE,
  ...CONSOLE_DEPLOYMENT_WIDE,
  ...SIGNIN_DEPLOYMENT_WIDE,
  ...CONVERSATIONS_DEPLOYMENT_WIDE,
  "client.openDatabase": "opens the pool",
  "client.isDatabaseUnavailable": "classifies errors",
  "client.databaseResponds": "readiness: select 1",
  "connection-errors.isDatabaseUnavailable": "classifies errors",
  "migrate.MIGRATIONS_DIR": "migrations run as the owner, before any tenant",
  "migrate.loadMigrations": "reads files",
  "migrate.migrate": "migrations run as the owner, before any tenant",
  "model-quota.MODEL_QUOTA": "the deployment's model quota (model_quota_windows has no tenant)",
  "model-quota.leaseModelQuota": "the deployment's model quota (model_quota_windows has no tenant)",
  "rate-limits.identityLimitKey": "a key builder (rate_limit_windows has no tenant)",
  "provider-sessions.PROVIDER_SESSION_PREFIX": "a constant",
  "provider-sessions.providerSessionKey": "a key builder",
  "retention.purgeWebhookDeliveries": "webhook_deliveries has no tenant",
  "retention.purgeRateLimitWindows": "rate_limit_windows has no tenant",
  "retention.purgeModelQuotaWindows": "model_quota_windows has no tenant",
  "usage.chargeTail": "a fragment of saveTurn and saveSummary, covered by their cases",
  "platform.tenantColumns": "a fragment",
  "platform.newWidgetKey": "random key",
  "platform.createTenant": "platform function: tested in 'the platform functions'",
  "platform.listTenants": "platform function: tested in 'the platform functions'",
  "platform.findTenant": "platform function: tested in 'the platform functions'",
  "platform.findTenantByWidgetKey": "platform function: tested in 'the platform functions'",
  "platform.updateTenant": "platform function: tested in 'the platform functions'",
  "platform.rotateWidgetKey": "platform function: tested in 'the platform functions'",
  "platform.appendPlatformAudit": "platform function: tested in 'the platform functions'",
  "platform.listAuditAcrossTenants": "platform function: tested in 'the platform functions'",
  "platform-outbox.dispatchableOutbox": "the poll's cross-tenant sweep: tested in 'the platform functions'",
  "platform-notifications.dueNotifications":
    "the notifications' cross-tenant sweep: tested in escalation-notifications.test.ts",
  "platform-secrets.secretVersionsByKey":
    "start-up's cross-tenant key check: tested in 'the platform functions'",
  "retention.purgeAuditLog": "by age across tenants, as the platform: tested in 'the platform functions'",
  "platform-channels.findConnectionByNumber": "platform function: routes a text to its tenant's number",
  "platform-channels.findConnectionRoute":
    "platform function (a webhook's connection → its tenant): tested in intercom-tenants.test.ts",
  "platform-deliveries.dueDeliveries":
    "the delivery sweep across tenants: tested in webhooks-delivery.test.ts ('the sweep')",
  "platform-api-keys.findApiKey": "platform function (a key → its tenant): tested in admin-api-keys.test.ts",
  "tenant-scope.DEFAULT_TENANT_ID": "a constant",
  "tenant-scope.RUNTIME_ROLE": "a constant",
  "tenant-scope.PLATFORM_ROLE": "a constant",
  "tenant-scope.inTenant": "the scope itself: tested by every case",
  "tenant-scope.asPlatform": "the scope itself: tested in 'the platform functions'",
  "tenant-scope.currentTenantId": "the scope itself",
  "tenant-scope.scopedSql": "the scope itself: tested in 'pooled connections'",
};
