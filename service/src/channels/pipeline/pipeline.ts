import { randomUUID } from "node:crypto";
import type { Sql } from "../../db/client";
import {
  type ConversationKey,
  claimConversation,
  completeOutbox,
  conversationState,
  type NotifiedConversation,
  type OutboxRow,
  queueMessages,
  recordDelivery,
  releaseOutbox,
  unlockConversation,
} from "../../db/pipeline";
import { type DispatchableRow, dispatchableOutbox } from "../../db/platform-outbox";
import { DEFAULT_TENANT_ID, inTenant } from "../../db/tenant-scope";
import type { TurnEngine } from "../../engine/conversation-engine";
import type { HandoffRules } from "../../engine/handoff-policy";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import type { TaskQueue } from "../../ports/task-queue";
import type {
  CatchUpQueue,
  ConnectedChannels,
  ConversationUpdate,
  InboundDelivery,
  InboundRequest,
  ParsedNotification,
  QueuedChannel,
  QueuedChannelName,
  UpstreamFailure,
} from "./channel";
import { ConversationTurns, type TurnDeps, type TurnOutcome } from "./turn";

export interface PipelineSettings {
  /** How long a task holds a conversation and its rows before another task may take them. */
  leaseSeconds: number;
  /** When a conversation goes to a person (engine/handoff-policy.ts). */
  handoff: HandoffRules;
}

export type Processed = TurnOutcome | "retry" | "busy" | "noop";

/** How a webhook was taken. `rejected`: the signature did not verify, and nothing was recorded. */
export type Acknowledgement =
  | { status: "rejected" }
  | { status: "pong"; queued: 0 }
  | { status: "accepted" | "duplicate" | "ignored"; topic: string; queued: number };

export interface PollResult {
  /** Conversations the channels' catch-ups looked at. */
  conversations: number;
  /** Messages they found that no notification had queued. */
  queued: number;
  /** Pending rows nobody held, dispatched again. */
  redispatched: number;
}

/**
 * A delivery's conversation as it is recorded: keyed, with the channel, by the provider's id. This is
 * where the tenant will be resolved (from the app, number or mailbox that received the delivery), before
 * anything is recorded, once one deployment serves many businesses.
 */
function resolveConversation(update: ConversationUpdate): NotifiedConversation {
  return { conversationId: update.id, contactId: update.contactId, handover: update.handover ?? null };
}

/** A channel with its view type closed over, so channels of any view sit in one registry. */
interface Runner {
  channel: Pick<QueuedChannel<unknown>, "name" | "verifier" | "parser" | "catchUp">;
  /** The tenant whose connection this channel is: its deliveries and catch-up are recorded in its scope. */
  tenantId: string;
  failure(error: unknown): UpstreamFailure | undefined;
  answer: ConversationTurns<unknown>["answer"];
}

/**
 * The inbound pipeline of every asynchronous channel. A webhook is verified on its raw bytes, parsed,
 * and recorded with the work it asks for in one statement (delivery id and outbox rows), then
 * acknowledged; tasks (Cloud Tasks, or the in-process queue) then answer one conversation at a time under
 * a lease, and a row is finished only once its answer is sent (or it is deliberately left). The poll
 * catches up on what no notification announced and re-dispatches work a crash left behind.
 */
export class InboundPipeline {
  private queue: TaskQueue | undefined;
  private readonly runners = new Map<string, Runner>();
  /** The registered channels as given (a runner keeps only what the inbound side needs). */
  private readonly channels = new Map<string, QueuedChannel<unknown>>();

  constructor(
    private readonly deps: {
      sql: Sql;
      engine: TurnEngine;
      log: Logger;
      settings: PipelineSettings;
      /** The tenants' own connections (admin API), with their own credentials. */
      connected?: ConnectedChannels | undefined;
      /** A handoff opens an escalation for the tenant's team (engine/escalations.ts). */
      escalations?: TurnDeps["escalations"];
    },
  ) {}

  /**
   * Adds a channel. `tenantId`: the tenant whose connection it is (the channels configured by environment
   * variables are the default tenant's); tasks are processed in the tenant their row names.
   */
  register<View>(channel: QueuedChannel<View>, opts: { tenantId?: string } = {}): this {
    this.runners.set(channel.name, this.runnerOf(channel, opts.tenantId ?? DEFAULT_TENANT_ID));
    this.channels.set(channel.name, channel as QueuedChannel<unknown>);
    return this;
  }

