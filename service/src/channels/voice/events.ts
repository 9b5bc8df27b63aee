import { toE164 } from "../../domain/phone";
import { InvalidNotification } from "../pipeline/channel";
import { eventData, isObject, parseJson } from "../pipeline/telnyx-envelope";

/**
 * Telnyx AI assistant events (API v2 envelope `{"data":{"record_type":"event","id","event_type",
 * "occurred_at","payload":{…}},"meta":{…}}`), as the telnyx-node 7.24 types describe them
 * (`CallConversationEnded`, `CallConversationInsightsGenerated` in resources/webhooks.d.ts):
 * - `call.conversation.ended`: `assistant_id, call_control_id, call_session_id, conversation_id,
 *   duration_sec, from, to, reason, connection_id, …`;
 * - `call.conversation_insights.generated`: `call_control_id, call_session_id, insight_group_id,
 *   results[{insight_id, result}]` and NO number or conversation id: only the call leg ties it to its call.
 */

export interface CallEnded {
  kind: "ended";
  eventId: string;
  callControlId: string;
  conversationId: string;
  callSessionId: string | null;
  assistantId: string | null;
  /** The caller: E.164 when it is a phone number, else as sent (a SIP address); null when absent. */
  from: string | null;
  /** The tenant's number that was called. */
  to: string | null;
  durationSec: number | null;
  reason: string | null;
  occurredAt: string | null;
}

export interface CallInsightsGenerated {
  kind: "insights";
  eventId: string;
  callControlId: string;
  callSessionId: string | null;
  insightGroupId: string | null;
  results: { insightId: string | null; result: unknown }[];
}

export type VoiceEvent = CallEnded | CallInsightsGenerated | { kind: "other"; type: string };

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

const number = (v: unknown): string | null => {
  const s = str(v);
  return s === null ? null : (toE164(s) ?? s.trim());
};

function required(v: unknown, what: string): string {
  const s = str(v);
  if (s === null) throw new InvalidNotification("validation_failed", `Telnyx voice event without ${what}`);
  return s;
}

/**
 * The tenant's number an (unverified) body names: `to` of `call.conversation.ended`. Used only to find the
 * connection whose key verifies the body; the insights event names none (routed by the URL's connection).
 */
export function voiceRoutingNumber(body: Uint8Array): string | undefined {
  const data = eventData(parseJson(body));
  if (!data || !isObject(data.payload)) return undefined;
  const to = str(data.payload.to);
  return to ? toE164(to) : undefined;
}

/** Reads a verified body. Throws `InvalidNotification` for one that is not a Telnyx event. */
export function readVoiceEvent(body: Uint8Array): VoiceEvent {
  const json = parseJson(body);
  if (json === undefined) throw new InvalidNotification("invalid_json", "Telnyx webhook body is not JSON");
  const data = eventData(json);
  if (!data)
    throw new InvalidNotification("validation_failed", "Not a Telnyx event: data.event_type is missing");
  const known = ["call.conversation.ended", "call.conversation_insights.generated"];
  if (!known.includes(data.event_type)) return { kind: "other", type: data.event_type };
  const p = data.payload;
  if (!isObject(p)) throw new InvalidNotification("validation_failed", "Telnyx event without a payload");
  const eventId = required(data.id, "data.id");
  const callControlId = required(p.call_control_id, "payload.call_control_id");
  const callSessionId = str(p.call_session_id);
  if (data.event_type === "call.conversation.ended") {
    const duration =
      typeof p.duration_sec === "number" && Number.isFinite(p.duration_sec) ? p.duration_sec : null;
    return {
      kind: "ended",
      eventId,
      callControlId,
      conversationId: required(p.conversation_id, "payload.conversation_id"),
      callSessionId,
      assistantId: str(p.assistant_id),
      from: number(p.from),
      to: number(p.to),
      durationSec: duration === null ? null : Math.max(0, Math.round(duration)),
      reason: str(p.reason),
      occurredAt: str(data.occurred_at),
    };
  }
  const results = Array.isArray(p.results)
    ? p.results.filter(isObject).map((r) => ({ insightId: str(r.insight_id), result: r.result ?? null }))
    : [];
  return {
    kind: "insights",
    eventId,
    callControlId,
    callSessionId,
    insightGroupId: str(p.insight_group_id),
    results,
  };
}
