import type { VoiceEvent } from "./events";

/** One call's waiting events, as the voice channel reads them for a turn. */
export interface VoiceView {
  /** The pipeline's conversation: the assistant's call leg (`call_control_id`), which both events name. */
  callControlId: string;
  /** The caller's contact, when the call's end named a phone number. */
  contactId: string | null;
  /** The turn's events by message id; an unreadable one is absent. */
  events: Map<string, { event: VoiceEvent; connectionId: string | null }>;
}
