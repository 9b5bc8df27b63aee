import type { ConversationState } from "../../db/pipeline";
import type { Identity } from "../../domain/identity";
import type { Channel } from "../../domain/turn";

/**
 * What a channel gives the inbound pipeline: a verifier, a parser, a sender and its policies (and, when the
 * provider can be asked for missed messages, a catch-up). The pipeline does the rest the same way for
 * every channel: deduplication, the outbox, the task queue, the per-conversation lease, the engine turn,
 * handoff decisions, the idempotency record around the send, retries and the outcome. A channel imports
 * nothing of another channel, and the pipeline nothing of any channel (.dependency-cruiser.cjs).
 * docs/architecture.md has the recipe for adding one.
 */

export type { ConversationState } from "../../db/pipeline";

/** The channels that arrive by webhook and are answered from the task queue: all but the web chat. */
export type QueuedChannelName = Exclude<Channel, "web">;

/** A webhook as it arrived, before anything parsed it. */
export interface InboundRequest {
  /** The exact bytes received: signatures are computed over these, never over a re-serialisation. */
  readonly body: Uint8Array;
  /** A header as received (case-insensitive name). */
  header(name: string): string | undefined;
  /** The URL the provider called, query included (Twilio signs it). */
  readonly url: string;
  /** When it arrived: what a signed timestamp is checked against (Telnyx allows 300 s). */
  readonly receivedAt: Date;
}

/**
 * Proves a webhook came from the provider, over the raw bytes, before anything is parsed, in constant
 * time: Intercom's HMAC-SHA1 of the body, Twilio's HMAC-SHA1 of the URL and the sorted form fields,
 * Telnyx's Ed25519 over `timestamp|body`, Voxie's HTTP message signatures, the Google-signed JWT of a
 * Pub/Sub push. A verifier that needs I/O (a public key or key set to fetch, then cached) returns a
 * promise; one that does not answers directly, and the acknowledgement waits for nothing.
 */
export interface WebhookVerifier {
  verify(request: InboundRequest): boolean | Promise<boolean>;
}

/** A verified notification, as the pipeline records it. */
export type ParsedNotification =
  /** The provider testing the endpoint (Intercom's `ping`): answered, nothing recorded. */
  { kind: "probe" } | { kind: "delivery"; delivery: InboundDelivery };

export interface InboundDelivery {
  /**
   * The provider's id of this notification, the same on each of its retries: the deduplication key (and,
   * for providers that sign no timestamp, the only replay protection).
   */
  id: string;
  /** What happened, in the provider's words (`conversation.user.replied`, `message.received`). */
  topic: string;
  /** The conversations it concerns: none (a contact event), one (Intercom, SMS), several (a mailbox). */
  conversations: ConversationUpdate[];
}

export interface ConversationUpdate {
  /**
   * The provider's id of the conversation (with the channel, the key of all the pipeline keeps on it); one
   * update per conversation in a delivery.
   */
  id: string;
  /** Its customer, when the notification names them: an erasure of that contact then finds it. */
  contactId: string | null;
  /** Customer messages to answer (never the bot's own: no self-replies); one already queued is not queued twice. */
  messages: InboundMessage[];
  /** A person took the conversation over (the bot stays silent), or it was handed back to the bot. */
  handover?: "human" | "bot" | undefined;
}

export interface InboundMessage {
  /** The provider's id of the message. */
  id: string;
  /**
   * Its text, when the notification carries it (SMS); kept only while the message waits. Omitted by a
   * channel that reads the conversation from the provider when answering (Intercom).
   */
  text?: string | undefined;
  /**
   * The connection it arrived at (SMS: the tenant's number that was texted), which the reply goes out
   * through; omitted by a channel with one connection per tenant.
   */
  via?: string | undefined;
  /**
   * Not answered before this: a tenant's reply delay (e-mail). The answer is a task scheduled for then,
   * not a request that sleeps; a sweep leaves the message alone until then.
   */
  notBefore?: Date | undefined;
}

