/**
 * What the voice channel (channels/voice/) needs of the provider running a tenant's phone assistant
 * (Telnyx AI assistants): the transcript of a conversation once the call ended. The vendor SDK stays in
 * adapters/telnyx-voice.ts.
 */

/** One message of an assistant conversation, oldest first. */
export interface VoiceTranscriptMessage {
  role: "user" | "assistant" | "tool";
  /** What was said (empty for a tool call without text). */
  text: string;
  /** When it was said, as the provider reports it (ISO 8601), when it does. */
  createdAt: string | null;
}

/** One tenant's account at the provider (its connection's API key). */
export interface VoiceProviderClient {
  /**
   * Every message of the conversation, all pages read, oldest first. Throws `VoiceProviderError` when the
   * provider refuses or does not answer.
   */
  conversationMessages(conversationId: string): Promise<VoiceTranscriptMessage[]>;
}

export class VoiceProviderError extends Error {
  constructor(
    /** The HTTP status the provider answered with; 0 when it did not answer. */
    readonly status: number,
    message: string,
    /** When the provider said to come back (a 429's Retry-After). */
    readonly retryAt?: Date | undefined,
  ) {
    super(message);
    this.name = "VoiceProviderError";
  }
}
