import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type {
  ChannelSender,
  HandoffStep,
  InboundRequest,
  PendingMessage,
  QueuedChannel,
  QueuedChannelName,
  UpstreamFailure,
} from "../../service/src/channels/pipeline/channel";
import { InboundPipeline } from "../../service/src/channels/pipeline/pipeline";
import type { Database, Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import { createLogger } from "../../service/src/logger";
import { eventually, testDatabase } from "./helpers";
import { FakeEngine, FakeQueue } from "./pipeline-fakes";

/**
 * The inbound pipeline with a fake channel (an SMS-like provider: the text arrives in the signed
 * notification), a fake task queue that runs nothing by itself, and a fake engine, on a real database. No
 * server, no emulator: each test drives acknowledgements and tasks by hand, and a "process" is a pipeline
 * instance (a crash is one that never finishes).
 */

const SECRET = "fake-channel-signing-secret";
// A channel the domain does not know yet: the pipeline treats a channel's name as an opaque key.
const CHANNEL = "fake-sms" as QueuedChannelName;

let db: Database;
/** Raw rows, whatever their tenant (the pipeline itself only ever sees its tenant's). */
let inspect: Sql;
let drop: () => Promise<void>;

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  inspect = t.inspect;
  drop = t.drop;
  await migrate(db.sql);
});
afterAll(async () => {
  await drop?.();
});

/** The provider refused a call with an HTTP status. */
class ProviderError extends Error {
  constructor(readonly status: number) {
    super(`provider answered ${status}`);
  }
}

const never = () => new Promise<never>(() => {});

interface FakeView {
  conversationId: string;
  messages: PendingMessage[];
}

/**
 * The fake provider's outbound side. `next` scripts the next send: refused with a status, given no
 * answer (a timeout), or the process dying just before or just after the provider took it.
 */
class FakeSender implements ChannelSender<FakeView> {
  readonly sent: { conversationId: string; text: string }[] = [];
  readonly handoffs: string[] = [];
  next: "refuse" | "no_answer" | "die_before" | "die_after" | undefined;
  /** The next handoff message step never returns (the process dies in it, after the provider took it). */
  dieInHandoffMessage = false;

  async open(conversationId: string, messages: PendingMessage[]) {
    return { view: { conversationId, messages }, contactId: `contact-of-${conversationId}` };
  }
  async send(view: FakeView, text: string) {
    const scripted = this.next;
    this.next = undefined;
    if (scripted === "refuse") throw new ProviderError(503);
    if (scripted === "die_before") return never();
    this.sent.push({ conversationId: view.conversationId, text });
    if (scripted === "die_after") return never();
    if (scripted === "no_answer") throw new Error("socket hang up");
  }
  handoffSteps(view: FakeView): HandoffStep[] {
    return [
      {
        name: "message",
        repeatable: false,
        run: async () => {
          this.handoffs.push(`message:${view.conversationId}`);
          if (this.dieInHandoffMessage) return never();
        },
      },
      {
        name: "assign",
        repeatable: true,
        run: async () => void this.handoffs.push(`assign:${view.conversationId}`),
      },
    ];
  }
  failure(error: unknown): UpstreamFailure | undefined {
    // Retried at once, so a test needs no clock.
    if (error instanceof ProviderError)
      return { upstream: "fake", status: error.status, retryAt: new Date() };
    if (error instanceof Error && error.message === "socket hang up")
      return { upstream: "fake", status: 0, retryAt: new Date() };
    return undefined;
  }
}

/** A provider whose API shows what was sent: the sender can reconcile after a crash. */
class ReconcilingSender extends FakeSender {
  delivered(view: FakeView, messages: PendingMessage[]) {
    const texts = new Set(messages.map((m) => `Answer to: ${m.text}`));
    return this.sent.some((s) => s.conversationId === view.conversationId && texts.has(s.text));
  }
}

