import type { IntercomConversation, IntercomPart } from "../../ports/intercom";

/** Authors that are the customer (Intercom names a visitor a lead, an identified one a user). */
export const CUSTOMER_AUTHORS = new Set(["user", "lead", "contact"]);

/** Messages written by the customer (never by the bot's own admin: no self-reply loops). */
export function customerParts(parts: IntercomPart[], botAdminId: string): IntercomPart[] {
  return parts.filter(
    (p) =>
      CUSTOMER_AUTHORS.has(p.authorType) &&
      p.authorId !== botAdminId &&
      (p.partType === "source" || p.partType === "comment" || p.partType === "open") &&
      p.body.trim() !== "",
  );
}

/** The customer's messages after the last admin comment (bot or person): what still waits for an answer. */
export function unansweredParts(conversation: IntercomConversation, botAdminId: string): IntercomPart[] {
  let lastAdmin = -1;
  conversation.parts.forEach((p, i) => {
    if ((p.authorType === "admin" || p.authorType === "bot") && p.partType === "comment") lastAdmin = i;
  });
  return customerParts(conversation.parts.slice(lastAdmin + 1), botAdminId);
}

/** Who wrote the last admin comment: a person other than the bot means a person took over. */
export function lastAdminAuthor(parts: IntercomPart[]): string | null {
  const admin = parts.filter((p) => p.authorType === "admin" && p.partType === "comment").at(-1);
  return admin?.authorId ?? null;
}
