import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilioSmsClient } from "../../service/src/adapters/twilio";
import { type InboundRequest, InvalidNotification } from "../../service/src/channels/pipeline/channel";
import type { SmsConnectionSecrets } from "../../service/src/channels/sms/provider";
import { parseForm } from "../../service/src/channels/sms/twilio/form";
import { twilioSignature } from "../../service/src/channels/sms/twilio/signature";
import { twilioWebhooks } from "../../service/src/channels/sms/twilio/webhooks";
import {
  signTwilioRequest,
  startTwilioEmulator,
  type TwilioEmulator,
  twilioForm,
  twilioInboundParams,
} from "../emulators/twilio";

const TOKEN = "3f1c2a9b8e7d6c5b4a39281706f5e4d3";
const URL_ = "https://switchboard.example.com/webhooks/sms/twilio/conn_123";
const TENANT_NUMBER = "+14155550100";
const CUSTOMER = "+14155550199";

type Params = Record<string, string | string[]>;

function inbound(body: string, url: string, headers: Record<string, string>): InboundRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    body: new TextEncoder().encode(body),
    header: (name) => lower[name.toLowerCase()],
    url,
    receivedAt: new Date(),
  };
}

/** A webhook exactly as Twilio sends it: the form body and the SDK-computed X-Twilio-Signature. */
function signed(
  params: Params,
  opts: { url?: string; signUrl?: string; token?: string; body?: string } = {},
) {
  const url = opts.url ?? URL_;
  return inbound(opts.body ?? twilioForm(params), url, {
    "content-type": "application/x-www-form-urlencoded",
    "x-twilio-signature": signTwilioRequest(opts.token ?? TOKEN, opts.signUrl ?? url, params),
  });
}

const connection = (authToken?: string): SmsConnectionSecrets => ({
  connectionId: "conn_123",
  phoneNumber: TENANT_NUMBER,
  credentials: authToken === undefined ? {} : { authToken },
  settings: { accountSid: "AC00000000000000000000000000000000" },
});

const verify = (request: InboundRequest, token = TOKEN) =>
  twilioWebhooks.verifier(connection(token)).verify(request);

const message = () =>
  twilioInboundParams({ from: CUSTOMER, to: TENANT_NUMBER, body: "Hi, is my order shipped?" });

