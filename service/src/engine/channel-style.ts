import type { Channel } from "../domain/turn";

/**
 * What the model is told about the medium, after the tenant's system prompt. A text message is read on a
 * phone and billed per segment, and Markdown shows as literal asterisks: the channel still fits the reply
 * (channels/sms/format.ts), but a reply written short and plain needs no cutting.
 */
const SMS_STYLE =
  "This conversation is by SMS text message. Answer in two or three short sentences of plain text: no " +
  "Markdown, no lists, no headings, no emoji. Give a link as a full URL when one helps.";

export function systemInstructionFor(systemPrompt: string, channel: Channel): string {
  return channel === "sms" ? `${systemPrompt}\n\n${SMS_STYLE}` : systemPrompt;
}