/**
 * Reads a verified body into what it asks for. Throws `InvalidNotification` for a body that is not one of
 * the provider's notifications. Synchronous when the notification names its messages; a Gmail push names
 * only a history id, so that parser lists the history first (Pub/Sub waits up to its ack deadline).
 */
export interface NotificationParser {
  parse(request: InboundRequest): ParsedNotification | Promise<ParsedNotification>;
}

/** A verified body that is not a notification of the provider: the webhook answers 400 with `code`. */
export class InvalidNotification extends Error {
  constructor(
    readonly code: "invalid_json" | "validation_failed",
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "InvalidNotification";
  }
}

/** A customer message waiting for an answer, as the channel gets it back when answering. */
export interface PendingMessage {
  /** The provider's id of the message. */
  id: string;
  /** The text the notification carried, or null (the channel reads it from the provider). */
  text: string | null;
  /** The connection it arrived at, which the reply goes out through; null when the channel has one. */
  via: string | null;
}

/** The conversation as the channel read it for one turn; `view` is the channel's own, given back to it. */
export interface OpenedConversation<View> {
  view: View;
  /** Its customer, recorded once known so an erasure of that contact finds the conversation. */
  contactId: string | null;
}

/** What still waits for an answer among a turn's messages. */
export type PendingWork =
  | { kind: "answer"; text: string }
  /** Answered already (the bot's reply posted just before a crash, or a person's): never answered twice. */
  | { kind: "answered" }
  /** None of the messages exists any more: nothing can be answered. */
  | { kind: "missing" };

/** The channel's rules for a turn: pure decisions over what it read. */
export interface ChannelPolicy<View> {
  /** Whose history, limits and budget the turn uses. */
  identity(view: View, conversationId: string): Identity;
  /** Why the conversation is left alone (closed; a person has it), or undefined to answer it. */
  skipReason(view: View, state: ConversationState): string | undefined;
  /** Which of the messages still wait for an answer, as one text. */
  pending(view: View, messages: PendingMessage[]): PendingWork;
}

/** One step of handing a conversation to a person: a message, an internal note, a tag, an assignment. */
export interface HandoffStep {
  name: string;
  run(): Promise<void>;
  /**
   * Harmless to run twice (a tag, an assignment): run again after an interruption. Otherwise (a message
   * to the customer) it is recorded before it runs, and one interrupted is never repeated.
   */
  repeatable: boolean;
}

/** What a person taking over should know (for a note or an escalation). */
export interface HandoffContext {
  reason: string;
  /** The session's running summary, when older messages were folded into one. */
  summary: string | null;
  /** The last messages of the session, oldest first, as stored (redacted). */
  recent: { role: "user" | "assistant"; content: string }[];
}

/** How a failure reads in the logs, and when to try again. */
export interface UpstreamFailure {
  /** Which provider failed (`intercom`): alert policies select on it. */
  upstream: string;
  /**
   * HTTP status the provider answered with, 0 when it did not answer. A status means the call was refused:
   * a failed send with one sent nothing, and is sent again.
   */
  status: number;
  /** When the provider said to come back (a rate limit's reset); otherwise exponential backoff. */
  retryAt?: Date | undefined;
}

/**
 * How a send ended when it ended for good without reaching the customer (SMS: the number opted out, is
 * invalid, or the tenant's connection is gone): the rows finish `skipped` with this outcome, no retry.
 */
export interface Undelivered {
  undelivered: string;
}

/**
 * Messages a channel handled itself as commands rather than questions (SMS keywords: STOP, START, HELP),
 * before the engine is asked; the rows of `ids` (message ids) finish with `status` and `outcome`.
 */
export interface HandledCommand {
  ids: string[];
  status: "done" | "skipped";
  outcome: string;
  /** The channel answered it (HELP's text): the turn counts as answered. */
  replied?: boolean | undefined;
}