describe("Twilio webhook signature (X-Twilio-Signature)", () => {
  it("accepts an inbound message signed with the connection's auth token", () => {
    expect(verify(signed(message()))).toBe(true);
  });

  it("matches the signature Twilio's documentation gives for its worked example", () => {
    const params = {
      CallSid: "CA1234567890ABCDE",
      Caller: "+14158675309",
      Digits: "1234",
      From: "+14158675309",
      To: "+18005551212",
    };
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    expect(twilio.getExpectedTwilioSignature("12345", url, params)).toBe("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    expect(twilioSignature("12345", url, parseForm(new TextEncoder().encode(twilioForm(params))))).toBe(
      "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
    );
  });

  it("refuses a body changed after signing", () => {
    const params = message();
    const tampered = twilioForm({ ...params, Body: "Refund me $500" });
    expect(verify(signed(params, { body: tampered }))).toBe(false);
  });

  it("refuses a parameter added after signing", () => {
    const params = message();
    expect(verify(signed(params, { body: `${twilioForm(params)}&Extra=1` }))).toBe(false);
  });

  it("refuses a parameter removed after signing", () => {
    const { NumSegments: _dropped, ...rest } = message();
    const params = message();
    const withoutOne = twilioForm({ ...rest, MessageSid: params.MessageSid ?? "" });
    expect(verify(signed(params, { body: withoutOne }))).toBe(false);
  });

  it("refuses the request when the URL is not the public one Twilio called (e.g. built from Host)", () => {
    const params = message();
    const hostDerived = "http://10.0.0.7:8080/webhooks/sms/twilio/conn_123";
    expect(verify(signed(params, { url: hostDerived, signUrl: URL_ }))).toBe(false);
    expect(verify(signed(params, { url: `${URL_}x`, signUrl: URL_ }))).toBe(false);
  });

  it("refuses a request signed with another token, one without a signature, and a connection without a token", () => {
    const params = message();
    expect(verify(signed(params, { token: "another-accounts-token" }))).toBe(false);
    expect(verify(inbound(twilioForm(params), URL_, {}))).toBe(false);
    expect(twilioWebhooks.verifier(connection()).verify(signed(params))).toBe(false);
  });

  it("signs a repeated key once per value, in sorted order, however the body orders them", () => {
    const params: Params = { ...message(), MediaUrl: ["https://b.example/2.jpg", "https://a.example/1.jpg"] };
    const request = signed(params);
    expect(verify(request)).toBe(true);
    const reordered = twilioForm({
      ...params,
      MediaUrl: ["https://a.example/1.jpg", "https://b.example/2.jpg"],
    });
    expect(verify(signed(params, { body: reordered }))).toBe(true);
    // A value moved to another key is a different request.
    const moved = twilioForm({
      ...params,
      MediaUrl: ["https://a.example/1.jpg"],
      Other: "https://b.example/2.jpg",
    });
    expect(verify(signed(params, { body: moved }))).toBe(false);
  });

  it("counts a value repeated under one key once, as the SDK's validator does", () => {
    const params: Params = { ...message(), Tag: ["same", "same"] };
    const sig = signTwilioRequest(TOKEN, URL_, params);
    expect(twilio.validateRequest(TOKEN, sig, URL_, params)).toBe(true);
    expect(twilio.validateRequest(TOKEN, sig, URL_, { ...params, Tag: "same" })).toBe(true);
    expect(verify(inbound(twilioForm(params), URL_, { "x-twilio-signature": sig }))).toBe(true);
    expect(verify(inbound(twilioForm({ ...params, Tag: "same" }), URL_, { "x-twilio-signature": sig }))).toBe(
      true,
    );
  });

  it("reads + and %20 in form values as a space, and %2B as a plus, as Twilio signs the decoded value", () => {
    const params = { ...message(), Body: "a b+c" };
    const sig = signTwilioRequest(TOKEN, URL_, params);
    const withPlus = twilioForm(params); // Body=a+b%2Bc
    expect(withPlus).toContain("Body=a+b%2Bc");
    const withPercent = withPlus.replace("Body=a+b%2Bc", "Body=a%20b%2Bc");
    const wrongPlus = withPlus.replace("Body=a+b%2Bc", "Body=a+b+c");
    const headers = { "x-twilio-signature": sig };
    expect(verify(inbound(withPlus, URL_, headers))).toBe(true);
    expect(verify(inbound(withPercent, URL_, headers))).toBe(true);
    expect(verify(inbound(wrongPlus, URL_, headers))).toBe(false);
  });

  it("accepts a signature over the URL with or without the scheme's default port, and keeps a non-standard one", () => {
    const params = message();
    expect(verify(signed(params, { url: URL_, signUrl: URL_.replace(".com/", ".com:443/") }))).toBe(true);
    expect(verify(signed(params, { url: URL_.replace(".com/", ".com:443/"), signUrl: URL_ }))).toBe(true);
    const custom = URL_.replace(".com/", ".com:8443/");
    expect(verify(signed(params, { url: custom, signUrl: custom }))).toBe(true);
    expect(verify(signed(params, { url: custom, signUrl: URL_.replace(".com/", ".com:9443/") }))).toBe(false);
  });

  it("verifies a JSON body through its bodySHA256 URL parameter, like the SDK's validateRequestWithBody", () => {
    const body = JSON.stringify({ MessageSid: "SM1", To: TENANT_NUMBER, Body: "héllo" });
    const hash = createHash("sha256").update(body).digest("hex");
    const url = `${URL_}?bodySHA256=${hash}`;
    const sig = twilio.getExpectedTwilioSignature(TOKEN, url, {});
    expect(twilio.validateRequestWithBody(TOKEN, sig, url, body)).toBe(true);
    expect(
      verify(inbound(body, url, { "x-twilio-signature": sig, "content-type": "application/json" })),
    ).toBe(true);
    const tampered = body.replace("héllo", "hello");
    expect(twilio.validateRequestWithBody(TOKEN, sig, url, tampered)).toBe(false);
    expect(verify(inbound(tampered, url, { "x-twilio-signature": sig }))).toBe(false);
  });

  it("agrees with the SDK's validateRequest on 300 generated requests (unicode, empty values, repeated keys, query strings)", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const keys = [
      "Body",
      "From",
      "To",
      "MessageSid",
      "a",
      "B",
      "b",
      "Z",
      "é",
      "Media Url",
      "x+y",
      "k&v",
      "Ω",
    ];
    const values = [
      "",
      " ",
      "hello world",
      "a+b",
      "50% off",
      "ünïcødé ✓",
      "😀 emoji",
      "x=y&z",
      "+14155550100",
      "line\nbreak",
      "日本語",
    ];
    const urls = [
      URL_,
      `${URL_}?tenant=acme&x=1`,
      `${URL_}?q=hello%20world&empty=`,
      "https://switchboard.example.com:8443/hook?a=b",
      "http://localhost:3000/webhooks/sms/twilio/c1",
    ];
    for (let i = 0; i < 300; i += 1) {
      const params: Record<string, string | string[]> = {};
      const count = 1 + Math.floor(random() * 6);
      for (let k = 0; k < count; k += 1) {
        const key = pick(keys);
        const value = pick(values);
        const existing = params[key];
        if (existing === undefined) params[key] = random() < 0.2 ? [value, pick(values)] : value;
        else params[key] = [...(Array.isArray(existing) ? existing : [existing]), value];
      }
      const url = pick(urls);
      const sdkSignature = twilio.getExpectedTwilioSignature(TOKEN, url, params);
      const body = twilioForm(params);
      expect(twilioSignature(TOKEN, url, parseForm(new TextEncoder().encode(body)))).toBe(sdkSignature);
      const good = inbound(body, url, { "x-twilio-signature": sdkSignature });
      expect(verify(good)).toBe(twilio.validateRequest(TOKEN, sdkSignature, url, params));
      expect(verify(good)).toBe(true);
      const forged = `${sdkSignature.slice(0, -2)}${sdkSignature.endsWith("A=") ? "B=" : "A="}`;
      const bad = inbound(body, url, { "x-twilio-signature": forged });
      expect(verify(bad)).toBe(twilio.validateRequest(TOKEN, forged, url, params));
      expect(verify(bad)).toBe(false);
    }
  });
});