function fakeChannel(sender: FakeSender, parsed: string[] = []): QueuedChannel<FakeView> {
  return {
    name: CHANNEL,
    verifier: {
      verify: (request) => {
        const given = request.header("x-fake-signature") ?? "";
        return given === createHmac("sha256", SECRET).update(request.body).digest("hex");
      },
    },
    parser: {
      parse: (request) => {
        const n = JSON.parse(new TextDecoder().decode(request.body));
        parsed.push(n.id);
        return {
          kind: "delivery",
          delivery: {
            id: n.id,
            topic: "message.received",
            conversations: [
              { id: n.conversation, contactId: null, messages: [{ id: n.messageId, text: n.text }] },
            ],
          },
        };
      },
    },
    sender,
    policy: {
      identity: (_view, conversationId) => ({ id: `fake:${conversationId}`, kind: "intercom", tier: "free" }),
      skipReason: (_view, state) => (state.mode === "human" ? "human" : undefined),
      pending: (view) => ({ kind: "answer", text: view.messages.map((m) => m.text).join("\n") }),
    },
  };
}

let conversationSeq = 0;

/** A signed notification of one customer message, in a new conversation unless one is given. */
function notification(text: string, opts: { conversation?: string; signature?: string } = {}) {
  const conversation = opts.conversation ?? `conv-${Date.now()}-${++conversationSeq}`;
  const body = JSON.stringify({
    id: `delivery-${conversation}-${text}`,
    conversation,
    messageId: `msg-${conversation}-${text}`,
    text,
  });
  const bytes = new TextEncoder().encode(body);
  const signature = opts.signature ?? createHmac("sha256", SECRET).update(bytes).digest("hex");
  const request: InboundRequest = {
    body: bytes,
    header: (name) => (name === "x-fake-signature" ? signature : undefined),
    url: "https://switchboard.example/webhooks/fake-sms",
    receivedAt: new Date(),
  };
  return { conversation, request };
}

/** One "process": a pipeline with its own queue, engine and provider connection, on the shared database. */
function start(sender: FakeSender = new FakeSender(), opts: { leaseSeconds?: number } = {}) {
  const engine = new FakeEngine();
  const queue = new FakeQueue();
  const parsed: string[] = [];
  const pipeline = new InboundPipeline({
    sql: db.sql,
    engine,
    log: createLogger({ level: "silent" }),
    settings: {
      leaseSeconds: opts.leaseSeconds ?? 30,
      handoff: { requestPattern: /\bperson\b/i, lowConfidenceLimit: 2, maxAttempts: 8 },
    },
  }).register(fakeChannel(sender, parsed));
  pipeline.attachQueue(queue);
  return { pipeline, queue, engine, sender, parsed };
}

const rowsOf = (conversation: string) =>
  inspect<
    {
      status: string;
      outcome: string | null;
      attempts: number;
      lastError: string | null;
      body: string | null;
      sendStartedAt: Date | null;
    }[]
  >`
    select status, outcome, attempts, last_error, body, send_started_at from outbox
    where channel = ${CHANNEL} and conversation_id = ${conversation}`;

const stored = async () => {
  const [row] = await inspect<{ deliveries: number; outbox: number; conversations: number }[]>`
    select (select count(*)::int from webhook_deliveries where channel = ${CHANNEL}) as deliveries,
           (select count(*)::int from outbox where channel = ${CHANNEL}) as outbox,
           (select count(*)::int from intercom_conversations where channel = ${CHANNEL}) as conversations`;
  return row;
};

/** Waits out the lease of a process that died, as the next poll would find its rows. */
const leaseRunsOut = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000 + 100));

