import type { Sql } from "../db/client";
import {
  type PurgeBatch,
  purgeAuditLog,
  purgeCalls,
  purgeConversations,
  purgeEmailMessages,
  purgeHandoffs,
  purgeMessages,
  purgeModelQuotaWindows,
  purgeOutboundEvents,
  purgeOutbox,
  purgeRateLimitWindows,
  purgeResolvedEscalations,
  purgeSessions,
  purgeSmsMessages,
  purgeSmsQuotaNotices,
  purgeUsageCounters,
  purgeUsageLedger,
  purgeWebhookDeliveries,
} from "../db/retention";
import { asPlatform } from "../db/tenant-scope";
import type { Logger } from "../logger";

export interface RetentionPolicy {
  sessionsDays: number;
  usageLedgerDays: number;
  webhookDeliveriesDays: number;
  outboxDays: number;
  handoffsDays: number;
  rateLimitHours: number;
  /** The audit log's own retention (RETENTION_AUDIT_LOG_DAYS). */
  auditLogDays: number;
  /** Rows per statement. */
  batchSize: number;
  /** A call stops starting new rounds after this; the next call continues. */
  timeBudgetMs: number;
}

/** The order within a round: messages before their sessions, outbox and handoffs before conversations. */
export const RETENTION_KINDS = [
  "messages",
  "sessions",
  "usageLedger",
  "usageCounters",
  "webhookDeliveries",
  "outbox",
  "handoffs",
  "conversations",
  "rateLimitWindows",
  "modelQuotaWindows",
  "auditLog",
  "smsMessages",
  "smsQuotaNotices",
  "outboundEvents",
  "calls",
  "escalations",
  "emailMessages",
] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

/** Rows that become purgeable only once the other kind is purged: a kind waits for these to finish. */
const WAITS_FOR: Partial<Record<RetentionKind, RetentionKind[]>> = {
  sessions: ["messages"],
  conversations: ["outbox", "handoffs"],
};

function kinds(p: RetentionPolicy): Record<RetentionKind, [PurgeBatch, number]> {
  return {
    messages: [purgeMessages, p.sessionsDays],
    sessions: [purgeSessions, p.sessionsDays],
    usageLedger: [purgeUsageLedger, p.usageLedgerDays],
    usageCounters: [purgeUsageCounters, p.usageLedgerDays],
    webhookDeliveries: [purgeWebhookDeliveries, p.webhookDeliveriesDays],
    outbox: [purgeOutbox, p.outboxDays],
    handoffs: [purgeHandoffs, p.handoffsDays],
    conversations: [purgeConversations, p.handoffsDays],
    rateLimitWindows: [purgeRateLimitWindows, p.rateLimitHours],
    modelQuotaWindows: [purgeModelQuotaWindows, p.rateLimitHours],
    auditLog: [purgeAuditLog, p.auditLogDays],
    // The usage report counts texts: their records live as long as the ledger.
    smsMessages: [purgeSmsMessages, p.usageLedgerDays],
    smsQuotaNotices: [purgeSmsQuotaNotices, p.usageLedgerDays],
    // Signed webhooks out: settled events (and their delivery logs) live as long as the inbound outbox.
    outboundEvents: [purgeOutboundEvents, p.outboxDays],
    // A call's transcript is a conversation: kept as long as chat sessions.
    calls: [purgeCalls, p.sessionsDays],
    // A resolved escalation is a finished handoff: kept as long as the handoffs.
    escalations: [purgeResolvedEscalations, p.handoffsDays],
    // A Gmail message's record is a conversation's: kept as long as chat sessions.
    emailMessages: [purgeEmailMessages, p.sessionsDays],
  };
}

export interface PurgeResult {
  /** False when the time budget ran out with rows left: the next call continues. */
  done: boolean;
  purged: Record<RetentionKind, number>;
  rounds: number;
  durationMs: number;
}

/**
 * Deletes what is older than the policy allows, in rounds of one batch per kind of data still having
 * expired rows, until none has any or the time budget is spent. Every kind advances in every call, and a
 * call overruns its budget by at most one round: it ends well inside Cloud Run's request timeout however
 * large the tables are.
 */
export async function purgeExpired(sql: Sql, policy: RetentionPolicy, log: Logger): Promise<PurgeResult> {
  const started = performance.now();
  const table = kinds(policy);
  const purged = Object.fromEntries(RETENTION_KINDS.map((k) => [k, 0])) as Record<RetentionKind, number>;
  let open: RetentionKind[] = [...RETENTION_KINDS];
  let rounds = 0;
  do {
    rounds++;
    const stillOpen: RetentionKind[] = [];
    for (const kind of open) {
      const [batch, age] = table[kind];
      // Cross-tenant by nature: each batch runs as the platform role (db/tenant-scope.ts), which the
      // row-level-security policies let see every tenant's rows. `sessionsDays` per tenant is honoured
      // inside the batches (db/retention.ts).
      const n = await asPlatform(() => batch(sql, age, policy.batchSize));
      purged[kind] += n;
      const waiting = WAITS_FOR[kind]?.some((other) => stillOpen.includes(other)) ?? false;
      if (n >= policy.batchSize || waiting) stillOpen.push(kind);
    }
    open = stillOpen;
  } while (open.length > 0 && performance.now() - started < policy.timeBudgetMs);
  const result = {
    done: open.length === 0,
    purged,
    rounds,
    durationMs: Math.round(performance.now() - started),
  };
  log.info({ event: "retention.purged", ...result }, "retention purge");
  return result;
}
