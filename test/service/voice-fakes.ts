import { randomUUID } from "node:crypto";
import { InboundPipeline } from "../../service/src/channels/pipeline/pipeline";
import { voiceChannel, voiceNotification } from "../../service/src/channels/voice/channel";
import type { VoiceEvent } from "../../service/src/channels/voice/events";
import type { Database, Sql } from "../../service/src/db/client";
import type {
  CallInsights,
  CallInsightsResult,
  EscalationRequest,
  Escalations,
  Extraction,
  OutboundEvent,
  OutboundEvents,
} from "../../service/src/engine/follow-up";
import { createLogger } from "../../service/src/logger";
import {
  type VoiceProviderClient,
  VoiceProviderError,
  type VoiceTranscriptMessage,
} from "../../service/src/ports/voice";
import { redactPii } from "../../service/src/redaction";
import { LogCapture } from "./helpers";
import { FakeEngine, FakeQueue } from "./pipeline-fakes";

/**
 * The voice channel on a pipeline of its own, with fakes of the other areas' interfaces (CallInsights,
 * Escalations, OutboundEvents) and of the Telnyx conversations API.
 */

/** Telnyx's conversations API in memory; `failNext` refuses the next reads with a status. */
export class FakeVoiceClient implements VoiceProviderClient {
  readonly conversations = new Map<string, VoiceTranscriptMessage[]>();
  readonly reads: string[] = [];
  failures: number[] = [];
  async conversationMessages(id: string) {
    this.reads.push(id);
    const status = this.failures.shift();
    if (status !== undefined) throw new VoiceProviderError(status, `Telnyx answered ${status}`);
    return this.conversations.get(id) ?? [];
  }
}

export const extraction = (o: Partial<Extraction> = {}): Extraction => ({
  name: null,
  email: null,
  phone: null,
  company: null,
  intent: "support",
  urgency: "normal",
  summary: "Asked about a leaking sink.",
  wantsPerson: false,
  followUps: [],
  ...o,
});

/** Records each afterCall; `next` is what the extraction found; `throwOnce` fails the next call. */
export class FakeCallInsights implements CallInsights {
  readonly calls: string[] = [];
  next: Extraction | null = extraction();
  throwOnce = false;
  async afterCall(callId: string): Promise<CallInsightsResult> {
    this.calls.push(callId);
    if (this.throwOnce) {
      this.throwOnce = false;
      throw new Error("extraction store unavailable");
    }
    return { extraction: this.next, contactId: null, leadId: null };
  }
}

export class FakeEscalations implements Escalations {
  readonly opened: EscalationRequest[] = [];
  async open(request: EscalationRequest) {
    this.opened.push(request);
    return { id: randomUUID(), created: this.opened.length === 1, notice: "A person will call you back." };
  }
  async silenced() {
    return false;
  }
}

/**
 * Records events, each with whether the call it names was visible through the `sql` it was given, and
 * whether its dispatch ran. `failNext`: the next record throws, as a failed insert would (the call's
 * transaction must then roll back with it: both or neither).
 */
export class FakeOutboundEvents implements OutboundEvents {
  readonly recorded: { event: OutboundEvent; sawCall: boolean; dispatched: boolean }[] = [];
  failNext = false;
  async record(sql: Sql, event: OutboundEvent) {
    const seen = await sql`select 1 from calls where id = ${String(event.data.callId)}`;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("outbound_events insert failed");
    }
    const entry = { event, sawCall: seen.length === 1, dispatched: false };
    this.recorded.push(entry);
    return async () => {
      entry.dispatched = true;
    };
  }
}

export interface VoiceWorld {
  tenantId: string;
  connectionId: string;
  client: FakeVoiceClient;
  insights: FakeCallInsights;
  escalations: FakeEscalations;
  events: FakeOutboundEvents;
  queue: FakeQueue;
  pipeline: InboundPipeline;
  /** A verified event arrives and is recorded. */
  deliver(event: VoiceEvent): ReturnType<InboundPipeline["acceptVerified"]>;
  work(): Promise<string[]>;
  /** The connection is disconnected: its client is gone. */
  disconnect(): void;
}

export function voiceWorld(db: Database, tenantId: string): VoiceWorld {
  const connectionId = randomUUID();
  const client = new FakeVoiceClient();
  const insights = new FakeCallInsights();
  const escalations = new FakeEscalations();
  const events = new FakeOutboundEvents();
  const queue = new FakeQueue();
  const log = createLogger({ level: "info", destination: new LogCapture() });
  let connected = true;
  const pipeline = new InboundPipeline({
    sql: db.sql,
    engine: new FakeEngine(),
    log,
    settings: {
      leaseSeconds: 30,
      handoff: { requestPattern: /\b(human|person)\b/i, lowConfidenceLimit: 2, maxAttempts: 5 },
    },
  });
  pipeline.attachQueue(queue);
  pipeline.register(
    voiceChannel({
      sql: db.sql,
      log,
      redact: (text) => redactPii(text).text,
      followUp: { insights, escalations, events },
      client: async (id) => (connected && id === connectionId ? client : undefined),
    }),
    { tenantId },
  );
  return {
    tenantId,
    connectionId,
    client,
    insights,
    escalations,
    events,
    queue,
    pipeline,
    deliver: (event) => pipeline.acceptVerified("voice", tenantId, voiceNotification(connectionId, event)),
    work: () => queue.runAll(pipeline),
    disconnect: () => {
      connected = false;
    },
  };
}
