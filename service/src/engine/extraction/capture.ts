import type { Sql } from "../../db/client";
import { mergeContact } from "../../db/contacts";
import {
  findSessionForInsights,
  linkSessionContact,
  linkSessionToPhoneContact,
} from "../../db/session-insights";
import { toE164 } from "../../domain/phone";
import type { Logger } from "../../logger";
import { findEmails } from "../../redaction/email";
import { findPhones } from "../../redaction/phones";

/**
 * The e-mail address and phone number a customer types into a conversation, read from the raw text before
 * redaction replaces them with placeholders (the stored history, which extraction reads later, has only
 * "[EMAIL]"): the session is linked to the contact with those handles at once. The handles go to the
 * contacts table only, never to a model or a log line.
 */
export function handlesIn(text: string): { email: string | null; phone: string | null } {
  // Nothing that could be a handle lacks a digit or an @.
  if (!/[\d@]/.test(text)) return { email: null, phone: null };
  const [mail] = findEmails(text);
  const email = mail ? text.slice(mail.start, mail.end).toLowerCase() : null;
  let phone: string | null = null;
  for (const span of findPhones(text)) {
    phone = toE164(text.slice(span.start, span.end)) ?? null;
    if (phone) break;
  }
  return { email, phone };
}

/**
 * Links the turn's session to its contact: a new texting session to its number's contact, and any session
 * to the contact of the handles its text holds (merged with the contact the session has already, and with
 * the SMS thread's number). A failure is logged and the turn goes on: the idle extraction links the
 * session later from what it can read.
 */
export async function captureContact(
  deps: { sql: Sql; log: Pick<Logger, "warn"> },
  turn: { sessionId: string; channel: string; text: string; identityId: string; newSession: boolean },
): Promise<void> {
  // A texting customer's first turn: their number's contact (the SMS channel made it) is the session's.
  if (turn.newSession && turn.identityId.startsWith("phone:"))
    await linkSessionToPhoneContact(deps.sql, turn.sessionId, turn.identityId.slice(6)).catch((error) =>
      warn(deps.log, error),
    );
  const { email, phone } = handlesIn(turn.text);
  if (!(email || phone)) return;
  try {
    const session = await findSessionForInsights(deps.sql, turn.sessionId);
    if (!session) return;
    const threadPhone = session.identityId.startsWith("phone:") ? session.identityId.slice(6) : null;
    const contact = await mergeContact(deps.sql, {
      id: session.contactId,
      email,
      phone: threadPhone ?? phone,
      intercomContactId: session.intercomContactId,
      channel: turn.channel,
    });
    await linkSessionContact(deps.sql, turn.sessionId, contact.id);
  } catch (error) {
    warn(deps.log, error);
  }
}

/** The error's code only: a constraint's message would quote the handle. */
function warn(log: Pick<Logger, "warn">, error: unknown) {
  const code = (error as { code?: string }).code ?? (error instanceof Error ? error.name : "unknown");
  log.warn({ event: "contact.capture_failed", code }, "the contact of a turn could not be recorded");
}
