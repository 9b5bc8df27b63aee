import { type EndedCall, markContactChannel, recordCallInsights, recordEndedCall } from "../../db/calls";
import type { Sql } from "../../db/client";
import { mergeContact, upsertContactByPhone } from "../../db/contacts";
import { handlesIn } from "../../engine/extraction/capture";
import type { CallInsights, DispatchAfterCommit, Escalations, OutboundEvents } from "../../engine/follow-up";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import { type VoiceProviderClient, VoiceProviderError } from "../../ports/voice";
import type {
  ChannelSender,
  HandledCommand,
  HandoffStep,
  OpenedConversation,
  PendingMessage,
  UpstreamFailure,
} from "../pipeline/channel";
import type { CallEnded, CallInsightsGenerated, VoiceEvent } from "./events";
import type { VoiceView } from "./view";

/** What follows a stored call up: each part is another area's, absent where the deployment has none yet. */
export interface VoiceFollowUp {
  insights?: CallInsights | undefined;
  escalations?: Escalations | undefined;
  events?: OutboundEvents | undefined;
}

export interface VoiceChannelDeps {
  sql: Sql;
  log: Logger;
  /** The Telnyx client of the connection an event arrived through; undefined when it is gone or disabled. */
  client(connectionId: string): Promise<VoiceProviderClient | undefined>;
  /** PII redaction of a transcript's text before it is stored (the messages table's rule: PII_REDACTION). */
  redact(text: string): string;
  followUp: VoiceFollowUp;
}

const E164 = /^\+[1-9][0-9]{6,14}$/;

