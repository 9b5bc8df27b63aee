import { describe, expect, it } from "vitest";
import type { InboundRequest } from "../../service/src/channels/pipeline/channel";
import { InvalidNotification } from "../../service/src/channels/pipeline/channel";
import type { SmsConnectionSecrets } from "../../service/src/channels/sms/provider";
import { telnyxWebhooks } from "../../service/src/channels/sms/telnyx/webhooks";
import { telnyxInboundEvent, telnyxWebhookSigner } from "../emulators/telnyx";

const signer = telnyxWebhookSigner();
const TENANT = "+14155550100";
const CUSTOMER = "+14155550132";
const NOW = new Date("2026-11-30T18:00:00Z");
const NOW_S = Math.floor(NOW.getTime() / 1000);

function request(
  body: string | Uint8Array,
  headers: Record<string, string>,
  receivedAt = NOW,
): InboundRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    body: typeof body === "string" ? new TextEncoder().encode(body) : body,
    header: (name) => lower[name.toLowerCase()],
    url: "https://switchboard.example/webhooks/telnyx/sms",
    receivedAt,
  };
}

function connection(publicKey: string): SmsConnectionSecrets {
  return {
    connectionId: "conn-1",
    phoneNumber: TENANT,
    credentials: { apiKey: "KEY-not-used-here", publicKey },
    settings: {},
  };
}

const verifies = (req: InboundRequest, publicKey = signer.publicKey) =>
  telnyxWebhooks.verifier(connection(publicKey)).verify(req);

function inbound(text = "Are you open on Sunday? 🙂"): string {
  return JSON.stringify(telnyxInboundEvent({ from: CUSTOMER, to: TENANT, text }));
}

function statusBody(eventType: string, status: string, errors: unknown[] = []): string {
  return JSON.stringify({
    data: {
      record_type: "event",
      id: "86f58db9-0fe3-4adc-9d1f-46e66e6e9323",
      event_type: eventType,
      occurred_at: NOW.toISOString(),
      payload: {
        record_type: "message",
        direction: "outbound",
        id: "40385f64-5717-4562-b3fc-2c963f66afa6",
        type: "SMS",
        from: { phone_number: TENANT, carrier: "Telnyx", line_type: "VoIP" },
        to: [{ phone_number: CUSTOMER, status, carrier: "T-MOBILE USA, INC.", line_type: "Wireless" }],
        text: "We open at 10.",
        errors,
      },
    },
    meta: { attempt: 1, delivered_to: "https://switchboard.example/webhooks/telnyx/sms" },
  });
}

describe("Telnyx webhook signature (Ed25519 over timestamp|body)", () => {
  it("accepts a body signed with the connection's key, emoji and all, judged on the raw bytes", () => {
    const body = inbound();
    expect(verifies(request(body, signer.sign(body, NOW_S)))).toBe(true);
  });

  it("refuses a body changed after signing, even by one byte", () => {
    const body = inbound("Are you open on Sunday?");
    const headers = signer.sign(body, NOW_S);
    expect(verifies(request(body.replace("Sunday", "Monday"), headers))).toBe(false);
    expect(verifies(request(`${body} `, headers))).toBe(false);
  });

  it("refuses a signature by another account's key", () => {
    const body = inbound();
    const other = telnyxWebhookSigner();
    expect(verifies(request(body, other.sign(body, NOW_S)))).toBe(false);
  });

  it("refuses a replay with a fresh timestamp header (the timestamp is signed)", () => {
    const body = inbound();
    const headers = signer.sign(body, NOW_S - 3600);
    expect(verifies(request(body, { ...headers, "telnyx-timestamp": String(NOW_S) }))).toBe(false);
  });

  it("allows 300 s of clock difference either way and refuses more", () => {
    const body = inbound();
    expect(verifies(request(body, signer.sign(body, NOW_S - 300)))).toBe(true);
    expect(verifies(request(body, signer.sign(body, NOW_S + 300)))).toBe(true);
    expect(verifies(request(body, signer.sign(body, NOW_S - 301)))).toBe(false);
    expect(verifies(request(body, signer.sign(body, NOW_S + 301)))).toBe(false);
  });

  it("refuses a request without either header", () => {
    const body = inbound();
    const headers = signer.sign(body, NOW_S);
    const { "telnyx-signature-ed25519": _sig, ...noSignature } = headers;
    const { "telnyx-timestamp": _ts, ...noTimestamp } = headers;
    expect(verifies(request(body, noSignature))).toBe(false);
    expect(verifies(request(body, noTimestamp))).toBe(false);
    expect(verifies(request(body, {}))).toBe(false);
  });

  it("refuses malformed signatures and timestamps without throwing", () => {
    const body = inbound();
    const headers = signer.sign(body, NOW_S);
    const signature = headers["telnyx-signature-ed25519"] ?? "";
    const variants = [
      "not base64 at all!",
      signature.slice(0, -4), // 61 bytes
      `${signature.slice(0, -2)}!!`,
      Buffer.alloc(64).toString("base64"),
      Buffer.alloc(65).toString("base64"),
      `v1,${signature}`,
    ];
    for (const bad of variants) {
      expect(verifies(request(body, { ...headers, "telnyx-signature-ed25519": bad }))).toBe(false);
    }
    for (const ts of ["", "abc", `${NOW_S}.5`, "-1", `${NOW_S}abc`, "9".repeat(40)]) {
      expect(verifies(request(body, { ...headers, "telnyx-timestamp": ts }))).toBe(false);
    }
  });

  it("a malformed public key on the connection refuses everything without throwing", () => {
    const body = inbound();
    const req = request(body, signer.sign(body, NOW_S));
    const keys = [
      "",
      "not-a-key",
      Buffer.alloc(31).toString("base64"),
      Buffer.alloc(33).toString("base64"),
      `${signer.publicKey.slice(0, -2)}*=`,
    ];
    for (const key of keys) expect(verifies(req, key)).toBe(false);
    expect(() => telnyxWebhooks.verifier({ ...connection(""), credentials: {} }).verify(req)).not.toThrow();
    expect(telnyxWebhooks.verifier({ ...connection(""), credentials: {} }).verify(req)).toBe(false);
  });

  it("answers synchronously, so the acknowledgement waits for no I/O", () => {
    const body = inbound();
    expect(typeof verifies(request(body, signer.sign(body, NOW_S)))).toBe("boolean");
  });
});