describe("acknowledging", () => {
  test("a bad signature stores nothing and parses nothing", async () => {
    const { pipeline, queue, parsed } = start();
    const before = await stored();
    const forged = notification("Where is my parcel?", { signature: "0".repeat(64) });
    expect(await pipeline.acknowledge(CHANNEL, forged.request)).toEqual({ status: "rejected" });
    expect(await stored()).toEqual(before);
    expect(parsed).toEqual([]);
    expect(queue.tasks).toEqual([]);
  });

  test("a duplicate delivery, five times at once and again later: one row, one turn, one reply", async () => {
    const { pipeline, queue, engine, sender } = start();
    const { conversation, request } = notification("Where is my parcel?");
    const acks = await Promise.all(Array.from({ length: 5 }, () => pipeline.acknowledge(CHANNEL, request)));
    expect(acks.map((a) => a.status).sort()).toEqual([
      "accepted",
      "duplicate",
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
    expect(queue.tasks).toHaveLength(1);
    expect(await queue.runAll(pipeline)).toEqual(["answered"]);
    expect(await pipeline.acknowledge(CHANNEL, request)).toMatchObject({ status: "duplicate", queued: 0 });
    expect(queue.tasks).toEqual([]);
    expect(engine.turns.map((t) => t.message)).toEqual(["Where is my parcel?"]);
    expect(sender.sent).toEqual([{ conversationId: conversation, text: "Answer to: Where is my parcel?" }]);
    // The text the notification carried was kept only while the message waited.
    expect(await rowsOf(conversation)).toMatchObject([{ status: "done", outcome: "answered", body: null }]);
  });
});

describe("a message to be answered later (a tenant's reply delay)", () => {
  test("its task is scheduled for then, and no sweep answers it sooner", async () => {
    const { pipeline, queue, sender } = start();
    const conversation = `delayed-${Date.now()}`;
    const notBefore = new Date(Date.now() + 10 * 60_000);
    const message = { id: `msg-${conversation}`, text: "Do you ship abroad?", notBefore };
    const delivery = { id: `delivery-${conversation}`, topic: "message.received" };
    const conversations = [{ id: conversation, contactId: null, messages: [message] }];
    const ack = await pipeline.acceptVerified(CHANNEL, DEFAULT_TENANT_ID, {
      kind: "delivery",
      delivery: { ...delivery, conversations },
    });
    expect(ack).toMatchObject({ status: "accepted", queued: 1 });
    expect(queue.tasks.map((t) => t.notBefore?.getTime())).toEqual([notBefore.getTime()]);
    // The poll's sweep re-dispatches rows nobody holds; this one waits for its time, so it is not one.
    queue.tasks = [];
    await pipeline.poll();
    expect(queue.tasks).toEqual([]);
    expect(sender.sent).toEqual([]);
    expect(await rowsOf(conversation)).toMatchObject([{ status: "pending", attempts: 0 }]);
  });
});

describe("sending", () => {
  test("a send the provider refuses is retried, and the outcome recorded", async () => {
    const { pipeline, queue, sender } = start();
    const { conversation, request } = notification("Can I change my address?");
    await pipeline.acknowledge(CHANNEL, request);
    sender.next = "refuse";
    expect(await queue.runAll(pipeline)).toEqual(["retry"]);
    const [waiting] = await rowsOf(conversation);
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, lastError: "provider answered 503" });
    // Refused means nothing was sent: the send record is cleared, so the retry sends.
    expect(waiting?.sendStartedAt).toBeNull();
    expect(queue.tasks).toHaveLength(1);
    expect(await queue.runAll(pipeline)).toEqual(["answered"]);
    expect(sender.sent).toHaveLength(1);
    expect(await rowsOf(conversation)).toMatchObject([
      { status: "done", outcome: "answered", attempts: 2, lastError: null },
    ]);
  });

  test("a send that got no answer is not repeated by a provider that cannot tell whether it arrived", async () => {
    const { pipeline, queue, sender } = start();
    const { conversation, request } = notification("Do you ship abroad?");
    await pipeline.acknowledge(CHANNEL, request);
    sender.next = "no_answer";
    expect(await queue.runAll(pipeline)).toEqual(["retry"]);
    expect(await queue.runAll(pipeline)).toEqual(["skipped"]);
    expect(sender.sent).toHaveLength(1);
    expect(await rowsOf(conversation)).toMatchObject([{ status: "done", outcome: "send_unconfirmed" }]);
  });
});

