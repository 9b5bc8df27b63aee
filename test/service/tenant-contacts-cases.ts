import { expect } from "vitest";
import * as calls from "../../service/src/db/call-summaries";
import * as contacts from "../../service/src/db/contacts";
import * as extractions from "../../service/src/db/extractions";
import * as leads from "../../service/src/db/leads";
import * as sessions from "../../service/src/db/session-insights";
import * as usage from "../../service/src/db/usage";
import { SHARED } from "./tenant-fixtures";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the contacts, extractions and leads repository functions (issue 14), run like
 * those of tenant-repository-cases.ts: inside tenant A's scope with B's ids and the handles both tenants'
 * customer shares (SHARED.phone, SHARED.email).
 */

const nothing = (result: unknown) => expect(result).toBeUndefined();
const empty = (result: unknown) => expect(result).toEqual([]);
const idOf = (r: unknown) => (r as { id: string } | undefined)?.id;

export const CONTACTS_CASES: Record<string, IsolationCase> = {
  "contacts.mergeContact": {
    // The handles both tenants know: A's contact is found (B's, with the same ones, untouched).
    run: ({ sql }) =>
      contacts.mergeContact(sql, { phone: SHARED.phone, email: SHARED.email, channel: "sms" }),
    check: (r, { a }) => expect(idOf(r)).toBe(a.personContactId),
  },
  "contacts.listContacts": {
    run: ({ sql }) => contacts.listContacts(sql, { q: "person", limit: 50 }),
    check: (r, { a }) => expect((r as { id: string }[]).map((c) => c.id)).toEqual([a.personContactId]),
  },
  "contacts.findContact": {
    run: ({ sql, b }) => contacts.findContact(sql, b.personContactId),
    check: nothing,
  },
  "contacts.sessionsOfContact": {
    run: ({ sql, b }) => contacts.sessionsOfContact(sql, b.personContactId, 10),
    check: empty,
  },
  "contacts.callsOfContact": {
    run: ({ sql, b }) => contacts.callsOfContact(sql, b.personContactId, 10),
    check: empty,
  },
  "leads.upsertOpenLead": {
    run: ({ sql, b }) =>
      leads.upsertOpenLead(sql, {
        contactId: b.personContactId,
        intent: "purchase",
        urgency: "high",
        summary: "alpha lead",
        followUps: [],
        sourceChannel: "web",
        sourceKind: "session",
        sourceId: "s",
      }),
    // A lead of A naming B's contact: the (tenant, contact) reference refuses it.
    mayRefuse: "the contact reference carries the tenant",
  },
  "leads.listLeads": {
    run: ({ sql }) => leads.listLeads(sql, { limit: 50 }),
    check: (r, { a }) => expect((r as { id: string }[]).map((l) => l.id)).toEqual([a.leadId]),
  },
  "leads.findLead": { run: ({ sql, b }) => leads.findLead(sql, b.leadId), check: nothing },
  "leads.setLeadStatus": { run: ({ sql, b }) => leads.setLeadStatus(sql, b.leadId, "won"), check: nothing },
  "leads.leadsOfContact": { run: ({ sql, b }) => leads.leadsOfContact(sql, b.personContactId), check: empty },
  "leads.leadOfSource": {
    run: ({ sql, b }) => leads.leadOfSource(sql, { kind: "call", id: b.callId }),
    check: nothing,
  },
  "extractions.claimExtraction": {
    // A claims its own row for that id (A has no such call); B's extraction is untouched.
    run: ({ sql, b }) => extractions.claimExtraction(sql, { kind: "call", id: b.callId }),
    check: (r) => expect(r).toMatchObject({ attempts: 1, status: "pending" }),
  },
  "extractions.finishExtraction": {
    run: ({ sql, b }) =>
      extractions.finishExtraction(sql, b.extractionId, { status: "failed", error: "alpha", model: "m" }),
  },
  "extractions.findExtraction": {
    run: ({ sql, b }) => extractions.findExtraction(sql, "call", b.callId),
    // Nothing, or A's own claim of that id (the claim case above): never B's succeeded row.
    check: (r) => expect((r as { status: string } | undefined)?.status ?? "pending").toBe("pending"),
  },
  "call-summaries.findCallForInsights": {
    run: ({ sql, b }) => calls.findCallForInsights(sql, b.callId),
    check: nothing,
  },
  "call-summaries.saveCallInsights": {
    run: ({ sql, a, b }) =>
      calls.saveCallInsights(sql, b.callId, { summary: "alpha", contactId: a.personContactId }),
  },
  "session-insights.findSessionForInsights": {
    run: ({ sql, b }) => sessions.findSessionForInsights(sql, b.sessionId),
    check: nothing,
  },
  "session-insights.sessionLines": {
    run: ({ sql, b }) => sessions.sessionLines(sql, b.sessionId, "9223372036854775807", 50),
    check: empty,
  },
  "usage.recordModelCall": {
    run: ({ sql }) =>
      usage.recordModelCall(sql, {
        ...{ identityId: "phone:+14155550100", sessionId: null, channel: "voice", purpose: "extraction" },
        ...{
          provider: "gemini",
          model: "m",
          inputTokens: 1,
          outputTokens: 1,
          cachedTokens: 0,
          thoughtsTokens: 0,
        },
        ...{ costUsd: 0, latencyMs: 1, outcome: "ok" },
      }),
  },
  "session-insights.linkSessionToPhoneContact": {
    // B's session, the number both tenants' contacts have: nothing of B's changes.
    run: ({ sql, b }) => sessions.linkSessionToPhoneContact(sql, b.sessionId, SHARED.phone),
  },
  "session-insights.linkSessionContact": {
    run: ({ sql, a, b }) => sessions.linkSessionContact(sql, b.sessionId, a.personContactId),
  },
};

/** Exports of the contacts modules that touch no tenant's rows. */
export const CONTACTS_DEPLOYMENT_WIDE: Record<string, string> = {
  "leads.LEAD_STATUSES": "a constant",
  "extractions.EXTRACTION_MAX_ATTEMPTS": "a constant",
  "extractions.STALE_PENDING": "a constant",
  "platform-extractions.extractionCandidates":
    "the extraction sweep's cross-tenant list (asPlatform): each candidate is extracted in its own tenant (contact-insights.test.ts)",
};