function eventOf(m: PendingMessage): VoiceEvent | undefined {
  try {
    const parsed = JSON.parse(m.text ?? "") as VoiceEvent;
    return parsed && typeof parsed === "object" && "kind" in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The voice channel's work: each event of a call is a command. `call.conversation.ended` reads the
 * transcript from Telnyx, stores the call with its contact and `call.completed` in one transaction, then
 * runs the extraction and opens an escalation when the caller asked for a person; insights are stored with
 * the call whenever they come. Everything is keyed so a retry rewrites rather than adds.
 */
export class VoiceSender implements ChannelSender<VoiceView> {
  constructor(private readonly deps: VoiceChannelDeps) {}

  async open(callControlId: string, messages: PendingMessage[]): Promise<OpenedConversation<VoiceView>> {
    const events = new Map<string, { event: VoiceEvent; connectionId: string | null }>();
    for (const m of messages) {
      const event = eventOf(m);
      if (event) events.set(m.id, { event, connectionId: m.via });
    }
    const ended = [...events.values()].find((e) => e.event.kind === "ended")?.event as CallEnded | undefined;
    const caller = ended?.from && E164.test(ended.from) ? ended.from : undefined;
    const contactId = caller ? (await upsertContactByPhone(this.deps.sql, caller)).id : null;
    return { view: { callControlId, contactId, events }, contactId };
  }

  async commands(view: VoiceView, messages: PendingMessage[]): Promise<HandledCommand[]> {
    const handled: HandledCommand[] = [];
    for (const m of messages) {
      const found = view.events.get(m.id);
      if (!found?.connectionId) {
        handled.push({ ids: [m.id], status: "skipped", outcome: "part_missing" });
        continue;
      }
      const { event, connectionId } = found;
      if (event.kind === "insights") {
        await this.storeInsights(connectionId, event);
        handled.push({ ids: [m.id], status: "done", outcome: "insights_stored" });
      } else if (event.kind === "ended") {
        const outcome = await this.storeCall(view, connectionId, event);
        handled.push({ ids: [m.id], status: outcome === "call_stored" ? "done" : "skipped", outcome });
      } else handled.push({ ids: [m.id], status: "skipped", outcome: "ignored" });
    }
    return handled;
  }

  private async storeInsights(connectionId: string, event: CallInsightsGenerated) {
    await recordCallInsights(
      this.deps.sql,
      { connectionId, callControlId: event.callControlId, callSessionId: event.callSessionId },
      { insightGroupId: event.insightGroupId, results: event.results, receivedAt: new Date().toISOString() },
    );
  }

  private async storeCall(view: VoiceView, connectionId: string, event: CallEnded) {
    const { sql, log, followUp } = this.deps;
    const client = await this.deps.client(connectionId);
    if (!client) return "channel_not_connected";
    // Read before the transaction: no connection is held while Telnyx answers.
    const messages = await client.conversationMessages(event.conversationId);
    // The e-mail address the caller spoke, read before redaction turns it into "[EMAIL]": it goes to the
    // contact only (the stored transcript and the extraction see the placeholder).
    const spokenEmail = messages
      .filter((m) => m.role === "user")
      .map((m) => handlesIn(m.text).email)
      .find((e) => e !== null);
    const transcript = messages.map((m) => ({ ...m, text: this.deps.redact(m.text) }));
    const call: EndedCall = {
      connectionId,
      callControlId: event.callControlId,
      conversationId: event.conversationId,
      callSessionId: event.callSessionId,
      assistantId: event.assistantId,
      fromNumber: event.from,
      toNumber: event.to,
      contactId: view.contactId,
      durationSec: event.durationSec,
      reason: event.reason,
      transcript,
      endedAt: instantOf(event.occurredAt),
    };
    const { id, dispatch } = await sql.begin(async (tx) => {
      const t = tx as unknown as Sql;
      const stored = await recordEndedCall(t, call);
      if (view.contactId) await markContactChannel(t, view.contactId, "voice");
      let dispatch: DispatchAfterCommit | undefined;
      // Recorded with the call, once: a retried end finds the call ended already.
      if (stored.firstEnd && followUp.events)
        dispatch = await followUp.events.record(t, {
          type: "call.completed",
          orderingKey: view.contactId,
          data: completedData(stored.id, call),
        });
      return { id: stored.id, dispatch };
    });
    await dispatch?.();
    // Merged with the contact of that address if another channel knew it (its calls move with it); after
    // the call's transaction: a merge takes the tenant's contacts lock in a transaction of its own.
    if (view.contactId && spokenEmail)
      view.contactId = (
        await mergeContact(sql, { id: view.contactId, email: spokenEmail, channel: "voice" })
      ).id;
    log.info(
      { event: LOG_EVENT.voiceCallStored, callId: id, connectionId, messages: transcript.length },
      "call stored",
    );
    await this.followUp(view, event, id);
    return "call_stored";
  }

  /** The extraction (idempotent per call), then an escalation when the caller asked for a person. */
  private async followUp(view: VoiceView, event: CallEnded, callId: string) {
    const { insights, escalations } = this.deps.followUp;
    if (!insights) return;
    const result = await insights.afterCall(callId);
    if (!result.extraction?.wantsPerson || !escalations) return;
    await escalations.open({
      channel: "voice",
      conversationId: event.callControlId,
      contactId: result.contactId ?? view.contactId,
      reason: "asked_for_person",
      summary: result.extraction.summary,
    });
  }

  /** A call is over when its events come: there is nothing to hand over. */
  handoffSteps(): HandoffStep[] {
    return [];
  }

  /** Never called: a voice event is never answered with a message. */
  async send(): Promise<{ undelivered: string }> {
    return { undelivered: "voice_has_no_replies" };
  }

  failure(error: unknown): UpstreamFailure | undefined {
    if (!(error instanceof VoiceProviderError)) return undefined;
    return { upstream: "telnyx", status: error.status, retryAt: error.retryAt };
  }
}

/** When Telnyx says the call ended; now when it said nothing readable (a bad date must not fail the row). */
function instantOf(iso: string | null): Date {
  const at = iso ? new Date(iso) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : new Date();
}

/** `call.completed`'s data: what a CRM needs of the call, never its transcript (the admin API has it). */
function completedData(callId: string, call: EndedCall): Record<string, unknown> {
  return {
    callId,
    contactId: call.contactId,
    from: call.fromNumber,
    to: call.toNumber,
    durationSec: call.durationSec,
    reason: call.reason,
    endedAt: call.endedAt.toISOString(),
  };
}
