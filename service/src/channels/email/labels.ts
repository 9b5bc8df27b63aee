import type { Logger } from "../../logger";
import type { GmailMailbox } from "../../ports/gmail";
import type { EmailSettings } from "./settings";

/**
 * The Gmail labels that show agents what the bot did: the customer's message gets `<label>/Answered`,
 * `<label>/Draft` or `<label>/Handoff`; what the bot wrote gets `<label>`. Labels are best effort: a
 * label that fails is logged and never fails (or repeats) the send it follows.
 */
export type LabelKind = "answered" | "draft" | "handoff" | "written";

const SUFFIX: Record<LabelKind, string> = {
  answered: "/Answered",
  draft: "/Draft",
  handoff: "/Handoff",
  written: "",
};

export function labelName(settings: Pick<EmailSettings, "label">, kind: LabelKind): string {
  return `${settings.label}${SUFFIX[kind]}`;
}

/** Puts each label on its message; failures are logged (event `email.label_failed`), never thrown. */
export async function applyLabels(
  gmail: GmailMailbox,
  log: Logger,
  settings: Pick<EmailSettings, "label">,
  labels: { messageId: string; kind: LabelKind }[],
): Promise<void> {
  for (const { messageId, kind } of labels) {
    try {
      const id = await gmail.labelId(labelName(settings, kind));
      await gmail.addLabels(messageId, [id]);
    } catch (error) {
      log.warn(
        { event: "email.label_failed", label: labelName(settings, kind), gmailId: messageId, error },
        "a Gmail label could not be applied; the message itself is not affected",
      );
    }
  }
}
