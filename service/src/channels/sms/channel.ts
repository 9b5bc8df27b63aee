import type { Sql } from "../../db/client";
import { contactByPhone } from "../../db/contacts";
import { applyDeliveryReport, lastSendOf, recordConsent, recordSent } from "../../db/sms";
import type { BusinessHours } from "../../domain/business-hours";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import { type SmsEvent, type SmsProvider, SmsProviderError } from "../../ports/sms";
import type {
  ChannelSender,
  ConversationUpdate,
  HandoffStep,
  ParsedNotification,
  PendingMessage,
  QueuedChannel,
  UpstreamFailure,
} from "../pipeline/channel";
import { intercept } from "./commands";
import type { ReplyConnection } from "./connections";
import { fitSms } from "./format";
import { handoffNotice } from "./notices";
import { smsPolicy } from "./policy";
import type { SmsSettings } from "./settings";
import { digest, transmit } from "./transmit";
import type { SmsView } from "./view";

export interface SmsChannelDeps {
  sql: Sql;
  log: Logger;
  /** The tenant's SMS settings and business hours, read per turn (a settings change applies at once). */
  settings(): Promise<{ sms: SmsSettings; hours: BusinessHours }>;
  /** The tenant's number a reply goes out through; undefined when it was disconnected or disabled. */
  connection(connectionId: string): Promise<ReplyConnection | undefined>;
}

/** Provider codes of a delivery that failed because the recipient unsubscribed. */
const OPT_OUT_CODES: Partial<Record<SmsProvider, string>> = { twilio: "21610", telnyx: "40300" };

/**
 * Texts as a channel of the inbound pipeline, for one tenant: a conversation is a customer's number,
 * answered from the tenant's number it texted last. Webhooks are verified and read per provider
 * (SmsInbound, by the number texted), so the channel has no verifier of its own.
 */
export function smsChannel(deps: SmsChannelDeps): QueuedChannel<SmsView> {
  return {
    name: "sms",
    verifier: undefined,
    parser: { parse: () => ({ kind: "probe" }) },
    sender: new SmsSender(deps),
    policy: smsPolicy,
  };
}

class SmsSender implements ChannelSender<SmsView> {
  constructor(private readonly deps: SmsChannelDeps) {}

  async open(customer: string, messages: PendingMessage[]) {
    const { sql } = this.deps;
    const via = [...messages].reverse().find((m) => m.via)?.via;
    const [connection, settings, contactId] = await Promise.all([
      via ? this.deps.connection(via) : undefined,
      this.deps.settings(),
      contactByPhone(sql, customer),
    ]);
    const view: SmsView = { customer, contactId, connection, settings: settings.sms, hours: settings.hours };
    return { view, contactId };
  }

  intercept(view: SmsView, messages: PendingMessage[]) {
    return intercept(this.deps, view, messages);
  }

  /** Plain text, capped at the tenant's segments, links whole. */
  send(view: SmsView, reply: string, outboxIds: string[]) {
    return transmit(this.deps, view, fitSms(reply, view.settings.maxSegments), { kind: "reply", outboxIds });
  }

  /**
   * A send of these rows began and was never recorded as done: it was if the provider gave it an id, or if
   * the provider lists a text with its digest to the customer since; a provider that cannot be asked is
   * taken to have sent it (never twice).
   */
  async delivered(view: SmsView, _messages: PendingMessage[], outboxIds: string[]): Promise<boolean> {
    const { sql } = this.deps;
    const last = await lastSendOf(sql, outboxIds);
    if (!last || last.status === "failed") return false;
    if (last.providerMessageId) return true;
    const connection = view.connection;
    if (!connection?.client.sentSince) return true;
    const since = new Date(last.createdAt.getTime() - 60_000);
    const earlier = await connection.client.sentSince({
      from: connection.phoneNumber,
      to: view.customer,
      since,
    });
    const found = earlier.find((m) => digest(m.text) === last.bodySha256);
    if (!found) return false;
    await recordSent(sql, last.id, { providerMessageId: found.providerMessageId, status: found.status });
    return true;
  }

  /** The customer is told a person will answer, in words that match the team's hours. */
  handoffSteps(view: SmsView): HandoffStep[] {
    if (!view.connection) return [];
    const notice = handoffNotice(view.settings, new Date(), view.hours);
    return [
      {
        name: "sms_notice",
        repeatable: false,
        run: async () => void (await transmit(this.deps, view, notice, { kind: "handoff", outboxIds: [] })),
      },
    ];
  }

  failure(error: unknown): UpstreamFailure | undefined {
    if (!(error instanceof SmsProviderError)) return undefined;
    return { upstream: error.provider, status: error.status, retryAt: error.retryAt };
  }
}

/**
 * A verified webhook's texts as one pipeline delivery: each customer's number is a conversation, each
 * text a message answered through the number it arrived at. The delivery id is the connection's and the
 * provider's message id: a provider's retry is the same delivery, recorded once.
 */
export function smsNotification(connectionId: string, events: SmsEvent[]): ParsedNotification {
  const texts = events.flatMap((e) => (e.kind === "message" ? [e] : []));
  const first = texts[0];
  if (!first) return { kind: "probe" };
  const conversations = new Map<string, ConversationUpdate>();
  for (const t of texts) {
    const update = conversations.get(t.from) ?? { id: t.from, contactId: null, messages: [] };
    const text = t.text.trim() || (t.media.length > 0 ? "(sent a picture)" : "");
    update.messages.push({ id: t.providerMessageId, text, via: connectionId });
    conversations.set(t.from, update);
  }
  return {
    kind: "delivery",
    delivery: {
      id: `${connectionId}:${texts.map((t) => t.providerMessageId).join(",")}`,
      topic: "message.received",
      conversations: [...conversations.values()],
    },
  };
}

/**
 * A provider's delivery report, in the tenant's scope: the text moves forward (never back); a failure is
 * kept on it with the carrier's code, counted in the `sms.delivery` log metric; a failure because the
 * recipient unsubscribed records an opt-out.
 */
export async function applyDeliveryStatus(
  sql: Sql,
  log: Logger,
  from: { provider: SmsProvider; connectionId: string },
  event: Extract<SmsEvent, { kind: "status" }>,
) {
  const updated = await applyDeliveryReport(sql, {
    provider: from.provider,
    providerMessageId: event.providerMessageId,
    status: event.status,
    errorCode: event.errorCode,
  });
  if (!updated) return;
  const failed = event.status === "failed" || event.status === "undelivered";
  log[failed ? "warn" : "info"](
    {
      event: LOG_EVENT.smsDelivery,
      provider: from.provider,
      deliveryStatus: event.status,
      connectionId: from.connectionId,
      ...(event.errorCode ? { errorCode: event.errorCode } : {}),
    },
    failed ? `a text was not delivered (${event.errorCode ?? "no code"})` : `text ${event.status}`,
  );
  if (failed && event.errorCode && event.errorCode === OPT_OUT_CODES[from.provider])
    await recordConsent(sql, {
      phone: updated.customerPhone,
      status: "opted_out",
      source: "provider_error",
      keyword: event.errorCode,
      provider: from.provider,
      connectionId: from.connectionId,
    });
}
