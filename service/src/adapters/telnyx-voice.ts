import { APIError } from "telnyx";
import { type VoiceProviderClient, VoiceProviderError, type VoiceTranscriptMessage } from "../ports/voice";
import { type TelnyxAccountOptions, telnyxAccount } from "./telnyx-client";

export type TelnyxVoiceClientOptions = TelnyxAccountOptions;
/** Telnyx's largest page; a transcript rarely needs a second one. */
const PAGE_SIZE = 100;
/**
 * The SDK stops when `meta.page_number` reaches `meta.total_pages`; an answer without `total_pages` would
 * page forever, so the reading stops here (10 000 messages is far beyond any phone call).
 */
const MAX_PAGES = 100;

/**
 * A tenant's Telnyx account for the voice channel: `GET /v2/ai/conversations/{id}/messages` through the
 * official client's paginated `ai.conversations.messages.list` (7.24), every page (telnyx-client.ts: no
 * SDK retries or logging).
 */
export function telnyxVoiceClient(opts: TelnyxVoiceClientOptions): VoiceProviderClient {
  const client = telnyxAccount(opts);
  return {
    async conversationMessages(conversationId) {
      const messages: VoiceTranscriptMessage[] = [];
      try {
        let page = await client.ai.conversations.messages.list(conversationId, { "page[size]": PAGE_SIZE });
        for (let n = 1; ; n++) {
          for (const m of page.getPaginatedItems()) messages.push(messageOf(m));
          if (n >= MAX_PAGES || !page.hasNextPage()) break;
          page = await page.getNextPage();
        }
      } catch (error) {
        throw toVoiceError(error);
      }
      // Telnyx lists newest first or oldest first depending on the endpoint's version: order them here.
      return messages.sort((a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? ""));
    },
  };
}

function messageOf(m: { role: string; text?: string | null; created_at?: string; sent_at?: string }) {
  const role = m.role === "assistant" || m.role === "tool" ? m.role : "user";
  return {
    role,
    text: typeof m.text === "string" ? m.text : "",
    createdAt: m.created_at ?? m.sent_at ?? null,
  } as const;
}

/** The SDK's error in the channel's terms: the status only, never the request (it carried the key). */
function toVoiceError(error: unknown): VoiceProviderError {
  if (!(error instanceof APIError) || error.status === undefined) {
    const what = error instanceof Error ? error.name : "unknown error";
    return new VoiceProviderError(0, `Telnyx did not answer (${what})`);
  }
  const retry = error.headers?.get("retry-after")?.trim();
  const retryAt = retry && /^\d+$/.test(retry) ? new Date(Date.now() + Number(retry) * 1000) : undefined;
  return new VoiceProviderError(error.status, `Telnyx answered ${error.status}`, retryAt);
}
