import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Telnyx, { APIError } from "telnyx";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTelnyxEmulator, type TelnyxEmulator, telnyxInboundEvent } from "./telnyx";

let telnyx: TelnyxEmulator;
let client: Telnyx;

beforeAll(async () => {
  telnyx = await startTelnyxEmulator();
  client = new Telnyx({ apiKey: telnyx.apiKey, baseURL: telnyx.apiBase, maxRetries: 0, logLevel: "off" });
});
afterEach(() => telnyx.reset());
afterAll(() => telnyx.close());

async function apiError(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error("expected an APIError");
}

const errorsOf = (error: APIError) => (error.error as { errors: Record<string, unknown>[] }).errors;

/** A webhook receiver: every POST it gets, with the raw bytes. */
async function receiver(): Promise<{
  url: string;
  got: { headers: IncomingMessage["headers"]; body: Buffer }[];
  server: Server;
}> {
  const got: { headers: IncomingMessage["headers"]; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

/** Checks a delivery the way Telnyx documents it, independently of the service's verifier. */
function signedByAccount(publicKey: string, headers: IncomingMessage["headers"], body: Buffer): boolean {
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(publicKey, "base64")]),
    format: "der",
    type: "spki",
  });
  const signed = Buffer.concat([Buffer.from(`${headers["telnyx-timestamp"]}|`), body]);
  return verify(null, signed, key, Buffer.from(String(headers["telnyx-signature-ed25519"]), "base64"));
}

