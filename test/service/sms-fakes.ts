import { randomUUID } from "node:crypto";
import { InboundPipeline } from "../../service/src/channels/pipeline/pipeline";
import type { TurnDeps } from "../../service/src/channels/pipeline/turn";
import { type SmsConnection, smsChannel, smsNotification } from "../../service/src/channels/sms/channel";
import { type SmsSettings, smsSettingsOf } from "../../service/src/channels/sms/settings";
import type { Database, Sql } from "../../service/src/db/client";
import { createLogger } from "../../service/src/logger";
import {
  type SmsFailureKind,
  type SmsProviderClient,
  SmsProviderError,
  type SmsSendRequest,
  type SmsSent,
  type SmsSentEarlier,
} from "../../service/src/ports/sms";
import { LogCapture } from "./helpers";
import { FakeEngine, FakeQueue } from "./pipeline-fakes";

export { FakeEngine, FakeQueue };

/** What a scripted send does: refuse with a failure kind, or the process dying before/after the provider took it. */
export type Script =
  | { fail: SmsFailureKind; status: number; code?: string }
  | { die: "before" | "after" }
  | { hang: "no_answer" };

const never = () => new Promise<never>(() => {});

/** An SMS provider account in memory, implementing the port, with scripted failures. */
export class FakeSmsClient implements SmsProviderClient {
  readonly provider = "twilio" as const;
  readonly sent: (SmsSendRequest & { id: string; at: Date })[] = [];
  readonly script: Script[] = [];
  /** Absent: the provider cannot be asked what it sent (reconciliation impossible). */
  sentSince?: (q: { from: string; to: string; since: Date }) => Promise<SmsSentEarlier[]>;

  constructor(opts: { listable?: boolean } = {}) {
    if (opts.listable !== false)
      this.sentSince = async (q) =>
        this.sent
          .filter((s) => s.from === q.from && s.to === q.to && s.at >= q.since)
          .reverse()
          .map((s) => ({
            providerMessageId: s.id,
            to: s.to,
            from: s.from,
            text: s.text,
            status: "sent",
            sentAt: s.at,
          }));
  }

  async send(request: SmsSendRequest): Promise<SmsSent> {
    const next = this.script.shift();
    if (next && "fail" in next)
      throw new SmsProviderError(
        "twilio",
        next.fail,
        next.status,
        next.code,
        `refused: ${next.fail}`,
        new Date(),
      );
    if (next && "die" in next && next.die === "before") return never();
    const id = `SM${randomUUID().replaceAll("-", "")}`;
    this.sent.push({ ...request, id, at: new Date() });
    if (next && "die" in next) return never();
    if (next && "hang" in next) throw new Error("socket hang up");
    return { providerMessageId: id, status: "queued", segments: 1 };
  }
}

export async function createTenant(inspect: Sql, slug: string): Promise<string> {
  const id = randomUUID();
  await inspect`insert into tenants (id, slug, name, widget_key) values (${id}, ${slug}, ${slug}, ${`pk_${slug}`})`;
  return id;
}

/** One tenant's SMS channel on a pipeline of its own ("a process"), its number at a fake provider. */
export interface SmsWorld<C extends SmsProviderClient = FakeSmsClient> {
  tenantId: string;
  number: string;
  connectionId: string;
  client: C;
  engine: FakeEngine;
  queue: FakeQueue;
  logs: LogCapture;
  pipeline: InboundPipeline;
  settings: SmsSettings;
  /** A new process on the same database, tenant and provider (after a crash of this one). */
  restart(): SmsWorld<C>;
  /** A customer's text arrives (verified), and is recorded; returns the acknowledgement. */
  text(from: string, body: string, messageId?: string): ReturnType<InboundPipeline["acceptVerified"]>;
  /** Runs the tasks queued so far. */
  work(): Promise<string[]>;
}

export function smsWorld<C extends SmsProviderClient = FakeSmsClient>(
  db: Database,
  tenantId: string,
  opts: {
    number: string;
    client?: C;
    settings?: Partial<SmsSettings>;
    leaseSeconds?: number;
    /** A handoff opens an escalation here (escalation tests). */
    escalations?: TurnDeps["escalations"];
  },
): SmsWorld<C> {
  const client = opts.client ?? (new FakeSmsClient() as unknown as C);
  const connectionId = randomUUID();
  const settings = { ...smsSettingsOf({}, "Acme"), ...opts.settings };
  const build = (): SmsWorld<C> => {
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    const engine = new FakeEngine();
    const queue = new FakeQueue();
    const connection: SmsConnection = {
      id: connectionId,
      phoneNumber: opts.number,
      provider: client.provider,
      client,
    };
    const pipeline = new InboundPipeline({
      sql: db.sql,
      engine,
      log,
      settings: {
        leaseSeconds: opts.leaseSeconds ?? 30,
        handoff: { requestPattern: /\b(human|person|agent)\b/i, lowConfidenceLimit: 2, maxAttempts: 5 },
      },
      escalations: opts.escalations,
    });
    pipeline.attachQueue(queue);
    pipeline.register(
      smsChannel({
        sql: db.sql,
        log,
        settings: () => settings,
        connection: async (id) => (id === connectionId ? connection : undefined),
      }),
      { tenantId },
    );
    const world: SmsWorld<C> = {
      tenantId,
      number: opts.number,
      connectionId,
      client,
      engine,
      queue,
      logs,
      pipeline,
      settings,
      restart: build,
      text: (from, body, messageId = `SM-in-${randomUUID()}`) =>
        pipeline.acceptVerified(
          "sms",
          tenantId,
          smsNotification(connectionId, [
            { kind: "message", providerMessageId: messageId, from, to: opts.number, text: body, media: [] },
          ]),
        ),
      work: () => queue.runAll(pipeline),
    };
    return world;
  };
  return build();
}
