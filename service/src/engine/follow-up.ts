import type { Sql } from "../db/client";
import type { Channel } from "../domain/turn";

/**
 * The contracts between the parts that follow a conversation up after the bot: escalations to a person,
 * the model's extraction of who the customer is and what they want (contacts, leads), and the signed
 * events out to a tenant's endpoints. Each part implements its interface in its own module; the others
 * take the interface, so a test gives them a fake and composition gives them the real one. Everything runs
 * in the current tenant's scope (db/tenant-scope.ts): no tenant id is passed.
 */

// ---- Outbound events (Standard Webhooks to the tenant's endpoints) ----

export const OUTBOUND_EVENT_TYPES = [
  "lead.created",
  "lead.updated",
  "escalation.created",
  "escalation.resolved",
  "call.completed",
  "conversation.closed",
  "contact.erased",
] as const;
export type OutboundEventType = (typeof OUTBOUND_EVENT_TYPES)[number];

export interface OutboundEvent {
  type: OutboundEventType;
  /**
   * Deliveries with the same key go out to an endpoint in the order they were recorded (the contact's
   * id: a CRM sees `lead.created` before `lead.updated`); null: no order with other events.
   */
  orderingKey: string | null;
  /** The event's `data` (the envelope adds `type` and `timestamp`). */
  data: Record<string, unknown>;
}

/** Call after the transaction that recorded the event committed: dispatches its deliveries. */
export type DispatchAfterCommit = () => Promise<void>;

export interface OutboundEvents {
  /**
   * Records the event, and one delivery per enabled endpoint of the tenant subscribed to its type, with
   * `sql`: pass the transaction of the change that caused it, so both commit or neither does. Returns what
   * dispatches the deliveries; a dispatch lost to a crash is done by the sweep instead.
   */
  record(sql: Sql, event: OutboundEvent): Promise<DispatchAfterCommit>;
}

// ---- Escalations (a conversation handed to a person) ----

export interface EscalationRequest {
  channel: Channel;
  /** The channel's conversation key (the pipeline's conversation id; the web: the session id). */
  conversationId: string;
  contactId: string | null;
  /** The engine's session of the conversation, when there is one: the console links to its history. */
  sessionId?: string | null | undefined;
  reason: string;
  /** What a person taking over should know (the session's summary, or the call's). */
  summary: string | null;
}

export interface OpenedEscalation {
  id: string;
  /** False when the conversation had an unresolved escalation already: it was joined, not duplicated. */
  created: boolean;
  /** What to tell the customer happens next, in words that match the tenant's business hours now. */
  notice: string;
}

export interface Escalations {
  /**
   * Opens an escalation for the conversation (or joins its unresolved one), records its notifications to
   * the tenant's team and its `escalation.created` event in the same transaction, and dispatches them.
   */
  open(request: EscalationRequest): Promise<OpenedEscalation>;
  /**
   * Whether the bot stays silent on the conversation: a person claimed its escalation (or the tenant
   * keeps the bot silent until resolved).
   */
  silenced(channel: Channel, conversationId: string): Promise<boolean>;
}

// ---- Extraction (contacts, leads, call summaries) ----

export const EXTRACTION_INTENTS = [
  "purchase",
  "booking",
  "support",
  "billing",
  "complaint",
  "other",
] as const;
export type ExtractionIntent = (typeof EXTRACTION_INTENTS)[number];

/** What the model (or, offline, the local rules) read out of a conversation. */
export interface Extraction {
  name: string | null;
  email: string | null;
  /** E.164 when it could be normalised. */
  phone: string | null;
  company: string | null;
  intent: ExtractionIntent;
  urgency: "low" | "normal" | "high";
  /** One paragraph. */
  summary: string;
  /** The customer asked for a person. */
  wantsPerson: boolean;
  followUps: string[];
}

export interface CallInsightsResult {
  /** Null when the extraction failed (stored as failed, retried once by the sweep). */
  extraction: Extraction | null;
  contactId: string | null;
  leadId: string | null;
}

export interface CallInsights {
  /**
   * Extracts the stored call (calls.id), merges its contact, writes its summary, and creates or updates a
   * lead when the tenant's criteria match (with `lead.created` / `lead.updated`). Idempotent per call.
   */
  afterCall(callId: string): Promise<CallInsightsResult>;
}
