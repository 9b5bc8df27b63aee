import type { Logger } from "../../logger";
import type { InboundRequest, ParsedNotification } from "../pipeline/channel";
import type { Acknowledgement } from "../pipeline/pipeline";
import { telnyxVerifier } from "../pipeline/telnyx-signature";
import { voiceNotification } from "./channel";
import { readVoiceEvent, voiceRoutingNumber } from "./events";
import type { VoiceNumbers, VoiceRoute } from "./numbers";

export type VoiceAcknowledgement =
  /** The connection's key did not verify the signature: nothing was read or stored (401). */
  | { status: "rejected" }
  /** No tenant has the number or connection, or it is inactive: acknowledged, nothing stored. */
  | { status: "unrouted" | "inactive" }
  | { status: "accepted" | "duplicate" | "ignored"; queued: number };

export interface VoiceRecorder {
  acceptVerified(name: "voice", tenantId: string, parsed: ParsedNotification): Promise<Acknowledgement>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The door of the assistant's events (`POST /webhooks/telnyx/voice/events`). The body's called number (or,
 * for insights, which name none, the connection in the URL) finds the connection whose public key
 * verifies the raw bytes; only then is the body read and recorded through the inbound pipeline.
 */
export class VoiceInbound {
  constructor(private readonly deps: { numbers: VoiceNumbers; pipeline: VoiceRecorder; log: Logger }) {}

  async receive(request: InboundRequest, connectionHint: string | undefined): Promise<VoiceAcknowledgement> {
    const route = await this.route(request, connectionHint);
    if (route.kind !== "found") {
      this.deps.log.warn(
        {
          event: `voice.${route.kind}_connection`,
          ...(route.kind === "inactive" ? { connectionId: route.connectionId } : {}),
        },
        "a voice event no active connection takes: acknowledged, not stored",
      );
      return { status: route.kind === "inactive" ? "inactive" : "unrouted" };
    }
    const { tenantId, connection } = route;
    if (!telnyxVerifier(connection.credentials.publicKey).verify(request)) {
      this.deps.numbers.refused(connection.connectionId);
      return { status: "rejected" };
    }
    const event = readVoiceEvent(request.body);
    const ack = await this.deps.pipeline.acceptVerified(
      "voice",
      tenantId,
      voiceNotification(connection.connectionId, event),
    );
    if (ack.status === "rejected" || ack.status === "pong") return { status: "ignored", queued: 0 };
    return { status: ack.status, queued: ack.queued };
  }

  private async route(request: InboundRequest, hint: string | undefined): Promise<VoiceRoute> {
    const { numbers } = this.deps;
    const number = voiceRoutingNumber(request.body);
    const byNumber = number ? await numbers.byNumber("telnyx", number) : undefined;
    if (byNumber && byNumber.kind !== "unknown") return byNumber;
    if (hint && UUID.test(hint)) return numbers.byConnectionId("telnyx", hint);
    return { kind: "unknown" };
  }
}
