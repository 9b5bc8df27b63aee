import type { IntercomConversation, IntercomPart } from "./intercom";

/**
 * Intercom's conversation JSON as the bridge reads it. A REST response (`GET /conversations/{id}`) and a
 * webhook notification's `data.item` share this shape, so the adapter and the webhook channel map it here,
 * once.
 */
type Wire = Record<string, unknown>;

const str = (v: unknown): string | null => (v === undefined || v === null || v === "" ? null : String(v));
const record = (v: unknown): Wire => (v && typeof v === "object" ? (v as Wire) : {});

function part(raw: Wire, id: string, partType: string, createdAt: unknown): IntercomPart {
  const author = record(raw.author);
  return {
    id,
    partType,
    body: String(raw.body ?? ""),
    authorType: String(author.type ?? ""),
    authorId: String(author.id ?? ""),
    createdAt: Number(createdAt ?? 0),
  };
}

/** The first message (`source`, dated with the conversation) and the conversation parts, oldest first. */
export function partsFromWire(conversation: Wire): IntercomPart[] {
  const parts: IntercomPart[] = [];
  if (conversation.source && typeof conversation.source === "object") {
    const source = record(conversation.source);
    const id = str(source.id) ?? `source-${String(conversation.id)}`;
    parts.push(part(source, id, "source", conversation.created_at));
  }
  const list = record(conversation.conversation_parts).conversation_parts;
  for (const raw of Array.isArray(list) ? (list as Wire[]) : []) {
    const id = str(raw.id);
    if (id) parts.push(part(raw, id, String(raw.part_type ?? ""), raw.created_at));
  }
  return parts;
}

/** The conversation's customer: its first contact. */
export function contactIdFromWire(conversation: Wire): string | null {
  const list = record(conversation.contacts).contacts;
  return Array.isArray(list) ? str(record(list[0]).id) : null;
}

export function conversationFromWire(conversation: Wire): IntercomConversation {
  return {
    id: String(conversation.id),
    open: conversation.open === true || conversation.state === "open",
    adminAssigneeId: str(conversation.admin_assignee_id),
    contactId: contactIdFromWire(conversation),
    waitingSince: conversation.waiting_since ? Number(conversation.waiting_since) : null,
    updatedAt: Number(conversation.updated_at ?? 0),
    parts: partsFromWire(conversation),
  };
}
