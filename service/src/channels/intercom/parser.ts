import { z } from "zod";
import { contactIdFromWire, partsFromWire } from "../../ports/intercom-wire";
import {
  type ConversationUpdate,
  type InboundRequest,
  InvalidNotification,
  type NotificationParser,
  type ParsedNotification,
} from "../pipeline/channel";
import { customerParts, lastAdminAuthor } from "./parts";

/** An Intercom notification: its id (the same on each retry), topic and item (a conversation, a contact, …). */
export interface Notification {
  id: string;
  topic: string;
  item: Record<string, unknown>;
}

const Envelope = z.object({
  type: z.literal("notification_event"),
  id: z.string().min(1).max(200),
  topic: z.string().min(1).max(200),
  app_id: z.string().optional(),
  data: z.object({ item: z.record(z.string(), z.unknown()).nullable().optional() }).passthrough(),
});

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The notification in a verified body; `InvalidNotification` saying what is wrong with it otherwise. */
export function parseNotification(raw: Uint8Array): Notification {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(raw));
  } catch {
    throw new InvalidNotification("invalid_json", "The notification body is not valid JSON");
  }
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) {
    throw new InvalidNotification("validation_failed", "Not an Intercom notification", {
      fields: parsed.error.issues.map((i) => ({ field: i.path.join("."), message: i.message })),
    });
  }
  return { id: parsed.data.id, topic: parsed.data.topic, item: parsed.data.data.item ?? {} };
}

/** What a notification asks of the bridge: customer messages to answer, or a person who took over. */
export interface NotificationWork {
  conversationId: string | null;
  /** Customer parts to queue for an answer. */
  partIds: string[];
  humanTookOver: boolean;
}

/** Reads a notification (pure): which customer parts to answer, and whether a person took over. */
export function notificationWork(n: Notification, botAdminId: string): NotificationWork {
  const id = n.item.id;
  const conversationId = typeof id === "string" || typeof id === "number" ? String(id) : null;
  const none = { conversationId, partIds: [], humanTookOver: false };
  if (!conversationId) return none;
  if (n.topic === "conversation.user.created" || n.topic === "conversation.user.replied") {
    return { ...none, partIds: customerParts(partsFromWire(n.item), botAdminId).map((p) => p.id) };
  }
  if (n.topic === "conversation.admin.assigned") {
    const assignee = n.item.admin_assignee_id;
    const other = assignee !== null && assignee !== undefined && String(assignee) !== botAdminId;
    return { ...none, humanTookOver: other };
  }
  if (n.topic === "conversation.admin.replied") {
    const author = lastAdminAuthor(partsFromWire(n.item));
    return { ...none, humanTookOver: Boolean(author) && author !== botAdminId };
  }
  return none;
}

/**
 * Intercom's notifications as the pipeline records them: `ping` is a probe; a conversation notification
 * names its customer parts (never the bot's own: no self-replies) and whether a person took the
 * conversation over or closed it (a closed conversation is handed back: the bot answers whatever the
 * customer writes next). Synchronous: the acknowledgement waits for no I/O.
 */
export function intercomParser(botAdminId: string): NotificationParser {
  return {
    parse(request: InboundRequest): ParsedNotification {
      const notification = parseNotification(request.body);
      if (notification.topic === "ping") return { kind: "probe" };
      const work = notificationWork(notification, botAdminId);
      const conversations: ConversationUpdate[] = [];
      if (work.conversationId) {
        const closed = notification.topic === "conversation.admin.closed";
        conversations.push({
          id: work.conversationId,
          contactId: contactIdFromWire(notification.item),
          messages: work.partIds.map((id) => ({ id })),
          handover: work.humanTookOver ? "human" : closed ? "bot" : undefined,
        });
      }
      return {
        kind: "delivery",
        delivery: { id: notification.id, topic: notification.topic, conversations },
      };
    },
  };
}