describe("telnyx emulator with the real telnyx SDK", () => {
  it("sends a message: the response is the v2 message record, the request carried the Bearer key", async () => {
    const { data } = await client.messages.send({
      from: "+14155550100",
      to: "+14155550132",
      text: "We open at 10 tomorrow.",
      messaging_profile_id: telnyx.messagingProfileId,
      webhook_url: "https://switchboard.example/webhooks/telnyx/sms",
    });
    expect(data).toMatchObject({
      record_type: "message",
      direction: "outbound",
      type: "SMS",
      from: { phone_number: "+14155550100" },
      to: [{ phone_number: "+14155550132", status: "queued" }],
      text: "We open at 10 tomorrow.",
      parts: 1,
      encoding: "GSM-7",
      messaging_profile_id: telnyx.messagingProfileId,
      webhook_url: "https://switchboard.example/webhooks/telnyx/sms",
    });
    expect(data?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(telnyx.sent.map((m) => m.id)).toEqual([data?.id]);
    const request = telnyx.requests.at(-1);
    expect([request?.method, request?.path]).toEqual(["POST", "/v2/messages"]);
    expect(request?.headers.authorization).toBe(`Bearer ${telnyx.apiKey}`);
  });

  it("counts parts as carriers bill them: 160 GSM-7 characters in one, emoji switch to UCS-2's 70/67", async () => {
    const send = (text: string) => client.messages.send({ from: "+14155550100", to: "+14155550132", text });
    expect((await send("a".repeat(160))).data?.parts).toBe(1);
    expect((await send("a".repeat(161))).data?.parts).toBe(2);
    const emoji = await send(`${"a".repeat(69)}🙂`);
    expect([emoji.data?.encoding, emoji.data?.parts]).toEqual(["UCS-2", 2]);
  });

  it("refuses a wrong or missing key with 401 and a Telnyx error list", async () => {
    const stranger = new Telnyx({
      apiKey: "KEY-wrong",
      baseURL: telnyx.apiBase,
      maxRetries: 0,
      logLevel: "off",
    });
    const error = await apiError(
      stranger.messages.send({ from: "+14155550100", to: "+14155550132", text: "x" }),
    );
    expect(error.status).toBe(401);
    expect(errorsOf(error)[0]).toMatchObject({ code: "10009", title: "Authentication failed" });
    expect(telnyx.sent).toEqual([]);
  });

  it("answers 409 / 40300 for a recipient who texted STOP, until START", async () => {
    telnyx.optOut("+14155550132");
    const error = await apiError(
      client.messages.send({ from: "+14155550100", to: "+14155550132", text: "x" }),
    );
    expect(error.status).toBe(409);
    expect(errorsOf(error)[0]).toMatchObject({ code: "40300", title: "Blocked due to STOP message" });
    telnyx.optIn("+14155550132");
    await expect(
      client.messages.send({ from: "+14155550100", to: "+14155550132", text: "x" }),
    ).resolves.toBeDefined();
  });

  it("answers 400 / 40310 with a source pointer for an invalid destination, 10004 for a missing field", async () => {
    telnyx.invalid("+14155550199");
    for (const to of ["+14155550199", "4155550132"]) {
      const error = await apiError(client.messages.send({ from: "+14155550100", to, text: "x" }));
      expect(error.status).toBe(400);
      expect(errorsOf(error)[0]).toMatchObject({ code: "40310", source: { pointer: "/to" } });
    }
    const missing = await apiError(client.messages.send({ from: "+14155550100", to: "+14155550132" }));
    expect(errorsOf(missing)[0]).toMatchObject({ code: "10004", source: { pointer: "/text" } });
  });

  it("failNext injects 429 / 10011 with Retry-After, then 500s, for as many requests as asked", async () => {
    telnyx.failNext({ status: 429, retryAfterSeconds: 7 });
    const limited = await apiError(
      client.messages.send({ from: "+14155550100", to: "+14155550132", text: "x" }),
    );
    expect(limited.status).toBe(429);
    expect(limited.headers?.get("retry-after")).toBe("7");
    expect(errorsOf(limited)[0]).toMatchObject({ code: "10011", title: "Too many requests" });
    telnyx.failNext({ status: 500, times: 2 });
    for (let i = 0; i < 2; i++) {
      const failed = await apiError(
        client.messages.send({ from: "+14155550100", to: "+14155550132", text: "x" }),
      );
      expect([failed.status, errorsOf(failed)[0]?.code]).toEqual([500, "10007"]);
    }
    await expect(
      client.messages.send({ from: "+14155550100", to: "+14155550132", text: "x" }),
    ).resolves.toBeDefined();
  });

  it("retrieves a sent message with its current status; an unknown id is 404", async () => {
    const { data } = await client.messages.send({ from: "+14155550100", to: "+14155550132", text: "hello" });
    const id = data?.id ?? "";
    telnyx.statusEvent(id, { eventType: "message.finalized", status: "delivered" });
    const found = await client.messages.retrieve(id);
    expect(found.data).toMatchObject({ id, text: "hello", to: [{ status: "delivered" }] });
    const missing = await apiError(client.messages.retrieve("00000000-0000-4000-8000-000000000000"));
    expect(missing.status).toBe(404);
  });

  it("lists message detail records filtered by sender, recipient and time, newest first", async () => {
    const send = (to: string, text: string) => client.messages.send({ from: "+14155550100", to, text });
    const first = await send("+14155550132", "one");
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date();
    const second = await send("+14155550132", "two");
    await send("+14155550133", "to someone else");
    const page = await client.detailRecords.list({
      filter: {
        record_type: "messaging",
        direction: "outbound",
        cli: "+14155550100",
        cld: "+14155550132",
        created_at: { gte: since.toISOString() },
      },
      sort: ["-created_at"],
      "page[size]": 20,
    });
    expect(page.data.map((r) => (r as { uuid?: string }).uuid)).toEqual([second.data?.id]);
    expect(page.data[0]).toMatchObject({
      record_type: "message_detail_record",
      cli: "+14155550100",
      cld: "+14155550132",
    });
    expect(telnyx.requests.at(-1)?.query).toMatchObject({
      "filter[record_type]": "messaging",
      "filter[cld]": "+14155550132",
      sort: "-created_at",
    });
    const all = await client.detailRecords.list({
      filter: { record_type: "messaging", cld: "+14155550132" },
    });
    expect(all.data.map((r) => (r as { uuid?: string }).uuid)).toEqual([first.data?.id, second.data?.id]);
  });

  it("rejects a detail-record filter on a field MDRs do not have, and a search without record_type", async () => {
    const unknown = await apiError(
      client.detailRecords.list({ filter: { record_type: "messaging", colour: "red" } }),
    );
    expect(unknown.status).toBe(400);
    const noType = await apiError(client.detailRecords.list());
    expect(noType.status).toBe(400);
  });
});

describe("telnyx emulator webhooks", () => {
  it("delivers a signed message.sent then message.finalized for a sent message, as Telnyx posts them", async () => {
    const hook = await receiver();
    try {
      const { data } = await client.messages.send({ from: "+14155550100", to: "+14155550132", text: "hi" });
      const id = data?.id ?? "";
      const sent = await telnyx.deliver(hook.url, telnyx.statusEvent(id));
      const finalized = await telnyx.deliver(
        hook.url,
        telnyx.statusEvent(id, {
          eventType: "message.finalized",
          status: "delivery_failed",
          errorCode: "40008",
        }),
      );
      expect([sent.status, finalized.status]).toEqual([200, 200]);
      expect(hook.got).toHaveLength(2);
      for (const delivery of hook.got) {
        expect(signedByAccount(telnyx.publicKey, delivery.headers, delivery.body)).toBe(true);
        expect(Math.abs(Number(delivery.headers["telnyx-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
      }
      const events = hook.got.map((d) => JSON.parse(d.body.toString("utf8")));
      expect(events[0]).toMatchObject({
        data: {
          record_type: "event",
          event_type: "message.sent",
          payload: {
            id,
            from: { phone_number: "+14155550100" },
            to: [{ phone_number: "+14155550132", status: "sent" }],
          },
        },
        meta: { attempt: 1, delivered_to: hook.url },
      });
      expect(events[1].data).toMatchObject({
        event_type: "message.finalized",
        payload: { id, to: [{ status: "delivery_failed" }], errors: [{ code: "40008" }] },
      });
      expect(events[0].data.id).not.toBe(events[1].data.id);
    } finally {
      hook.server.close();
    }
  });

  it("builds a message.received for an inbound text and signs any body it is given", async () => {
    const event = telnyxInboundEvent({ from: "+14155550132", to: "+14155550100", text: "Open Sunday?" });
    expect(event.data).toMatchObject({
      event_type: "message.received",
      payload: {
        direction: "inbound",
        from: { phone_number: "+14155550132" },
        to: [{ phone_number: "+14155550100" }],
        text: "Open Sunday?",
        media: [],
      },
    });
    const body = Buffer.from(JSON.stringify(event));
    const headers = telnyx.signTelnyxWebhook(body, 1_700_000_000);
    expect(headers["telnyx-timestamp"]).toBe("1700000000");
    expect(signedByAccount(telnyx.publicKey, headers, body)).toBe(true);
    expect(signedByAccount(telnyx.publicKey, headers, Buffer.from(`${body} `))).toBe(false);
    expect(Buffer.from(telnyx.publicKey, "base64")).toHaveLength(32);
  });

  it("keeps the same public key across restarts when given the account's signing key", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const a = await startTelnyxEmulator({ privateKeyPem: pem });
    const b = await startTelnyxEmulator({ privateKeyPem: pem });
    try {
      expect(a.publicKey).toBe(b.publicKey);
      const body = Buffer.from('{"data":{}}');
      expect(signedByAccount(b.publicKey, a.signTelnyxWebhook(body), body)).toBe(true);
      expect(a.publicKey).not.toBe(telnyx.publicKey);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