  private runnerOf<View>(channel: QueuedChannel<View>, tenantId: string): Runner {
    const { sql, engine, log, settings, escalations } = this.deps;
    const turns = new ConversationTurns(channel, { sql, engine, log, rules: settings.handoff, escalations });
    return {
      channel,
      tenantId,
      failure: (error) => channel.sender.failure(error),
      answer: (key, rows, state) => turns.answer(key, rows, state),
    };
  }

  /**
   * The runner that answers `tenantId`'s conversations on `name`: the registered channel when it is that
   * tenant's (environment-configured: the default tenant's), else the tenant's own connection; undefined
   * when it has none (deleted, disabled, never made).
   */
  private async runnerFor(name: QueuedChannelName, tenantId: string): Promise<Runner | undefined> {
    const registered = this.runners.get(name);
    if (registered?.tenantId === tenantId) return registered;
    const own = await this.deps.connected?.ofTenant(name, tenantId);
    return own ? this.runnerOf(own, tenantId) : undefined;
  }

  /** Every channel whose rows are claimed and swept here: the registered ones and the connectable ones. */
  private channelNames(): string[] {
    return [...new Set([...this.runners.keys(), ...(this.deps.connected?.names ?? [])])];
  }

  /**
   * The channel that answers `tenantId`'s conversations on `name`, with its sender: a person's reply to an
   * escalation goes out through it (agent-reply.ts). In the tenant's scope.
   */
  async channelFor(name: QueuedChannelName, tenantId: string): Promise<QueuedChannel<unknown> | undefined> {
    const registered = this.channels.get(name);
    if (registered && this.runners.get(name)?.tenantId === tenantId) return registered;
    return this.deps.connected?.ofTenant(name, tenantId);
  }

  /** The queue calls back into `process`, so it is attached after construction. */
  attachQueue(queue: TaskQueue) {
    this.queue = queue;
  }

  /** The channel runs here. */
  has(name: QueuedChannelName): boolean {
    return this.runners.has(name);
  }

  /** The channel runs here and its webhooks can be verified. */
  receives(name: QueuedChannelName): boolean {
    return this.runners.get(name)?.channel.verifier !== undefined;
  }

  /**
   * A webhook: verified (on the exact bytes, before anything is parsed), parsed, recorded in one
   * statement, dispatched. Intercom's verifier and parser are synchronous and the in-process queue takes
   * tasks synchronously, so the recording is then the only thing the acknowledgement waits for. Throws
   * `InvalidNotification` for a verified body that is not a notification.
   */
  async acknowledge(name: QueuedChannelName, request: InboundRequest): Promise<Acknowledgement> {
    const { channel, tenantId } = this.runner(name);
    return this.take(channel, tenantId, request);
  }

  /** Tenants connect their own channels here (the admin API): webhooks arrive on a connection's path. */
  acceptsConnections(name: QueuedChannelName): boolean {
    return this.deps.connected?.names.includes(name) ?? false;
  }

  /**
   * A webhook on a connection's own path: the connection (found as the platform) gives the tenant and the
   * secret; it is then verified and recorded exactly like `acknowledge`, in that tenant's scope. An
   * unknown or disabled connection, or a suspended tenant, is `rejected` like a bad signature: nothing is
   * parsed or stored, and the answer does not tell which.
   */
  async acknowledgeConnection(
    name: QueuedChannelName,
    connectionId: string,
    request: InboundRequest,
  ): Promise<Acknowledgement> {
    const found = await this.deps.connected?.byConnection(name, connectionId);
    if (!found) return { status: "rejected" };
    return this.take(found.channel, found.tenantId, request);
  }

  /**
   * A notification a channel verified and parsed itself, recorded and dispatched in `tenantId`'s scope
   * exactly like `acknowledge`'s: the SMS webhooks verify with the credentials of the connection the
   * number texted routes to (channels/sms/provider.ts), so the tenant is known only after verification.
   */
  async acceptVerified(
    name: QueuedChannelName,
    tenantId: string,
    parsed: ParsedNotification,
  ): Promise<Acknowledgement> {
    if (parsed.kind === "probe") return { status: "pong", queued: 0 };
    return inTenant(tenantId, () => this.record(name, tenantId, parsed.delivery));
  }

