import type { Sql } from "../../db/client";
import { upsertContactByPhone } from "../../db/contacts";
import { consentOf } from "../../db/sms-consent";
import { deleteSmsMessage, insertSmsMessage, outboundFor, recordSmsSent } from "../../db/sms-messages";
import type { BusinessHours } from "../../domain/business-hours";
import type { Logger } from "../../logger";
import { SmsProviderError } from "../../ports/sms";
import type {
  ChannelSender,
  HandledCommand,
  HandoffStep,
  OpenedConversation,
  PendingMessage,
  Undelivered,
  UpstreamFailure,
} from "../pipeline/channel";
import { changeConsent } from "./consent";
import { fitSms } from "./format";
import { classifyKeyword } from "./keywords";
import { handoffNotice, helpReply, quotaNotice } from "./notices";
import { firstQuotaHit, quotaReached } from "./quota";
import type { SmsSettings } from "./settings";
import { transmit } from "./transmit";
import { answering, type SmsConnection, type SmsView } from "./view";

export interface SmsChannelDeps {
  sql: Sql;
  log: Logger;
  settings(): Promise<SmsSettings> | SmsSettings;
  /** The connection a reply goes out through; undefined when gone/disabled. */
  connection(connectionId: string): Promise<SmsConnection | undefined>;
  /** The tenant's support hours, for the handoff notice's promise of when; absent: no promise. */
  businessHours?(): BusinessHours | undefined;
  now?(): Date;
}

/**
 * The SMS channel's outbound side for one tenant. Every text it sends has its delivery record written
 * first; the customer's consent is checked before every send and the tenant's quota before the model is
 * asked; keywords (STOP, START, HELP) are handled here and never reach the engine.
 */
export class SmsSender implements ChannelSender<SmsView> {
  constructor(private readonly deps: SmsChannelDeps) {}

  private now() {
    return this.deps.now?.() ?? new Date();
  }

  async open(phone: string, messages: PendingMessage[]): Promise<OpenedConversation<SmsView>> {
    const { sql } = this.deps;
    const settings = await this.deps.settings();
    const contact = await upsertContactByPhone(sql, phone);
    const via = messages.findLast((m) => m.via !== null)?.via;
    const connection = via ? await this.deps.connection(via) : undefined;
    const view = {
      phone,
      contactId: contact.id,
      settings,
      connection,
      messageIds: messages.map((m) => m.id),
    };
    if (connection) for (const m of messages) await this.recordInbound(view, connection, m.id);
    return { view, contactId: contact.id };
  }

  /** The inbound text's delivery record (kept once, whatever the retries). */
  private async recordInbound(view: SmsView, connection: SmsConnection, providerMessageId: string) {
    await insertSmsMessage(this.deps.sql, {
      connectionId: connection.id,
      direction: "inbound",
      provider: connection.provider,
      providerMessageId,
      customerPhone: view.phone,
      businessPhone: connection.phoneNumber,
      purpose: "inbound",
      status: "received",
    });
  }

  async commands(view: SmsView, messages: PendingMessage[]): Promise<HandledCommand[]> {
    const { sql } = this.deps;
    const handled: HandledCommand[] = [];
    let optedOut = (await consentOf(sql, view.phone)) === "opted_out";
    const questions: string[] = [];
    for (const m of messages) {
      const keyword = m.text ? classifyKeyword(m.text) : undefined;
      // The provider confirms STOP and START itself: Switchboard records them and sends nothing.
      if (keyword?.kind === "opt_out") {
        await this.consent(view, "opted_out", keyword.keyword);
        optedOut = true;
        handled.push({ ids: [m.id], status: "done", outcome: "opted_out" });
      } else if (keyword?.kind === "opt_in" && optedOut) {
        await this.consent(view, "opted_in", keyword.keyword);
        optedOut = false;
        handled.push({ ids: [m.id], status: "done", outcome: "opted_in" });
      } else if (keyword?.kind === "help") {
        const outcome = await this.help(view, m.id);
        handled.push({ ids: [m.id], status: "done", outcome, replied: outcome === "help" });
      } else questions.push(m.id);
    }
    if (questions.length === 0) return handled;
    if (optedOut) return [...handled, { ids: questions, status: "skipped", outcome: "opted_out" }];
    const period = await quotaReached(sql, view.settings, this.now());
    if (!period) return handled;
    await this.quotaHit(view, period, questions.at(-1));
    return [...handled, { ids: questions, status: "skipped", outcome: "sms_quota_reached" }];
  }