describe("Telnyx routing number (read before verification, trusted for nothing else)", () => {
  const route = (body: string) => telnyxWebhooks.routingNumber(request(body, {}));

  it("an inbound text routes by the number that was texted (to[0])", () => {
    expect(route(inbound())).toBe(TENANT);
  });

  it("a delivery status routes by the number it was sent from", () => {
    expect(route(statusBody("message.sent", "sent"))).toBe(TENANT);
    expect(route(statusBody("message.finalized", "delivered"))).toBe(TENANT);
  });

  it("normalises a number written with spaces or punctuation to E.164", () => {
    const body = JSON.stringify(telnyxInboundEvent({ from: CUSTOMER, to: "+1 (415) 555-0100", text: "hi" }));
    expect(route(body)).toBe(TENANT);
  });

  it("names none for malformed JSON, a body that is not an event, or a number that is not one", () => {
    expect(route("{not json")).toBeUndefined();
    expect(route(JSON.stringify({ hello: "world" }))).toBeUndefined();
    expect(
      route(JSON.stringify({ data: { event_type: "message.received", payload: { to: [] } } })),
    ).toBeUndefined();
    expect(
      route(JSON.stringify(telnyxInboundEvent({ from: CUSTOMER, to: "not a number", text: "hi" }))),
    ).toBeUndefined();
  });
});

describe("Telnyx events read after verification", () => {
  const read = (body: string) => telnyxWebhooks.read(request(body, {}));

  it("an inbound text becomes a message from the customer to the tenant's number", () => {
    const event = telnyxInboundEvent({
      from: CUSTOMER,
      to: TENANT,
      text: "Photo of the receipt",
      id: "b301ed3f-1490-491f-995f-6e64e69674d4",
      media: ["https://media.telnyx.example/1.jpg"],
    });
    expect(read(JSON.stringify(event))).toEqual([
      {
        kind: "message",
        providerMessageId: "b301ed3f-1490-491f-995f-6e64e69674d4",
        from: CUSTOMER,
        to: TENANT,
        text: "Photo of the receipt",
        media: ["https://media.telnyx.example/1.jpg"],
      },
    ]);
  });

  it("delivery statuses map onto the channel's vocabulary", () => {
    const cases: [string, string, string][] = [
      ["message.sent", "queued", "queued"],
      ["message.sent", "sending", "sending"],
      ["message.sent", "sent", "sent"],
      ["message.finalized", "delivered", "delivered"],
      ["message.finalized", "delivery_unconfirmed", "sent"],
      ["message.finalized", "sending_failed", "failed"],
      ["message.finalized", "delivery_failed", "undelivered"],
      ["message.finalized", "expired", "undelivered"],
    ];
    for (const [eventType, telnyxStatus, status] of cases) {
      expect(read(statusBody(eventType, telnyxStatus))[0]).toMatchObject({ kind: "status", status });
    }
  });

  it("a failed delivery carries the message id, the event id and Telnyx's error code", () => {
    const body = statusBody("message.finalized", "delivery_failed", [
      { code: "40008", title: "Undeliverable", detail: "The recipient carrier did not accept the message." },
    ]);
    expect(read(body)).toEqual([
      {
        kind: "status",
        providerMessageId: "40385f64-5717-4562-b3fc-2c963f66afa6",
        eventId: "86f58db9-0fe3-4adc-9d1f-46e66e6e9323",
        status: "undelivered",
        errorCode: "40008",
        from: TENANT,
        to: CUSTOMER,
      },
    ]);
  });

  it("another event type, or a status this code does not know, is acknowledged as other", () => {
    const other = JSON.stringify({ data: { event_type: "number_order.complete", payload: {} } });
    expect(read(other)).toEqual([{ kind: "other", type: "number_order.complete" }]);
    expect(read(statusBody("message.finalized", "teleported"))[0]?.kind).toBe("other");
  });

  it("a body that is not a Telnyx event is an InvalidNotification", () => {
    expect(() => read("{oops")).toThrow(InvalidNotification);
    expect(() => read(JSON.stringify({ data: {} }))).toThrow(InvalidNotification);
    const noId = JSON.parse(inbound()) as { data: { payload: Record<string, unknown> } };
    delete noId.data.payload.id;
    expect(() => read(JSON.stringify(noId))).toThrow(/payload\.id/);
  });
});
