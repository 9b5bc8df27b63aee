import { createServer, type Server } from "node:net";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { twilioSmsClient } from "../../service/src/adapters/twilio";
import { type SmsProviderClient, SmsProviderError } from "../../service/src/ports/sms";
import { startTwilioEmulator, type TwilioEmulator } from "../emulators/twilio";

const FROM = "+14155550100";
const TO = "+14155550199";

let emulator: TwilioEmulator;
let client: SmsProviderClient;
/** Every error a test saw: none may carry the auth token (checked after all tests). */
const seen: unknown[] = [];

beforeAll(async () => {
  emulator = await startTwilioEmulator();
  client = twilioSmsClient({
    accountSid: emulator.accountSid,
    authToken: emulator.authToken,
    apiBase: `${emulator.url}/`,
  });
});
afterEach(() => emulator.reset());
afterAll(async () => {
  await emulator.close();
});

async function failure(promise: Promise<unknown>): Promise<SmsProviderError> {
  try {
    await promise;
  } catch (error) {
    seen.push(error);
    if (error instanceof SmsProviderError) return error;
    throw error;
  }
  throw new Error("expected an SmsProviderError");
}

const send = (c: SmsProviderClient = client, to = TO) =>
  c.send({ from: FROM, to, text: "Your order shipped." });