  private async take(
    channel: Runner["channel"],
    tenantId: string,
    request: InboundRequest,
  ): Promise<Acknowledgement> {
    const { verifier, parser, name } = channel;
    if (!verifier) throw new Error(`${name} webhooks are not configured`);
    const verdict = verifier.verify(request);
    if (!(typeof verdict === "boolean" ? verdict : await verdict)) return { status: "rejected" };
    const parsing = parser.parse(request);
    const parsed = parsing instanceof Promise ? await parsing : parsing;
    if (parsed.kind === "probe") return { status: "pong", queued: 0 };
    // Verified first, then everything recorded in the tenant of the connection the webhook came through.
    return inTenant(tenantId, () => this.record(name, tenantId, parsed.delivery));
  }

  private async record(
    name: QueuedChannelName,
    tenantId: string,
    delivery: InboundDelivery,
  ): Promise<Acknowledgement> {
    const { topic, conversations } = delivery;
    const messages = conversations.flatMap((c) =>
      c.messages.map((m) => ({
        id: randomUUID(),
        conversationId: c.id,
        partId: m.id,
        body: m.text ?? null,
        via: m.via ?? null,
        notBefore: m.notBefore ?? null,
      })),
    );
    const notified = conversations.map((c) => resolveConversation(c));
    const rows = await recordDelivery(this.deps.sql, name, delivery, notified, messages);
    if (rows === null) return { status: "duplicate", topic, queued: 0 };
    const dispatching = this.dispatch(rows.map((r) => ({ ...r, tenantId })));
    if (dispatching) await dispatching;
    const handled = conversations.some((c) => c.messages.length > 0 || c.handover !== undefined);
    return { status: handled ? "accepted" : "ignored", topic, queued: rows.length };
  }

  /**
   * Asks the queue for a task per row. The in-process queue takes them synchronously; Cloud Tasks needs a
   * round trip, which the caller waits for (on Cloud Run the CPU is throttled once the response is sent).
   * A failed enqueue loses nothing: the row stays pending and the poll's sweep dispatches it.
   */
  private dispatch(rows: DispatchableRow[]): Promise<void> | undefined {
    const waiting: Promise<void>[] = [];
    for (const row of rows) {
      try {
        const { attempts, tenantId, notBefore } = row;
        const accepted = this.queue?.enqueue(row.id, { attempt: attempts + 1, tenantId, notBefore });
        if (accepted) waiting.push(accepted.catch((error: unknown) => this.enqueueFailed(row.id, error)));
      } catch (error) {
        this.enqueueFailed(row.id, error);
      }
    }
    return waiting.length > 0 ? Promise.all(waiting).then(() => undefined) : undefined;
  }

  private enqueueFailed(outboxId: string, error: unknown) {
    this.deps.log.warn(
      { event: "outbox.enqueue_failed", outboxId, error },
      "enqueue failed; the sweep will retry",
    );
  }

  /**
   * One task: answer every pending message of the row's conversation, in the scope of the tenant the task
   * names (a row of another tenant is not found: `noop`).
   */
  process(outboxId: string, tenantId: string): Promise<Processed> {
    return inTenant(tenantId, () => this.processInScope(outboxId, tenantId));
  }

