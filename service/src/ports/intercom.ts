/** What the bridge needs from Intercom; the adapter maps the official SDK onto it. */

export interface IntercomPart {
  id: string;
  /** `comment`, `note`, `assignment`, `close`, `open`, … ; the conversation's first message is `source`. */
  partType: string;
  /** Plain text (requested with display_as=plaintext). */
  body: string;
  authorType: string;
  authorId: string;
  createdAt: number;
}

export interface IntercomConversation {
  id: string;
  open: boolean;
  adminAssigneeId: string | null;
  contactId: string | null;
  waitingSince: number | null;
  updatedAt: number;
  /** The first message (`partType: "source"`) followed by the conversation parts, oldest first. */
  parts: IntercomPart[];
}

export interface IntercomContact {
  id: string;
  externalId: string | null;
  email: string | null;
}

export interface IntercomGateway {
  me(): Promise<{ id: string; name: string | null }>;
  getConversation(id: string): Promise<IntercomConversation>;
  reply(
    conversationId: string,
    input: { adminId: string; html: string; kind: "comment" | "note" },
  ): Promise<void>;
  assign(
    conversationId: string,
    input: { adminId: string; assigneeType: "admin" | "team"; assigneeId: string; body?: string },
  ): Promise<void>;
  tag(conversationId: string, input: { adminId: string; tagName: string }): Promise<void>;
  /** Open conversations updated after `updatedAfter` (unix seconds), oldest pages first, at most `limit`. */
  searchOpenConversations(
    updatedAfter: number,
    limit: number,
  ): Promise<{ id: string; updatedAt: number; waitingSince: number | null }[]>;
  findContact(by: {
    externalId?: string | undefined;
    email?: string | undefined;
  }): Promise<IntercomContact | null>;
  createContact(input: ContactInput): Promise<IntercomContact>;
  updateContact(id: string, input: ContactInput): Promise<IntercomContact>;
  deleteContact(id: string): Promise<void>;
  trackEvent(input: {
    eventName: string;
    createdAt: number;
    userId?: string | undefined;
    email?: string | undefined;
    id?: string | undefined;
    metadata?: Record<string, string | number | boolean> | undefined;
  }): Promise<void>;
}

export interface ContactInput {
  externalId?: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
  phone?: string | undefined;
  customAttributes?: Record<string, string | number | boolean | null> | undefined;
}

/** Intercom said 429: nothing is lost, the work waits until `resetAt`. */
export class IntercomRateLimited extends Error {
  constructor(readonly resetAt: Date) {
    super(`Intercom rate limit reached until ${resetAt.toISOString()}`);
    this.name = "IntercomRateLimited";
  }
}

export class IntercomApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "IntercomApiError";
  }
}