describe("Twilio SMS client (official SDK) against the emulator", () => {
  it("sends through POST Messages.json with Basic auth and returns Twilio's id, status and segments", async () => {
    const sent = await client.send({
      from: FROM,
      to: TO,
      text: "Your order shipped 🚚",
      statusCallbackUrl: "https://switchboard.example.com/webhooks/sms/twilio/conn_1/status",
    });
    expect(sent).toEqual({
      providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      status: "queued",
      segments: 1,
    });
    expect(emulator.sent).toHaveLength(1);
    expect(emulator.sent[0]).toMatchObject({
      sid: sent.providerMessageId,
      from: FROM,
      to: TO,
      body: "Your order shipped 🚚",
      statusCallback: "https://switchboard.example.com/webhooks/sms/twilio/conn_1/status",
    });
    const request = emulator.requests.at(-1);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/2010-04-01/Accounts/${emulator.accountSid}/Messages.json`);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${emulator.accountSid}:${emulator.authToken}`).toString("base64")}`,
    );
  });

  it("sentSince finds what was sent to the customer since then, newest first, and nothing older or to others", async () => {
    await send();
    const old = emulator.sent[0];
    if (!old) throw new Error("no message");
    old.dateCreated = new Date(Date.now() - 3_600_000);
    old.dateSent = old.dateCreated;
    const since = new Date();
    const first = await client.send({ from: FROM, to: TO, text: "first reply" });
    const second = await client.send({ from: FROM, to: TO, text: "second reply" });
    await send(client, "+14155550142");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const found = await client.sentSince?.({ from: FROM, to: TO, since });
    expect(found?.map((m) => m.providerMessageId).sort()).toEqual(
      [first.providerMessageId, second.providerMessageId].sort(),
    );
    expect(found?.map((m) => m.text).sort()).toEqual(["first reply", "second reply"]);
    for (const m of found ?? []) {
      expect(m).toMatchObject({ from: FROM, to: TO, status: "sent" });
      expect(m.sentAt.getTime()).toBeGreaterThanOrEqual(Math.floor(since.getTime() / 1000) * 1000 - 1000);
    }
    const list = emulator.requests.at(-1);
    expect(list?.method).toBe("GET");
    expect(list?.query).toMatchObject({ From: FROM, To: TO, PageSize: "20" });
  });

  it("sentSince still finds a send Twilio holds queued (no date_sent yet): the one a crash leaves unknown", async () => {
    const since = new Date();
    const sent = await send();
    const record = emulator.messages.get(sent.providerMessageId);
    if (!record) throw new Error("no message");
    record.status = "queued";
    record.dateSent = null;
    const found = await client.sentSince?.({ from: FROM, to: TO, since });
    expect(found).toEqual([
      expect.objectContaining({
        providerMessageId: sent.providerMessageId,
        status: "queued",
        sentAt: expect.any(Date),
      }),
    ]);
  });

  it("a recipient who opted out (21610) is opted_out and not retryable", async () => {
    emulator.optOut(TO);
    const error = await failure(send());
    expect(error).toMatchObject({
      provider: "twilio",
      kind: "opted_out",
      status: 400,
      providerCode: "21610",
    });
    expect(error.retryable).toBe(false);
  });

  it("an invalid number (21211) is invalid_number and the message does not quote it", async () => {
    emulator.invalid(TO);
    const error = await failure(send());
    expect(error).toMatchObject({ kind: "invalid_number", status: 400, providerCode: "21211" });
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(TO.slice(1, 7));
  });

  it("a 429 is rate_limited, retrying at Retry-After when Twilio sends it", async () => {
    emulator.failNext({ status: 429, retryAfter: 7 });
    const before = Date.now();
    const limited = await failure(send());
    expect(limited).toMatchObject({ kind: "rate_limited", status: 429, providerCode: "20429" });
    expect(limited.retryable).toBe(true);
    expect(limited.retryAt?.getTime()).toBeGreaterThanOrEqual(before + 7000);
    expect(limited.retryAt?.getTime()).toBeLessThanOrEqual(Date.now() + 7000);
    emulator.failNext({ status: 429 });
    const withoutHeader = await failure(send());
    expect(withoutHeader).toMatchObject({ kind: "rate_limited", retryAt: undefined });
    expect(emulator.sent).toHaveLength(0);
  });

  it("a 5xx is unavailable (retryable) with its status, for sends and for sentSince", async () => {
    emulator.failNext({ status: 500 });
    expect(await failure(send())).toMatchObject({ kind: "unavailable", status: 500, providerCode: "20500" });
    emulator.failNext({ status: 503 });
    const listing = await failure(
      client.sentSince?.({ from: FROM, to: TO, since: new Date() }) ?? Promise.resolve(),
    );
    expect(listing).toMatchObject({ kind: "unavailable", status: 503 });
  });

  it("a wrong auth token is a rejected send (401, code 20003)", async () => {
    const wrong = twilioSmsClient({
      accountSid: emulator.accountSid,
      authToken: "0".repeat(32),
      apiBase: emulator.url,
    });
    expect(await failure(send(wrong))).toMatchObject({
      kind: "rejected",
      status: 401,
      providerCode: "20003",
    });
  });

  it("an unreachable API is unavailable with status 0", async () => {
    const port = await closedPort();
    const unreachable = twilioSmsClient({
      accountSid: emulator.accountSid,
      authToken: emulator.authToken,
      apiBase: `http://127.0.0.1:${port}`,
    });
    const error = await failure(send(unreachable));
    expect(error).toMatchObject({ kind: "unavailable", status: 0, providerCode: undefined });
    expect(error.retryable).toBe(true);
  });

  it("an API that never answers times out as unavailable with status 0", async () => {
    const silent: Server = createServer(() => {
      // Accepts the connection and never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const address = silent.address();
      if (!address || typeof address === "string") throw new Error("no address");
      const hanging = twilioSmsClient({
        accountSid: emulator.accountSid,
        authToken: emulator.authToken,
        apiBase: `http://127.0.0.1:${address.port}`,
        timeoutMs: 300,
      });
      const started = Date.now();
      expect(await failure(send(hanging))).toMatchObject({ kind: "unavailable", status: 0 });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it("no error seen in these tests carries the auth token, in any form", () => {
    expect(seen.length).toBeGreaterThanOrEqual(8);
    const basic = Buffer.from(`${emulator.accountSid}:${emulator.authToken}`).toString("base64");
    for (const error of seen) {
      const texts = [
        String(error),
        JSON.stringify(error),
        (error as Error).stack ?? "",
        JSON.stringify(Object.entries(error as object)),
        inspect(error, { depth: 6, showHidden: true }),
      ];
      for (const text of texts) {
        expect(text).not.toContain(emulator.authToken);
        expect(text).not.toContain(basic);
        expect(text).not.toContain("0".repeat(32));
      }
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}