  private async processInScope(outboxId: string, tenantId: string): Promise<Processed> {
    const { sql, settings, log } = this.deps;
    const holder = randomUUID();
    const lease = { holder, seconds: settings.leaseSeconds };
    // A row of a channel this deployment does not run stays pending for one that does.
    const claim = await claimConversation(sql, outboxId, this.channelNames(), lease);
    if (claim.kind === "gone") return "noop";
    if (claim.kind === "busy") {
      // Another task is answering this conversation; look again shortly (it may answer this row too).
      await this.queue?.enqueue(outboxId, {
        attempt: claim.attempts + 1,
        notBefore: new Date(Date.now() + 5000),
        tenantId,
      });
      return "busy";
    }
    const { key, rows } = claim;
    const started = performance.now();
    let runner: Runner | undefined;
    try {
      if (rows.length === 0) return "noop";
      runner = await this.runnerFor(key.channel as QueuedChannelName, tenantId);
      // The tenant's connection is gone: nothing can answer these rows, so they finish instead of
      // retrying forever.
      const outcome = runner
        ? await runner.answer(key, rows, claim.state)
        : await this.unanswerable(rows.map((r) => r.id));
      log.info(
        {
          event: LOG_EVENT.conversationProcessed,
          channel: key.channel,
          outcome,
          conversationId: key.conversationId,
          messages: rows.length,
          durationMs: Math.round(performance.now() - started),
        },
        `${key.channel} conversation ${outcome}`,
      );
      return outcome;
    } catch (error) {
      await this.retryLater(runner, { outboxId, tenantId, key, rows }, error);
      return "retry";
    } finally {
      await unlockConversation(sql, key, holder);
    }
  }

  private async unanswerable(outboxIds: string[]): Promise<TurnOutcome> {
    await completeOutbox(this.deps.sql, outboxIds, "skipped", "channel_not_connected");
    return "skipped";
  }

  /** Gives the rows back with a later retry (the provider's reset time after a 429, else backoff). */
  private async retryLater(
    runner: Runner | undefined,
    task: { outboxId: string; tenantId: string; key: ConversationKey; rows: OutboxRow[] },
    error: unknown,
  ) {
    const { key, rows } = task;
    const attempts = Math.max(...rows.map((r) => r.attempts));
    const failure = runner?.failure(error);
    const retryAt = failure?.retryAt ?? new Date(Date.now() + Math.min(300_000, 2 ** attempts * 1000));
    this.deps.log.warn(
      {
        event: LOG_EVENT.upstreamError,
        upstream: failure?.upstream ?? "internal",
        status: failure?.status ?? 0,
        conversationId: key.conversationId,
        attempts,
        retryAt,
        error,
      },
      `${key.channel} conversation not answered yet; will retry`,
    );
    await releaseOutbox(
      this.deps.sql,
      rows.map((r) => r.id),
      {
        at: retryAt,
        error: error instanceof Error ? error.message : String(error),
        refused: (failure?.status ?? 0) > 0,
      },
    );
    try {
      await this.queue?.enqueue(task.outboxId, {
        attempt: attempts + 1,
        notBefore: retryAt,
        tenantId: task.tenantId,
      });
    } catch {
      // The row is pending with its retry time: the sweep dispatches it.
    }
  }

  /** Cloud Scheduler (or the local timer): each channel catches up on missed messages, then stale work is re-dispatched. */
  async poll(): Promise<PollResult> {
    let conversations = 0;
    let queued = 0;
    for (const runner of this.runners.values()) {
      const catchUp = runner.channel.catchUp;
      // The cursor, the conversations' state and the rows it queues are the channel's tenant's.
      const found = catchUp
        ? await inTenant(runner.tenantId, () => catchUp.run(this.catchUpQueue(runner)))
        : undefined;
      conversations += found?.conversations ?? 0;
      queued += found?.queued ?? 0;
    }
    const stale = await dispatchableOutbox(this.deps.sql, this.channelNames(), 100);
    await this.dispatch(stale);
    return { conversations, queued, redispatched: stale.length };
  }

  private catchUpQueue(runner: Runner): CatchUpQueue {
    const { sql } = this.deps;
    const { name } = runner.channel;
    return {
      state: (conversationId) => conversationState(sql, { channel: name, conversationId }),
      queue: async (update) => {
        const conversation = resolveConversation(update);
        const messages = update.messages.map((m) => ({
          id: randomUUID(),
          conversationId: conversation.conversationId,
          partId: m.id,
          body: m.text ?? null,
          via: m.via ?? null,
        }));
        const rows = await queueMessages(sql, name, conversation, messages);
        await this.dispatch(rows.map((r) => ({ ...r, tenantId: runner.tenantId })));
        return rows.length;
      },
    };
  }

  private runner(name: QueuedChannelName): Runner {
    const runner = this.runners.get(name);
    if (!runner) throw new Error(`channel ${name} is not configured`);
    return runner;
  }
}
