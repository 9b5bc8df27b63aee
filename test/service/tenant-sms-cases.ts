import { expect } from "vitest";
import * as contacts from "../../service/src/db/contacts";
import * as consent from "../../service/src/db/sms-consent";
import * as messages from "../../service/src/db/sms-messages";
import * as quota from "../../service/src/db/sms-quota";
import { smsUsageByDay } from "../../service/src/db/usage-report";
import { SHARED } from "./tenant-fixtures";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the SMS tables' repository functions (contacts, consent, delivery records, quota),
 * run like those of tenant-repository-cases.ts: inside tenant A's scope with B's ids and the phone number
 * both tenants' customer shares.
 */

const nothing = (result: unknown) => expect(result).toBeUndefined();
const OUTBOUND = "direction = 'outbound'";

export const SMS_CASES: Record<string, IsolationCase> = {
  "contacts.upsertContactByPhone": {
    run: ({ sql }) => contacts.upsertContactByPhone(sql, SHARED.phone),
    check: (r, { a }) => expect((r as { id: string }).id).toBe(a.smsContactId),
  },
  "contacts.findContactByPhone": {
    run: ({ sql }) => contacts.findContactByPhone(sql, SHARED.phone),
    check: (r, { a }) => expect((r as { id: string }).id).toBe(a.smsContactId),
  },
  "sms-consent.recordConsent": {
    run: ({ sql }) =>
      consent.recordConsent(sql, { phone: SHARED.phone, status: "opted_out", source: "admin" }),
  },
  "sms-consent.consentOf": {
    run: ({ sql }) => consent.consentOf(sql, SHARED.phone),
    // B's newest event is an opt-in; A's an opt-out: a leak would answer opted_in.
    check: (r) => expect(r).toBe("opted_out"),
  },
  "sms-consent.consentHistory": {
    run: ({ sql }) => consent.consentHistory(sql, SHARED.phone),
    check: async (r, ctx) => expect((r as unknown[]).length).toBe(await ctx.countOfA("sms_consent")),
  },
  "sms-messages.insertSmsMessage": {
    run: ({ sql, b }) =>
      messages.insertSmsMessage(sql, {
        connectionId: null,
        direction: "outbound",
        provider: "twilio",
        providerMessageId: b.smsProviderMessageId,
        customerPhone: SHARED.phone,
        businessPhone: "+15550000000",
        purpose: "reply",
        status: "pending",
      }),
    // B's provider id is unique across tenants: nothing is written, nothing of B's returned.
    check: nothing,
  },
  "sms-messages.recordSmsSent": {
    run: ({ sql, b }) =>
      messages.recordSmsSent(sql, b.smsMessageId, {
        providerMessageId: "SM-alpha",
        status: "sent",
        segments: 1,
      }),
  },
  "sms-messages.recordSmsFailed": {
    run: ({ sql, b }) => messages.recordSmsFailed(sql, b.smsMessageId, "30003"),
  },
  "sms-messages.deleteSmsMessage": { run: ({ sql, b }) => messages.deleteSmsMessage(sql, b.smsMessageId) },
  "sms-messages.textsOf": {
    run: ({ sql }) => messages.textsOf(sql, SHARED.phone, 50),
    check: (r, { a, b }) => {
      const ids = (r as { id: string }[]).map((t) => t.id);
      expect(ids).toContain(a.smsMessageId);
      expect(ids).not.toContain(b.smsMessageId);
    },
  },
  "sms-messages.outboundFor": {
    run: ({ sql, b }) => messages.outboundFor(sql, [`${b.marker}-in`], "reply"),
    check: nothing,
  },
  "sms-messages.applySmsStatus": {
    run: ({ sql, b }) =>
      messages.applySmsStatus(sql, {
        providerMessageId: b.smsProviderMessageId,
        status: "failed",
        errorCode: "1",
      }),
    check: nothing,
  },
  "sms-quota.smsSentCounts": {
    run: ({ sql }) => quota.smsSentCounts(sql, new Date()),
    check: async (r, ctx) =>
      expect((r as { month: number }).month).toBe(await ctx.countOfA("sms_messages", OUTBOUND)),
  },
  "sms-quota.claimQuotaNotice": {
    run: ({ sql, b }) => quota.claimQuotaNotice(sql, SHARED.phone, `day:${b.marker}`),
    // B claimed this period for the shared number; A has not: its own claim succeeds.
    check: (r) => expect(r).toBe(true),
  },
  "usage-report.smsUsageByDay": {
    run: ({ sql }) => smsUsageByDay(sql, { from: "2000-01-01", to: "2100-01-01" }),
    check: async (r, ctx) => {
      const sent = (r as { sent: number }[]).reduce((n, row) => n + row.sent, 0);
      expect(sent).toBe(await ctx.countOfA("sms_messages", OUTBOUND));
      expect(sent).toBeGreaterThan(0);
    },
  },
};