  private consent(view: SmsView, status: "opted_out" | "opted_in", keyword: string | undefined) {
    const source = keyword === undefined ? "provider_error" : "keyword";
    return changeConsent(this.deps.sql, this.deps.log, {
      phone: view.phone,
      status,
      source,
      keyword,
      provider: view.connection?.provider,
      connectionId: view.connection?.id,
    });
  }

  /** HELP gets the tenant's help text once per HELP message (its record is the idempotency key). */
  private async help(view: SmsView, messageId: string): Promise<string> {
    if (await outboundFor(this.deps.sql, [messageId], "help")) return "help";
    const sent = await this.guarded(view, helpReply(view.settings), "help", messageId);
    return sent?.undelivered ?? "help";
  }

  /** Over quota: the customer's one notice of the period, and a skipped record the usage report counts. */
  private async quotaHit(view: SmsView, period: "day" | "month", messageId: string | undefined) {
    const { sql } = this.deps;
    const connection = view.connection;
    if (connection)
      await insertSmsMessage(sql, {
        connectionId: connection.id,
        direction: "outbound",
        provider: connection.provider,
        customerPhone: view.phone,
        businessPhone: connection.phoneNumber,
        purpose: "reply",
        replyTo: messageId,
        status: "skipped",
        errorCode: "sms_quota_reached",
      });
    if (await firstQuotaHit(sql, view.phone, period, this.now()))
      await this.guarded(view, quotaNotice(view.settings, period), "quota_notice", messageId);
  }

  async send(view: SmsView, reply: string): Promise<Undelivered | undefined> {
    if ((await consentOf(this.deps.sql, view.phone)) === "opted_out") return { undelivered: "opted_out" };
    return this.guarded(view, fitSms(reply, view.settings.maxSegments), "reply", answering(view));
  }

  /** Sends a text; a provider's opt-out refusal is recorded as the customer's opt-out. */
  private async guarded(
    view: SmsView,
    text: string,
    purpose: "reply" | "help" | "handoff" | "quota_notice",
    replyTo: string | undefined,
  ): Promise<Undelivered | undefined> {
    const result = await transmit(this.deps.sql, view, text, { purpose, replyTo });
    if (!(result instanceof SmsProviderError)) return result;
    if (result.kind === "opted_out") await this.consent(view, "opted_out", undefined);
    return { undelivered: result.kind };
  }

  /**
   * A send a crash interrupted: its record has the provider's id (sent); or the provider lists a text to
   * the customer since the record was written, matching the reply (sent: recorded now); or it does not
   * (never sent: the record goes, and the stored reply is sent). A provider that cannot be asked: sent.
   */
  async delivered(view: SmsView, messages: PendingMessage[], reply: string | null): Promise<boolean> {
    const { sql } = this.deps;
    const record = await outboundFor(
      sql,
      messages.map((m) => m.id),
      "reply",
    );
    // The crash came before the record was written: the provider was never called.
    if (!record) return false;
    if (record.providerMessageId !== null || record.status !== "pending") return true;
    const connection = view.connection;
    const sentSince = connection?.client.sentSince;
    if (!connection || !sentSince) return true;
    const earlier = await sentSince.call(connection.client, {
      from: connection.phoneNumber,
      to: view.phone,
      since: new Date(record.createdAt.getTime() - 60_000),
    });
    const text = reply === null ? undefined : fitSms(reply, view.settings.maxSegments).trim();
    const found = earlier.find((e) => text === undefined || e.text.trim() === text);
    if (!found) {
      await deleteSmsMessage(sql, record.id);
      return false;
    }
    await recordSmsSent(sql, record.id, {
      providerMessageId: found.providerMessageId,
      status: found.status,
      segments: record.segments ?? 1,
    });
    return true;
  }

  handoffSteps(view: SmsView): HandoffStep[] {
    return [
      {
        name: "sms_notice",
        // A text to the customer: recorded before it runs and never sent twice.
        repeatable: false,
        run: async () => {
          if ((await consentOf(this.deps.sql, view.phone)) === "opted_out") return;
          const notice = handoffNotice(view.settings, this.now(), this.deps.businessHours?.());
          await this.guarded(view, notice, "handoff", answering(view));
        },
      },
    ];
  }

  failure(error: unknown): UpstreamFailure | undefined {
    if (!(error instanceof SmsProviderError)) return undefined;
    return { upstream: error.provider, status: error.status, retryAt: error.retryAt };
  }
}
