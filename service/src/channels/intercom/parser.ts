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
  /** The Intercom app (workspace) that sent it, when the envelope names it. */
  appId?: string | undefined;
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
  const { id, topic, app_id: appId } = parsed.data;
  return { id, topic, item: parsed.data.data.item ?? {}, appId };
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

/** What a tenant's connection (its own webhook path) adds to the parsing. */
export interface ConnectionCheck {
  /** The connection's app: a notification naming another app is refused (defense in depth). */
  appId?: string | undefined;
  /**
   * The connection's id. Delivery ids are deduplicated deployment-wide (webhook_deliveries has no tenant):
   * prefixed with the connection, one tenant's notifications can never shadow another's.
   */
  connectionId?: string | undefined;
}

/** A verified body of another app: its secret is this connection's, so a misconfiguration; nothing is stored. */
function checkApp(notification: Notification, appId: string | undefined) {
  if (appId === undefined || notification.appId === undefined || notification.appId === appId) return;
  throw new InvalidNotification(
    "validation_failed",
    "The notification's app_id is not this connection's app",
    {
      fields: [{ field: "app_id", message: "does not match the connection's appId" }],
    },
  );
}

const deliveryId = (id: string, connection: ConnectionCheck) =>
  connection.connectionId ? `${connection.connectionId}:${id}` : id;

/**
 * Intercom's notifications as the pipeline records them: `ping` is a probe; a conversation notification
 * names its customer parts (never the bot's own: no self-replies) and whether a person took the
 * conversation over or closed it (a closed conversation is handed back: the bot answers whatever the
 * customer writes next). Synchronous: the acknowledgement waits for no I/O.
 */
export function intercomParser(botAdminId: string, connection: ConnectionCheck = {}): NotificationParser {
  return {
    parse(request: InboundRequest): ParsedNotification {
      const notification = parseNotification(request.body);
      checkApp(notification, connection.appId);
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
        delivery: { id: deliveryId(notification.id, connection), topic: notification.topic, conversations },
      };
    },
  };
}