describe("a process that dies between the send and its record", () => {
  const LEASE = 0.3;

  /** The first process takes the task and dies in its send; a second one finds the work on its poll. */
  async function crashAndRecover(sender: FakeSender, script: FakeSender["next"]) {
    const first = start(sender, { leaseSeconds: LEASE });
    const { conversation, request } = notification("How do I return an item?");
    await first.pipeline.acknowledge(CHANNEL, request);
    sender.next = script;
    const [task] = first.queue.tasks;
    void first.pipeline.process(task?.id ?? "", DEFAULT_TENANT_ID);
    await eventually(
      async () => (await rowsOf(conversation))[0]?.sendStartedAt ?? null,
      (at) => at !== null,
    );
    await leaseRunsOut(LEASE);
    const second = start(sender, { leaseSeconds: LEASE });
    expect(await second.pipeline.poll()).toMatchObject({ redispatched: 1 });
    return { conversation, outcomes: await second.queue.runAll(second.pipeline), second };
  }

  test("sends nothing again when the provider cannot tell: at most once", async () => {
    const sender = new FakeSender();
    const { conversation, outcomes, second } = await crashAndRecover(sender, "die_after");
    expect(outcomes).toEqual(["skipped"]);
    expect(sender.sent).toHaveLength(1);
    expect(second.engine.turns).toEqual([]);
    expect(await rowsOf(conversation)).toMatchObject([{ status: "done", outcome: "send_unconfirmed" }]);
  });

  test("finds its reply at a provider that shows it, and sends nothing again", async () => {
    const sender = new ReconcilingSender();
    const { conversation, outcomes } = await crashAndRecover(sender, "die_after");
    expect(outcomes).toEqual(["skipped"]);
    expect(sender.sent).toHaveLength(1);
    expect(await rowsOf(conversation)).toMatchObject([{ status: "done", outcome: "already_answered" }]);
  });

  test("sends once when the provider shows the reply never arrived", async () => {
    const sender = new ReconcilingSender();
    const { conversation, outcomes } = await crashAndRecover(sender, "die_before");
    expect(outcomes).toEqual(["answered"]);
    expect(sender.sent).toHaveLength(1);
    expect(await rowsOf(conversation)).toMatchObject([{ status: "done", outcome: "answered" }]);
  });
});

describe("handing over", () => {
  test("a handoff interrupted in its message resumes without sending that message twice", async () => {
    const sender = new FakeSender();
    const first = start(sender, { leaseSeconds: 0.3 });
    const { conversation, request } = notification("I want to talk to a person");
    await first.pipeline.acknowledge(CHANNEL, request);
    sender.dieInHandoffMessage = true;
    void first.pipeline.process(first.queue.tasks[0]?.id ?? "", DEFAULT_TENANT_ID);
    await eventually(
      () => sender.handoffs,
      (h) => h.length === 1,
    );
    sender.dieInHandoffMessage = false;
    await leaseRunsOut(0.3);
    const second = start(sender, { leaseSeconds: 0.3 });
    await second.pipeline.poll();
    expect(await second.queue.runAll(second.pipeline)).toEqual(["handoff"]);
    expect(sender.handoffs).toEqual([`message:${conversation}`, `assign:${conversation}`]);
    const [handoff] = await inspect<{ steps: string[]; completedAt: Date | null }[]>`
      select steps, completed_at from handoffs where channel = ${CHANNEL} and conversation_id = ${conversation}`;
    expect(handoff?.steps).toEqual(["message", "assign"]);
    expect(handoff?.completedAt).not.toBeNull();
    // The person has it now: the bot stays silent on the next message.
    const next = notification("Hello?", { conversation });
    await second.pipeline.acknowledge(CHANNEL, next.request);
    expect(await second.queue.runAll(second.pipeline)).toEqual(["skipped"]);
    expect(sender.sent).toEqual([]);
  });
});
