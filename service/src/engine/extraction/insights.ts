import { findCallForInsights, saveCallInsights } from "../../db/call-summaries";
import type { Sql } from "../../db/client";
import { type ContactHandles, type MergedContact, mergeContact } from "../../db/contacts";
import {
  claimExtraction,
  type ExtractionRow,
  type ExtractionSubject,
  findExtraction,
  finishExtraction,
} from "../../db/extractions";
import { type LeadStatus, leadOfSource, leadsOfContact } from "../../db/leads";
import { findSessionForInsights, linkSessionContact, sessionLines } from "../../db/session-insights";
import { currentTenant } from "../../db/tenants";
import { recordModelCall } from "../../db/usage";
import { toE164 } from "../../domain/phone";
import type { Logger } from "../../logger";
import type {
  CallInsights,
  CallInsightsResult,
  DispatchAfterCommit,
  Extraction,
  OutboundEvents,
} from "../follow-up";
import type { ExtractionCall, Extractor } from "./extractor";
import { type LeadSource, leadIntents, recordLead } from "./leads";
import { extractionSchema } from "./schema";
import type { TranscriptLine } from "./transcript";

export interface InsightsDeps {
  sql: Sql;
  /** The extractor of the current tenant's unit of work (its model provider). */
  extractor: Extractor | (() => Extractor);
  events: OutboundEvents;
  log: Pick<Logger, "info" | "warn">;
  /** The most messages of a session read at once (its newest). */
  maxSessionMessages?: number;
}

/** A conversation to extract: its subject, its lines, and the handles its channel knows. */
interface Subject {
  kind: ExtractionSubject;
  id: string;
  channel: string;
  /** Whose usage ledger row a model call gets: the session's identity, or the caller's number. */
  identityId: string;
  sessionId: string | null;
  lines: TranscriptLine[];
  handles: ContactHandles;
  link(tx: Sql, extraction: Extraction, contactId: string | null): Promise<void>;
}

export type InsightsResult = CallInsightsResult;

const NOTHING: InsightsResult = { extraction: null, contactId: null, leadId: null };

/**
 * Contacts, summaries and leads from finished conversations, in the current tenant's scope: after a call
 * (`afterCall`, the voice channel's `CallInsights`) and for a chat, SMS or Intercom session gone quiet
 * (`afterSession`, from the idle sweep). Each run claims its extraction first, so a retried call event or
 * two sweeps never extract twice; a failed run is kept `failed` with its error and retried once by the sweep.
 */
export class ContactInsights implements CallInsights {
  constructor(private readonly deps: InsightsDeps) {}

  async afterCall(callId: string): Promise<CallInsightsResult> {
    const { sql } = this.deps;
    const call = await findCallForInsights(sql, callId);
    if (!call) return NOTHING;
    const claim = await claimExtraction(sql, { kind: "call", id: callId });
    if (!claim) return this.earlier("call", callId);
    const phone = call.fromNumber ? (toE164(call.fromNumber) ?? null) : null;
    return this.run(claim, {
      kind: "call",
      id: callId,
      channel: "voice",
      identityId: phone ? `phone:${phone}` : `call:${callId}`,
      sessionId: null,
      lines: transcriptLines(call.transcript),
      handles: { phone, id: call.contactId },
      link: (tx, extraction, contactId) =>
        saveCallInsights(tx, callId, { summary: extraction.summary, contactId }),
    });
  }

  async afterSession(sessionId: string): Promise<InsightsResult> {
    const { sql } = this.deps;
    const session = await findSessionForInsights(sql, sessionId);
    if (!session?.lastMessageId) return NOTHING;
    const claim = await claimExtraction(sql, {
      kind: "session",
      id: sessionId,
      throughMessageId: session.lastMessageId,
    });
    if (!claim) return this.earlier("session", sessionId);
    const lines = await sessionLines(
      sql,
      sessionId,
      session.lastMessageId,
      this.deps.maxSessionMessages ?? 200,
    );
    return this.run(claim, {
      kind: "session",
      id: sessionId,
      channel: session.channel,
      identityId: session.identityId,
      sessionId,
      lines,
      handles: {
        id: session.contactId,
        // An SMS thread's identity is the customer's number; an Intercom one's, the contact the pipeline knows.
        phone: session.identityId.startsWith("phone:") ? session.identityId.slice(6) : null,
        intercomContactId: session.intercomContactId,
      },
      link: async (tx, _extraction, contactId) => {
        if (contactId) await linkSessionContact(tx, sessionId, contactId);
      },
    });
  }

  /** What an earlier run of this subject found (a call event delivered again). */
  private async earlier(kind: ExtractionSubject, id: string): Promise<InsightsResult> {
    const row = await findExtraction(this.deps.sql, kind, id);
    const parsed = row?.status === "succeeded" ? extractionSchema.safeParse(row.result) : undefined;
    if (!parsed?.success) return NOTHING;
    const contactId = row?.contactId ?? null;
    return {
      extraction: parsed.data,
      contactId,
      leadId: (await this.leadMadeBy(kind, id, contactId, parsed.data)) ?? null,
    };
  }

  /**
   * The lead a run made: the one naming it as its source, or, when a later conversation of the same person
   * took the lead over, the person's open lead if this run's intent made leads.
   */
  private async leadMadeBy(kind: ExtractionSubject, id: string, contactId: string | null, found: Extraction) {
    const { sql } = this.deps;
    const own = await leadOfSource(sql, { kind, id });
    if (own || !contactId) return own?.id;
    if (!leadIntents((await currentTenant(sql))?.settings).includes(found.intent)) return undefined;
    return (await leadsOfContact(sql, contactId)).find((l) => isOpen(l.status))?.id;
  }

