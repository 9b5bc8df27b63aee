/**
 * Telnyx AI assistant (voice) emulator: the conversations API the service reads a transcript from, and a
 * caller that plays a call against the service the way Telnyx does. Served by the Telnyx emulator
 * (test/emulators/telnyx.ts: `emulator.conversations`, same API key and base URL as messaging).
 *
 * Covered of the real service (https://developers.telnyx.com/api-reference, telnyx-node 7.24's types):
 * - `GET /v2/ai/conversations/{conversation_id}/messages?page[number]&page[size]` → `{"data":[{role,
 *   text, created_at, sent_at, tool_calls?}], "meta":{page_number, page_size, total_pages, total_results}}`
 *   (page size 1–250, default 20); an unknown conversation → 404 with code 10005.
 * - `assistant.initialization`: `POST` to the assistant's dynamic-variables URL with `{"data":{"event_type":
 *   "assistant.initialization","payload":{telnyx_conversation_channel:"phone_call", telnyx_agent_target,
 *   telnyx_end_user_target, telnyx_end_user_target_verified (STIR/SHAKEN), call_control_id, assistant_id}}}`; signed
 *   when `signed` is asked for (Telnyx does not document whether it signs it).
 * - `call.conversation.ended` and `call.conversation_insights.generated`, signed Ed25519 like every webhook.
 *
 * Not covered: the call audio itself, transfers, the assistant's tools, insight groups as resources.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { sendJson } from "./http-server";
import type { TelnyxEmulator, TelnyxEvent } from "./telnyx";

export interface ConversationMessage {
  role: "user" | "assistant" | "tool";
  text: string;
  created_at: string;
  sent_at: string;
}

/** The assistant conversations a Telnyx account holds, as the conversations API lists them. */
export class TelnyxConversations {
  private readonly byId = new Map<string, ConversationMessage[]>();

  /** Stores a conversation; each line is `{ role, text }`, a second apart from `startedAt`. */
  add(id: string, lines: { role: ConversationMessage["role"]; text: string }[], startedAt = new Date()) {
    this.byId.set(
      id,
      lines.map((l, i) => {
        const at = new Date(startedAt.getTime() + i * 1000).toISOString();
        return { role: l.role, text: l.text, created_at: at, sent_at: at };
      }),
    );
  }

  clear() {
    this.byId.clear();
  }

  /** Answers the API's request when it is one of the conversations paths; false otherwise. */
  handle(method: string, path: string, query: Record<string, string>, res: ServerResponse): boolean {
    const match = /^\/v2\/ai\/conversations\/([^/]+)\/messages$/.exec(path);
    if (method !== "GET" || !match) return false;
    const messages = this.byId.get(match[1] ?? "");
    if (!messages) {
      sendJson(res, 404, {
        errors: [{ code: "10005", title: "Resource not found", detail: "Conversation not found." }],
      });
      return true;
    }
    const size = Number(query["page[size]"] ?? 20);
    const page = Number(query["page[number]"] ?? 1);
    if (!Number.isInteger(size) || size < 1 || size > 250 || !Number.isInteger(page) || page < 1) {
      sendJson(res, 422, { errors: [{ code: "10015", title: "Invalid page parameters" }] });
      return true;
    }
    const total = messages.length;
    sendJson(res, 200, {
      data: messages.slice((page - 1) * size, page * size),
      meta: {
        page_number: page,
        page_size: size,
        total_pages: Math.max(1, Math.ceil(total / size)),
        total_results: total,
      },
    });
    return true;
  }
}

export interface PlayedCall {
  from: string;
  to: string;
  /** What the caller and the assistant said, in order. */
  lines: { role: "user" | "assistant"; text: string }[];
  durationSec?: number;
  /** Telnyx's insights of the call (sent after the end unless `insightsFirst`). */
  insights?: { insightId: string; result: unknown }[];
  insightsFirst?: boolean;
  /** How many times each event is delivered (Telnyx retries a webhook that was not acknowledged). */
  deliveries?: number;
  /** Sign the dynamic-variables request too (default: the URL token alone proves it). */
  signInitialization?: boolean;
}

