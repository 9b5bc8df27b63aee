/**
 * The Gmail emulator's mailbox model: messages with labels and threads, one history counter per mailbox
 * (every added message gets a new `historyId`), history records of `messageAdded`, labels (system + user),
 * drafts and the watch. Threading follows Gmail's rule for sent and received mail: a message joins a thread
 * when its `In-Reply-To`/`References` name a message of the thread and its subject matches (after `Re:`);
 * `messages.send` with a `threadId` joins that thread only under the same conditions, as Gmail documents.
 */
import { randomUUID } from "node:crypto";
import { firstText, type GmailPart, headerValue, parsePayload, splitMessage } from "./gmail-mime";

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  raw: string;
  payload: GmailPart;
  historyId: number;
  /** Epoch ms. */
  internalDate: number;
  snippet: string;
  /** `Message-ID` header (angle brackets kept). */
  messageIdHeader: string;
}

export interface GmailLabel {
  id: string;
  name: string;
  type: "system" | "user";
  messageListVisibility?: string;
  labelListVisibility?: string;
}

export interface HistoryRecord {
  id: number;
  message: { id: string; threadId: string };
  labelIds: string[];
}

export interface Mailbox {
  address: string;
  historyId: number;
  /** `history.list` answers 404 for a `startHistoryId` below this. */
  oldestHistoryId: number;
  messages: StoredMessage[];
  history: HistoryRecord[];
  labels: GmailLabel[];
  drafts: { id: string; message: StoredMessage }[];
  watch?: { topicName: string; labelIds: string[]; labelFilterBehavior?: string; expiration: number };
  /**
   * Sent mail gets a Message-ID of Gmail's instead of the sender's. Whether Gmail keeps a client's
   * Message-ID on messages.send is not documented; tests set this to prove the channel does not depend on it.
   */
  rewriteSentMessageIds?: boolean;
}

const SYSTEM_LABELS = ["INBOX", "SENT", "DRAFT", "UNREAD", "STARRED", "IMPORTANT", "SPAM", "TRASH", "CHAT"];

let sequence = 0x18c0_0000_0000;

function newId(): string {
  sequence += 1 + Math.floor(Math.random() * 16);
  return sequence.toString(16).padStart(16, "0");
}

export function newMailbox(address: string): Mailbox {
  const start = 1000 + Math.floor(Math.random() * 1000);
  return {
    address,
    historyId: start,
    oldestHistoryId: 0,
    messages: [],
    history: [],
    labels: SYSTEM_LABELS.map((id) => ({ id, name: id, type: "system" as const })),
    drafts: [],
  };
}

/** Stores a message; `labelIds` decide INBOX / SENT / DRAFT. `requestedThread` is honoured only if it fits. */
export function storeMessage(
  box: Mailbox,
  raw: string,
  labelIds: string[],
  requestedThread?: string,
  recordHistory = true,
): StoredMessage {
  const id = newId();
  const withId = ensureMessageId(raw, id);
  const { headers } = splitMessage(withId);
  const payload = parsePayload(withId);
  box.historyId += 1;
  const message: StoredMessage = {
    id,
    threadId: threadFor(box, headers, requestedThread) ?? id,
    labelIds,
    raw: withId,
    payload,
    historyId: box.historyId,
    internalDate: Date.parse(headerValue(headers, "date") ?? "") || Date.now(),
    snippet: (firstText(payload) ?? "").replace(/\s+/g, " ").trim().slice(0, 200),
    messageIdHeader: headerValue(headers, "message-id") ?? "",
  };
  box.messages.push(message);
  if (recordHistory) {
    box.history.push({
      id: box.historyId,
      message: { id, threadId: message.threadId },
      labelIds: [...labelIds],
    });
  }
  return message;
}

/** Gmail adds a `Message-ID` to mail that has none. */
function ensureMessageId(raw: string, id: string): string {
  if (headerValue(splitMessage(raw).headers, "message-id")) return raw;
  return `Message-ID: <${id}.${randomUUID().slice(0, 8)}@mail.gmail.com>\r\n${raw}`;
}

function threadFor(
  box: Mailbox,
  headers: { name: string; value: string }[],
  requested?: string,
): string | undefined {
  const referenced =
    `${headerValue(headers, "in-reply-to") ?? ""} ${headerValue(headers, "references") ?? ""}`
      .split(/\s+/)
      .filter(Boolean);
  const subject = baseSubject(headerValue(headers, "subject") ?? "");
  const fits = (m: StoredMessage) =>
    referenced.includes(m.messageIdHeader) &&
    baseSubject(headerValue(m.payload.headers, "subject") ?? "") === subject;
  if (requested !== undefined) {
    return box.messages.some((m) => m.threadId === requested && fits(m)) ? requested : undefined;
  }
  return box.messages.find(fits)?.threadId;
}

function baseSubject(subject: string): string {
  return subject.replace(/^\s*((re|fwd?|aw)\s*:\s*)+/i, "").trim();
}

export function findMessage(box: Mailbox, id: string): StoredMessage | undefined {
  return box.messages.find((m) => m.id === id);
}

/** The subset of Gmail's search syntax the e-mail channel uses: `in:`, `label:`, `after:`, `before:`, `rfc822msgid:`. */
export function matchesQuery(box: Mailbox, message: StoredMessage, q: string): boolean {
  for (const term of q.split(/\s+/).filter(Boolean)) {
    const [key = "", value = ""] = term.includes(":")
      ? [term.slice(0, term.indexOf(":")), term.slice(term.indexOf(":") + 1)]
      : ["", term];
    const labelId = (name: string) => box.labels.find((l) => l.name.toLowerCase() === name.toLowerCase())?.id;
    if (key === "in" || key === "label") {
      if (!message.labelIds.includes(labelId(value) ?? value.toUpperCase())) return false;
    } else if (key === "after" || key === "before") {
      const at = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value.replace(/\//g, "-"));
      if (key === "after" ? message.internalDate <= at : message.internalDate >= at) return false;
    } else if (key === "rfc822msgid") {
      if (message.messageIdHeader.replace(/[<>]/g, "") !== value.replace(/[<>]/g, "")) return false;
    } else if (!message.raw.toLowerCase().includes(term.toLowerCase())) {
      return false;
    }
  }
  return true;
}