  /**
   * Extracts and applies; anything that throws on the way (the database) leaves the claim `failed` with
   * the error's code, so the sweep's one retry applies to it as to a bad answer, and is thrown on.
   */
  private async run(claim: ExtractionRow, subject: Subject): Promise<InsightsResult> {
    try {
      return await this.extractAndApply(claim, subject);
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error instanceof Error ? error.name : "unknown");
      await finishExtraction(this.deps.sql, claim.id, {
        status: "failed",
        error: `the extraction could not be applied (${code})`,
        model: "none",
      }).catch(() => {});
      throw error;
    }
  }

  private async extractAndApply(claim: ExtractionRow, subject: Subject): Promise<InsightsResult> {
    const { sql, log } = this.deps;
    const extractor = typeof this.deps.extractor === "function" ? this.deps.extractor() : this.deps.extractor;
    const outcome = await extractor.extract(subject.lines);
    if (outcome.call) await this.account(subject, outcome.call);
    if (!outcome.ok) {
      await finishExtraction(sql, claim.id, { status: "failed", error: outcome.error, model: outcome.model });
      // The error says what failed, never the customer's words; attempts tell whether the sweep retries it.
      log.warn(
        { event: "extraction.failed", subject: subject.kind, attempts: claim.attempts },
        "an extraction failed",
      );
      return NOTHING;
    }
    const { extraction } = outcome;
    const contact = await this.contactOf(subject, extraction);
    const intents = leadIntents((await currentTenant(sql))?.settings);
    const wantsLead = contact !== null && intents.includes(extraction.intent);
    const source: LeadSource = { channel: subject.channel, kind: subject.kind, id: subject.id };
    const dispatches: DispatchAfterCommit[] = [];
    const leadId = (await sql.begin(async (tx) => {
      const scoped = tx as unknown as Sql;
      await subject.link(scoped, extraction, contact?.id ?? null);
      await finishExtraction(scoped, claim.id, {
        status: "succeeded",
        result: extraction,
        model: outcome.model,
        contactId: contact?.id ?? null,
      });
      // A quiet chat or SMS conversation, summarised: the CRM hears of it with what was found.
      if (subject.kind === "session")
        dispatches.push(
          await this.deps.events.record(scoped, {
            type: "conversation.closed",
            orderingKey: contact?.id ?? null,
            data: closedData(subject, extraction, contact?.id ?? null),
          }),
        );
      if (!(wantsLead && contact)) return null;
      const recorded = await recordLead(scoped, this.deps.events, { contact, extraction, source });
      dispatches.push(recorded.dispatch);
      return recorded.lead.id;
    })) as string | null;
    for (const dispatch of dispatches) await dispatch();
    log.info(
      {
        event: "extraction.succeeded",
        subject: subject.kind,
        intent: extraction.intent,
        lead: leadId !== null,
      },
      "a conversation was extracted",
    );
    return { extraction, contactId: contact?.id ?? null, leadId };
  }

  /** The model call's ledger row (cost reporting; no customer budget is charged for it). */
  private async account(subject: Subject, call: ExtractionCall) {
    await recordModelCall(this.deps.sql, {
      identityId: subject.identityId,
      sessionId: subject.sessionId,
      channel: subject.channel,
      purpose: "extraction",
      provider: call.provider,
      model: call.model,
      inputTokens: call.usage.inputTokens,
      outputTokens: call.usage.outputTokens,
      cachedTokens: call.usage.cachedTokens,
      thoughtsTokens: call.usage.thoughtsTokens,
      costUsd: call.costUsd,
      latencyMs: call.latencyMs,
      outcome: call.ok ? "ok" : "error",
    });
  }

  /** The channel's handles first (they are certain), then what the conversation said. */
  private async contactOf(subject: Subject, extraction: Extraction): Promise<MergedContact | null> {
    const handles: ContactHandles = {
      ...subject.handles,
      phone: subject.handles.phone ?? extraction.phone,
      email: subject.handles.email ?? extraction.email,
      name: extraction.name,
      company: extraction.company,
      channel: subject.channel,
    };
    if (!(handles.id || handles.phone || handles.email || handles.intercomContactId)) return null;
    return mergeContact(this.deps.sql, handles);
  }
}

/** A stored call transcript as extraction lines: the caller's and the assistant's words, no tool calls. */
function transcriptLines(transcript: { role?: string; text?: string }[]): TranscriptLine[] {
  return (Array.isArray(transcript) ? transcript : [])
    .filter(
      (l) => (l.role === "user" || l.role === "assistant") && typeof l.text === "string" && l.text.trim(),
    )
    .map((l) => ({ role: l.role as "user" | "assistant", text: l.text as string }));
}

const isOpen = (status: LeadStatus) => status !== "won" && status !== "lost";

/** `conversation.closed`: the session, its channel and contact, and what the extraction read in it. */
function closedData(subject: Subject, e: Extraction, contactId: string | null) {
  return {
    sessionId: subject.id,
    channel: subject.channel,
    contactId,
    summary: e.summary,
    intent: e.intent,
    urgency: e.urgency,
    wantsPerson: e.wantsPerson,
    followUps: e.followUps,
  };
}