export interface CallIds {
  conversationId: string;
  callControlId: string;
  callSessionId: string;
  assistantId: string;
}

function envelope(eventType: string, payload: Record<string, unknown>): TelnyxEvent {
  return {
    data: {
      record_type: "event",
      id: randomUUID(),
      event_type: eventType,
      occurred_at: new Date().toISOString(),
      payload,
    },
    meta: { attempt: 1, delivered_to: "" },
  };
}

/** `assistant.initialization` as the assistant's dynamic-variables webhook gets it. */
export function initializationBody(
  call: { from: string; to: string; verified?: boolean },
  ids: CallIds,
): string {
  return JSON.stringify({
    data: {
      record_type: "event",
      id: randomUUID(),
      event_type: "assistant.initialization",
      occurred_at: new Date().toISOString(),
      payload: {
        telnyx_conversation_channel: "phone_call",
        telnyx_agent_target: call.to,
        telnyx_end_user_target: call.from,
        // Full STIR/SHAKEN attestation unless the call says otherwise.
        telnyx_end_user_target_verified: call.verified ?? true,
        call_control_id: ids.callControlId,
        assistant_id: ids.assistantId,
      },
    },
  });
}

export function conversationEnded(call: { from: string; to: string; durationSec?: number }, ids: CallIds) {
  return envelope("call.conversation.ended", {
    assistant_id: ids.assistantId,
    call_control_id: ids.callControlId,
    call_leg_id: randomUUID(),
    call_session_id: ids.callSessionId,
    calling_party_type: "pstn",
    connection_id: "1684641123236054244",
    conversation_id: ids.conversationId,
    duration_sec: call.durationSec ?? 42,
    from: call.from,
    to: call.to,
    reason: "user_hangup",
    llm_model: "meta-llama/Meta-Llama-3.1-70B-Instruct",
  });
}

export function insightsGenerated(results: { insightId: string; result: unknown }[], ids: CallIds) {
  return envelope("call.conversation_insights.generated", {
    call_control_id: ids.callControlId,
    call_leg_id: randomUUID(),
    call_session_id: ids.callSessionId,
    calling_party_type: "pstn",
    connection_id: "1684641123236054244",
    insight_group_id: "a6e4f2c0-0000-4000-8000-00000000001a",
    results: results.map((r) => ({ insight_id: r.insightId, result: r.result })),
  });
}

export function newCallIds(): CallIds {
  return {
    conversationId: randomUUID(),
    callControlId: `v3:${randomUUID().replaceAll("-", "")}`,
    callSessionId: randomUUID(),
    assistantId: `assistant-${randomUUID()}`,
  };
}

/**
 * Plays one call as Telnyx would: the dynamic-variables request when it starts, the conversation stored in
 * the API, then the signed end-of-call event and the insights (each delivered `deliveries` times).
 */
export async function playCall(
  telnyx: TelnyxEmulator,
  urls: { dynamicVariablesUrl: string; eventsUrl: string },
  call: PlayedCall,
): Promise<{ ids: CallIds; variables: { status: number; body: string }; events: number[] }> {
  const ids = newCallIds();
  const body = initializationBody(call, ids);
  const headers = call.signInitialization
    ? telnyx.signTelnyxWebhook(body)
    : { "content-type": "application/json" };
  const res = await fetch(urls.dynamicVariablesUrl, { method: "POST", headers, body });
  const variables = { status: res.status, body: await res.text() };
  telnyx.conversations.add(ids.conversationId, call.lines);
  const ended = conversationEnded(call, ids);
  const insights = call.insights ? insightsGenerated(call.insights, ids) : undefined;
  const order = call.insightsFirst && insights ? [insights, ended] : insights ? [ended, insights] : [ended];
  const events: number[] = [];
  for (const event of order)
    for (let i = 0; i < (call.deliveries ?? 1); i++) {
      const attempt = { ...event, meta: { ...event.meta, attempt: i + 1 } };
      events.push((await telnyx.deliver(urls.eventsUrl, attempt)).status);
    }
  return { ids, variables, events };
}