describe("Twilio webhook routing and reading", () => {
  it("routes an inbound message by To and a status callback by From, as E.164", () => {
    expect(twilioWebhooks.routingNumber(signed(message()))).toBe(TENANT_NUMBER);
    const status = {
      MessageSid: "SM1",
      SmsSid: "SM1",
      MessageStatus: "delivered",
      From: "+1 (415) 555-0100",
      To: CUSTOMER,
    };
    expect(twilioWebhooks.routingNumber(signed(status))).toBe(TENANT_NUMBER);
    expect(twilioWebhooks.routingNumber(signed({ Foo: "bar", To: TENANT_NUMBER }))).toBeUndefined();
    expect(
      twilioWebhooks.routingNumber(signed({ ...message(), To: "whatsapp:+14155550100" })),
    ).toBeUndefined();
  });

  it("reads an inbound SMS and an MMS with its media", () => {
    const sms = message();
    expect(twilioWebhooks.read(signed(sms))).toEqual([
      {
        kind: "message",
        providerMessageId: sms.MessageSid,
        from: CUSTOMER,
        to: TENANT_NUMBER,
        text: "Hi, is my order shipped?",
        media: [],
      },
    ]);
    const mms = twilioInboundParams({
      from: CUSTOMER,
      to: TENANT_NUMBER,
      body: "",
      media: [
        {
          url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
          contentType: "image/jpeg",
        },
        {
          url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
          contentType: "image/png",
        },
      ],
    });
    const [event] = twilioWebhooks.read(signed(mms));
    expect(event).toMatchObject({ kind: "message", text: "", providerMessageId: mms.MessageSid });
    expect(event?.kind === "message" && event.media).toEqual([
      "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
      "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
    ]);
    // Only the NumMedia first media are the message's.
    const [capped] = twilioWebhooks.read(signed({ ...mms, NumMedia: "1" }));
    expect(capped?.kind === "message" && capped.media).toEqual([
      "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    ]);
  });

  it("maps every Twilio MessageStatus onto the channel's delivery statuses, with the error code", () => {
    const expected = {
      accepted: "queued",
      scheduled: "queued",
      queued: "queued",
      sending: "sending",
      sent: "sent",
      delivered: "delivered",
      read: "delivered",
      undelivered: "undelivered",
      failed: "failed",
      canceled: "failed",
    } as const;
    for (const [twilioStatus, status] of Object.entries(expected)) {
      const params = {
        SmsSid: "SMabc",
        SmsStatus: twilioStatus,
        MessageStatus: twilioStatus,
        To: CUSTOMER,
        MessageSid: "SMabc",
        AccountSid: "AC1",
        From: TENANT_NUMBER,
        ApiVersion: "2010-04-01",
      };
      expect(twilioWebhooks.read(signed(params))).toEqual([
        {
          kind: "status",
          providerMessageId: "SMabc",
          status,
          errorCode: undefined,
          from: TENANT_NUMBER,
          to: CUSTOMER,
        },
      ]);
    }
    const failed = {
      MessageSid: "SMabc",
      MessageStatus: "undelivered",
      ErrorCode: "30003",
      To: CUSTOMER,
      From: TENANT_NUMBER,
    };
    expect(twilioWebhooks.read(signed(failed))[0]).toMatchObject({
      status: "undelivered",
      errorCode: "30003",
    });
  });

  it("acknowledges a status Twilio adds later without acting on it", () => {
    const params = {
      MessageSid: "SMabc",
      MessageStatus: "partially_delivered",
      To: CUSTOMER,
      From: TENANT_NUMBER,
    };
    expect(twilioWebhooks.read(signed(params))).toEqual([
      { kind: "other", type: "status.partially_delivered" },
    ]);
  });

  it("refuses a body that is neither a message nor a status callback, or whose numbers are not E.164", () => {
    const expectInvalid = (params: Params) => {
      try {
        twilioWebhooks.read(signed(params));
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidNotification);
        expect((error as InvalidNotification).code).toBe("validation_failed");
        return;
      }
      throw new Error("expected InvalidNotification");
    };
    expectInvalid({ Foo: "bar" });
    expectInvalid({ ...message(), From: "whatsapp:+14155550199" });
    expectInvalid({ Body: "hi", From: CUSTOMER, To: TENANT_NUMBER });
    expectInvalid({ MessageStatus: "sent", From: TENANT_NUMBER, To: CUSTOMER });
  });

  it("answers with an empty TwiML response, so nothing is texted back", () => {
    expect(twilioWebhooks.acknowledgement).toEqual({
      contentType: "text/xml",
      body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
    });
  });
});

describe("a status callback from the Twilio emulator", () => {
  let emulator: TwilioEmulator;
  let receiver: Server;
  let callbackUrl = "";
  const received: InboundRequest[] = [];

  beforeAll(async () => {
    emulator = await startTwilioEmulator();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        // The URL is the configured public one, never rebuilt from the Host header.
        received.push(
          inbound(Buffer.concat(chunks).toString("utf8"), callbackUrl, req.headers as Record<string, string>),
        );
        res.writeHead(200, { "content-type": "text/xml" }).end(twilioWebhooks.acknowledgement?.body);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const address = receiver.address();
    if (!address || typeof address === "string") throw new Error("no address");
    callbackUrl = `http://127.0.0.1:${address.port}/webhooks/sms/twilio/conn_123?tenant=acme`;
  });
  afterAll(async () => {
    await emulator.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it("verifies with the account's token and reads as the delivery of the message that was sent", async () => {
    const client = twilioSmsClient({
      accountSid: emulator.accountSid,
      authToken: emulator.authToken,
      apiBase: emulator.url,
    });
    const sent = await client.send({
      from: TENANT_NUMBER,
      to: CUSTOMER,
      text: "Your order shipped.",
      statusCallbackUrl: callbackUrl,
    });
    const answer = await emulator.statusCallback(sent.providerMessageId, "undelivered", 30006);
    expect(answer.status).toBe(200);
    const request = received.at(-1);
    if (!request) throw new Error("no callback received");
    expect(twilioWebhooks.verifier(connection(emulator.authToken)).verify(request)).toBe(true);
    expect(twilioWebhooks.verifier(connection(TOKEN)).verify(request)).toBe(false);
    expect(twilioWebhooks.routingNumber(request)).toBe(TENANT_NUMBER);
    expect(twilioWebhooks.read(request)).toEqual([
      {
        kind: "status",
        providerMessageId: sent.providerMessageId,
        status: "undelivered",
        errorCode: "30006",
        from: TENANT_NUMBER,
        to: CUSTOMER,
      },
    ]);
  });
});
