import type { IntercomSettings } from "../channels/intercom/channel";
import type { PipelineSettings } from "../channels/pipeline/pipeline";
import type { Config } from "../config";
import type { EngineSettings } from "../engine/conversation-engine";
import type { RetentionPolicy } from "../engine/retention";

/**
 * Plain settings for each part, from the validated configuration: the parts never see `Config` (or an
 * environment variable name), so they run the same under any configuration source and in tests.
 */

export const DEFAULT_SYSTEM_PROMPT = [
  "You are the support assistant of this company, answering customers in a chat.",
  "Answer briefly and concretely from the knowledge base articles when they cover the question.",
  "When they do not, say so plainly and offer to connect the customer with a person; never invent policies, prices or account details.",
  "Placeholders like [EMAIL] or [CARD] stand for details removed for privacy; do not ask the customer to repeat them.",
].join(" ");

export function engineSettings(config: Config): EngineSettings {
  return {
    systemPrompt: config.SYSTEM_PROMPT ?? DEFAULT_SYSTEM_PROMPT,
    temperature: config.CHAT_TEMPERATURE,
    maxOutputTokens: config.CHAT_MAX_OUTPUT_TOKENS,
    summaryModel: config.MODEL_SUMMARY,
    summaryTemperature: config.SUMMARY_TEMPERATURE,
    history: { maxMessages: config.HISTORY_MAX_MESSAGES, maxTokens: config.HISTORY_MAX_TOKENS },
    routing: {
      defaultModel: config.MODEL_DEFAULT,
      escalationModel: config.MODEL_ESCALATION,
      escalatePatterns: config.ROUTING_ESCALATE_PATTERNS,
      turnThreshold: config.ROUTING_TURN_THRESHOLD,
      maxComparedItems: config.ROUTING_MAX_COMPARED_ITEMS,
      escalateGuests: config.ROUTING_ESCALATE_GUESTS,
    },
    budgets: config.BUDGETS,
    budgetWarnRatio: config.BUDGET_WARN_RATIO,
    prices: config.MODEL_PRICES,
    redactPii: config.PII_REDACTION,
    userRequestsPerMinute: config.RATE_LIMIT_USER_PER_MINUTE,
    guests: {
      clientRequestsPerMinute: config.RATE_LIMIT_CLIENT_PER_MINUTE,
      newSessionsPerHour: config.RATE_LIMIT_GUEST_SESSIONS_PER_HOUR,
      dailyTokenBudget: config.GUEST_BUDGET_DAILY_TOKENS,
      warnRatio: config.BUDGET_WARN_RATIO,
    },
    retry: {
      maxRetries: config.MODEL_MAX_RETRIES,
      baseDelayMs: config.MODEL_RETRY_BASE_MS,
      maxDelayMs: config.MODEL_RETRY_MAX_DELAY_MS,
    },
    knowledgeFullContextTokens: 32_000,
  };
}

export function pipelineSettings(config: Config): PipelineSettings {
  return {
    leaseSeconds: config.OUTBOX_LEASE_SECONDS,
    handoff: {
      requestPattern: config.HANDOFF_REQUEST_PATTERN,
      topicPattern: config.HANDOFF_TOPICS,
      lowConfidenceLimit: config.HANDOFF_LOW_CONFIDENCE_LIMIT,
      maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
    },
  };
}

export function intercomSettings(config: Config, adminId: string): IntercomSettings {
  return {
    adminId,
    customerTier: config.INTERCOM_CUSTOMER_TIER,
    handoff: {
      assignee: config.HANDOFF_ASSIGNEE,
      tag: config.HANDOFF_TAG,
      message: config.HANDOFF_MESSAGE,
      afterHoursMessage: config.HANDOFF_MESSAGE_AFTER_HOURS,
      businessHours: { ...config.BUSINESS_HOURS, timeZone: config.BUSINESS_TIMEZONE },
    },
    catchUp: { lookbackSeconds: 3600, limit: 200 },
  };
}

export function retentionPolicy(config: Config): RetentionPolicy {
  return {
    sessionsDays: config.RETENTION_SESSIONS_DAYS,
    usageLedgerDays: config.RETENTION_USAGE_LEDGER_DAYS,
    webhookDeliveriesDays: config.RETENTION_WEBHOOK_DELIVERIES_DAYS,
    outboxDays: config.RETENTION_OUTBOX_DAYS,
    handoffsDays: config.RETENTION_HANDOFFS_DAYS,
    rateLimitHours: config.RETENTION_RATE_LIMIT_HOURS,
    auditLogDays: config.RETENTION_AUDIT_LOG_DAYS,
    batchSize: config.RETENTION_BATCH_SIZE,
    timeBudgetMs: config.RETENTION_TIME_BUDGET_MS,
  };
}