/** The channel's outbound adapter. */
export interface ChannelSender<View> {
  /**
   * Reads the conversation as the provider shows it now (Intercom: GET /conversations/{id}); a channel
   * that reads nothing builds the view from the messages.
   */
  open(conversationId: string, messages: PendingMessage[]): Promise<OpenedConversation<View>>;
  /**
   * Sends the reply (plain text with light Markdown; the channel formats it). Throws to be retried;
   * returns `Undelivered` when it ended for good without a send worth retrying.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: senders that always deliver (Intercom) stay `Promise<void>`.
  send(view: View, reply: string): Promise<void | Undelivered>;
  /**
   * A person's answer (the console's escalation reply), when the channel keys it apart from the bot's
   * reply: e-mail records one answer per inbound message, so an agent's answer needs its own key. Absent:
   * `send` carries it.
   */
  agentReply?(view: View, reply: { id: string; text: string }): Promise<Undelivered | undefined>;
  /**
   * Handles the messages that are commands, not questions (SMS keywords), before anything else of the
   * turn: they finish as returned, the rest are answered as usual. Runs even when a person has the
   * conversation (an opt-out must be recorded whoever answers). Absent: every message is a question.
   */
  commands?(view: View, messages: PendingMessage[]): Promise<HandledCommand[]>;
  /**
   * Reconciliation after a crash between a send and its record: did the reply reach the conversation?
   * Intercom looks for its own reply in the conversation it read. Absent when the provider cannot tell:
   * a send once begun is then never repeated (at most once). `reply`: the reply whose send was begun, when
   * it was stored (what to look for at the provider).
   */
  delivered?(view: View, messages: PendingMessage[], reply: string | null): boolean | Promise<boolean>;
  /** The channel's own steps to hand the conversation to a person, in order. */
  handoffSteps(view: View, context: HandoffContext): HandoffStep[];
  /** A provider's error as the pipeline logs and schedules it; undefined: not the provider's (backoff). */
  failure(error: unknown): UpstreamFailure | undefined;
}

/**
 * Finds customer messages no notification announced (a webhook missed or never configured): Intercom
 * searches the open conversations updated since its cursor. Runs on every poll (Cloud Scheduler calls
 * /internal/poll; locally a timer).
 */
export interface CatchUp {
  /** Looks, and queues what it finds; returns how many conversations it looked at and messages it queued. */
  run(queue: CatchUpQueue): Promise<{ conversations: number; queued: number }>;
}

export interface CatchUpQueue {
  /** What the pipeline keeps on the conversation (a person has it: nothing to catch up). */
  state(conversationId: string): Promise<ConversationState>;
  /** Queues and dispatches the messages still waiting; returns how many were not queued before. */
  queue(conversation: ConversationUpdate): Promise<number>;
}

/** A channel, as the pipeline runs it. `View` is whatever the channel reads of a conversation. */
export interface QueuedChannel<View> {
  readonly name: QueuedChannelName;
  /** Absent when the deployment has no webhook secret for it: the channel then runs on catch-up alone. */
  readonly verifier: WebhookVerifier | undefined;
  readonly parser: NotificationParser;
  readonly sender: ChannelSender<View>;
  readonly policy: ChannelPolicy<View>;
  readonly catchUp?: CatchUp | undefined;
}

/** A channel of one tenant, as a webhook on its connection's own path finds it. */
export interface TenantChannel {
  tenantId: string;
  channel: QueuedChannel<unknown>;
}

/**
 * The channels tenants connected themselves (the admin API's channel connections), each with its own
 * credentials: found by the connection a webhook names, or by the tenant a task runs for. The channels
 * configured by environment variables are registered instead, as the default tenant's.
 */
export interface ConnectedChannels {
  /** The channels connections can be of: their rows are claimed and swept here. */
  readonly names: readonly QueuedChannelName[];
  /**
   * The channel a webhook path names, with its tenant; undefined when the connection is unknown, disabled,
   * of another kind, or its tenant is suspended. Throws when its credentials cannot be read now (retry).
   */
  byConnection(name: QueuedChannelName, connectionId: string): Promise<TenantChannel | undefined>;
  /**
   * The channel that answers a tenant's conversations on `name`, read in that tenant's scope; undefined
   * when the tenant has no active connection of it.
   */
  ofTenant(name: QueuedChannelName, tenantId: string): Promise<QueuedChannel<unknown> | undefined>;
}
