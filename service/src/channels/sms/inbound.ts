import type { Sql } from "../../db/client";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import type { SmsEvent, SmsProvider } from "../../ports/sms";
import type { InboundRequest, ParsedNotification } from "../pipeline/channel";
import type { Acknowledgement } from "../pipeline/pipeline";
import { applyDeliveryStatus, smsNotification } from "./channel";
import type { SmsConnections } from "./connections";
import type { SmsWebhooks } from "./provider";

/** How an SMS webhook was taken. */
export type SmsAcknowledgement =
  /** The number's connection did not verify the signature: nothing was read or stored (401). */
  | { status: "rejected" }
  /**
   * No tenant has the number (or the request names none), or its tenant is suspended or its connection
   * disabled: acknowledged, not answered, nothing stored.
   */
  | { status: "unrouted" | "inactive" }
  | { status: "accepted" | "duplicate" | "ignored"; queued: number; statuses: number };

/** What recording needs of the inbound pipeline. */
export interface DeliveryRecorder {
  acceptVerified(name: "sms", tenantId: string, parsed: ParsedNotification): Promise<Acknowledgement>;
}

export interface SmsInboundDeps {
  sql: Sql;
  log: Logger;
  connections: SmsConnections;
  webhooks: Partial<Record<SmsProvider, SmsWebhooks>>;
  pipeline: DeliveryRecorder;
}

/**
 * The SMS providers' door into the inbound pipeline. Each provider posts every number's texts to one path,
 * so the number a webhook names finds the connection, that connection's credentials verify the raw bytes,
 * and only then is the body read: messages are recorded with their outbox rows in one statement (the
 * provider's message id deduplicates retries), delivery reports update the message they name.
 */
export class SmsInbound {
  constructor(private readonly deps: SmsInboundDeps) {}

  /** The provider's webhooks are taken here. */
  accepts(provider: SmsProvider): boolean {
    return this.deps.webhooks[provider] !== undefined;
  }

  async receive(provider: SmsProvider, request: InboundRequest): Promise<SmsAcknowledgement> {
    const webhooks = this.deps.webhooks[provider];
    if (!webhooks) throw new Error(`${provider} webhooks are not configured`);
    const number = webhooks.routingNumber(request);
    // A body naming no tenant number (Voxie's delivery events carry none) cannot be verified or routed:
    // acknowledged like a text to an unknown number, so the provider does not retry it, and never acted on.
    if (!number) return this.unanswered(provider, undefined, { kind: "unknown" });
    const route = await this.deps.connections.byNumber(provider, number);
    if (route.kind !== "found") return this.unanswered(provider, number, route);
    const { tenantId, connection } = route;
    const verdict = webhooks.verifier(connection).verify(request);
    if (!(typeof verdict === "boolean" ? verdict : await verdict)) {
      this.deps.connections.refused(connection.connectionId);
      return { status: "rejected" };
    }
    const events = webhooks.read(request);
    return this.record(provider, tenantId, connection.connectionId, events);
  }

  private async record(
    provider: SmsProvider,
    tenantId: string,
    connectionId: string,
    events: SmsEvent[],
  ): Promise<SmsAcknowledgement> {
    const { sql, log, pipeline } = this.deps;
    let statuses = 0;
    await inTenant(tenantId, async () => {
      for (const event of events) {
        if (event.kind !== "status") continue;
        await applyDeliveryStatus(sql, log, connectionId, event);
        statuses++;
      }
    });
    const messages = events.filter((e) => e.kind === "message");
    if (messages.length === 0) return { status: "ignored", queued: 0, statuses };
    const ack = await pipeline.acceptVerified("sms", tenantId, smsNotification(connectionId, messages));
    for (const _ of messages)
      log.info(
        { event: LOG_EVENT.smsReceived, provider, connectionId, status: ack.status },
        `sms received (${ack.status})`,
      );
    if (ack.status === "rejected" || ack.status === "pong") return { status: "ignored", queued: 0, statuses };
    return { status: ack.status, queued: ack.queued, statuses };
  }

  private unanswered(
    provider: SmsProvider,
    number: string | undefined,
    route: { kind: "unknown" } | { kind: "inactive"; connectionId: string },
  ): SmsAcknowledgement {
    // The number is the business's, not a customer's: it may be logged.
    const inactive = route.kind === "inactive";
    this.deps.log.warn(
      {
        event: inactive ? "sms.inactive_number" : "sms.unknown_number",
        provider,
        number,
        ...(inactive ? { connectionId: route.connectionId } : {}),
      },
      inactive
        ? "a text to a suspended tenant's or disabled number: acknowledged, not answered"
        : "a webhook naming no number a tenant has connected: acknowledged, not answered",
    );
    return { status: inactive ? "inactive" : "unrouted" };
  }
}
