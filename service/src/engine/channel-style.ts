import type { Channel } from "../domain/turn";

/**
 * What the model is told about the medium, after the tenant's own prompt. A text message is read on a
 * phone and billed per segment: short, plain text, links whole (the channel still caps the length and
 * strips Markdown, channels/sms/format.ts, but an answer written short reads better than one cut short).
 */
const STYLE: Partial<Record<Channel, string>> = {
  sms:
    "This conversation is by text message (SMS). Answer in one to three short sentences of plain text: " +
    "no Markdown, no bullet lists, no headings, no emoji. Give the one thing the customer needs first; if " +
    "there is more, offer to explain. Write links out in full.",
};

export function systemInstructionFor(systemPrompt: string, channel: Channel): string {
  const style = STYLE[channel];
  return style ? `${systemPrompt}\n\n${style}` : systemPrompt;
}
