import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { telnyxSmsClient } from "../../service/src/adapters/telnyx";
import { type SmsProviderClient, SmsProviderError } from "../../service/src/ports/sms";
import { startTelnyxEmulator, type TelnyxEmulator } from "../emulators/telnyx";

const TENANT = "+14155550100";
const CUSTOMER = "+14155550132";

let telnyx: TelnyxEmulator;
let client: SmsProviderClient;

beforeAll(async () => {
  telnyx = await startTelnyxEmulator();
  client = telnyxSmsClient({
    apiKey: telnyx.apiKey,
    messagingProfileId: telnyx.messagingProfileId,
    apiBase: telnyx.apiBase,
  });
});
afterEach(() => telnyx.reset());
afterAll(() => telnyx.close());

async function refusal(promise: Promise<unknown>): Promise<SmsProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SmsProviderError) return error;
    throw error;
  }
  throw new Error("expected an SmsProviderError");
}

/** Everything an error could leak through: message, stack, own properties, JSON. */
const everythingIn = (error: SmsProviderError) =>
  [error.message, error.stack ?? "", JSON.stringify(error), String(error.cause ?? "")].join("\n");

const send = (to = CUSTOMER, text = "We open at 10.") => client.send({ from: TENANT, to, text });

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("Telnyx SMS client (official SDK) against the emulator", () => {
  it("sends through POST /v2/messages and returns the message id, status and billed parts", async () => {
    const sent = await client.send({
      from: TENANT,
      to: CUSTOMER,
      text: "We open at 10 tomorrow 🙂",
      statusCallbackUrl: "https://switchboard.example/webhooks/telnyx/sms",
    });
    const message = telnyx.sent[0];
    expect(sent).toEqual({ providerMessageId: message?.id, status: "queued", segments: 1 });
    const request = telnyx.requests.at(-1);
    expect(request?.headers.authorization).toBe(`Bearer ${telnyx.apiKey}`);
    expect(request?.body).toEqual({
      to: CUSTOMER,
      from: TENANT,
      text: "We open at 10 tomorrow 🙂",
      messaging_profile_id: telnyx.messagingProfileId,
      webhook_url: "https://switchboard.example/webhooks/telnyx/sms",
    });
  });

  it("leaves out the profile and webhook when the connection and request name none", async () => {
    const bare = telnyxSmsClient({ apiKey: telnyx.apiKey, apiBase: telnyx.apiBase });
    await bare.send({ from: TENANT, to: CUSTOMER, text: "hi" });
    expect(telnyx.requests.at(-1)?.body).toEqual({ to: CUSTOMER, from: TENANT, text: "hi" });
  });

  it("sentSince finds what was sent to that customer from that number since then, with text and status", async () => {
    await send(CUSTOMER, "before the crash window");
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date();
    const first = await send(CUSTOMER, "first answer");
    const second = await send(CUSTOMER, "second answer");
    await send("+14155550133", "another customer");
    await client.send({ from: "+14155550101", to: CUSTOMER, text: "another tenant number" });
    telnyx.statusEvent(second.providerMessageId, { eventType: "message.finalized", status: "delivered" });

    const found = await client.sentSince?.({ from: TENANT, to: CUSTOMER, since });
    expect(found?.map((m) => [m.providerMessageId, m.text, m.status])).toEqual([
      [second.providerMessageId, "second answer", "delivered"],
      [first.providerMessageId, "first answer", "queued"],
    ]);
    expect(found?.every((m) => m.from === TENANT && m.to === CUSTOMER && m.sentAt >= since)).toBe(true);
    const search = telnyx.requests.find((r) => r.path === "/v2/detail_records");
    expect(search?.query).toMatchObject({
      "filter[record_type]": "messaging",
      "filter[direction]": "outbound",
      "filter[cli]": TENANT,
      "filter[cld]": CUSTOMER,
      "filter[created_at][gte]": since.toISOString(),
      sort: "-created_at",
    });
  });

  it("sentSince finds nothing when nothing was sent (a crash before the send reached Telnyx)", async () => {
    await expect(client.sentSince?.({ from: TENANT, to: CUSTOMER, since: new Date() })).resolves.toEqual([]);
  });

  it("a recipient who texted STOP (409 / 40300) is opted_out, not retried", async () => {
    telnyx.optOut(CUSTOMER);
    const error = await refusal(send());
    expect([error.kind, error.status, error.providerCode, error.retryable]).toEqual([
      "opted_out",
      409,
      "40300",
      false,
    ]);
    expect(error.message).not.toContain(CUSTOMER);
  });

  it("an invalid destination (400 / 40310) is invalid_number", async () => {
    telnyx.invalid("+14155550199");
    const error = await refusal(send("+14155550199"));
    expect([error.kind, error.status, error.providerCode, error.retryable]).toEqual([
      "invalid_number",
      400,
      "40310",
      false,
    ]);
  });

  it("429 / 10011 is rate_limited, retried at Retry-After; exactly one request (no SDK retries)", async () => {
    telnyx.failNext({ status: 429, retryAfterSeconds: 30 });
    const before = Date.now();
    const error = await refusal(send());
    expect([error.kind, error.status, error.providerCode, error.retryable]).toEqual([
      "rate_limited",
      429,
      "10011",
      true,
    ]);
    const wait = (error.retryAt?.getTime() ?? 0) - before;
    expect(wait).toBeGreaterThanOrEqual(29_000);
    expect(wait).toBeLessThanOrEqual(31_000);
    expect(telnyx.requests.filter((r) => r.path === "/v2/messages")).toHaveLength(1);
    expect(telnyx.sent).toEqual([]);
  });

  it("a 5xx is unavailable and retryable; other 4xx are rejected", async () => {
    telnyx.failNext({ status: 500 });
    const down = await refusal(send());
    expect([down.kind, down.status, down.providerCode, down.retryable]).toEqual([
      "unavailable",
      500,
      "10007",
      true,
    ]);
    expect(telnyx.requests).toHaveLength(1);
    telnyx.failNext({ status: 503 });
    expect((await refusal(send())).kind).toBe("unavailable");

    const wrongKey = telnyxSmsClient({ apiKey: "KEY-revoked", apiBase: telnyx.apiBase });
    const refused = await refusal(wrongKey.send({ from: TENANT, to: CUSTOMER, text: "x" }));
    expect([refused.kind, refused.status, refused.providerCode, refused.retryable]).toEqual([
      "rejected",
      401,
      "10009",
      false,
    ]);
  });

  it("an unreachable API is unavailable with status 0", async () => {
    const port = await closedPort();
    const offline = telnyxSmsClient({ apiKey: telnyx.apiKey, apiBase: `http://127.0.0.1:${port}/v2` });
    const error = await refusal(offline.send({ from: TENANT, to: CUSTOMER, text: "x" }));
    expect([error.kind, error.status, error.retryable]).toEqual(["unavailable", 0, true]);
    const lookup = await refusal(
      offline.sentSince?.({ from: TENANT, to: CUSTOMER, since: new Date() }) ?? Promise.resolve(),
    );
    expect([lookup.kind, lookup.status]).toEqual(["unavailable", 0]);
  });

  it("a hung API times out as unavailable with status 0", async () => {
    const { createServer: createHttpServer } = await import("node:http");
    const hung = createHttpServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = hung.address() as { port: number };
      const slow = telnyxSmsClient({
        apiKey: telnyx.apiKey,
        apiBase: `http://127.0.0.1:${port}/v2`,
        timeoutMs: 200,
      });
      const error = await refusal(slow.send({ from: TENANT, to: CUSTOMER, text: "x" }));
      expect([error.kind, error.status]).toEqual(["unavailable", 0]);
    } finally {
      hung.closeAllConnections();
      hung.close();
    }
  });

  it("never puts the API key in an error, whatever the failure", async () => {
    const errors: SmsProviderError[] = [];
    telnyx.optOut(CUSTOMER);
    errors.push(await refusal(send()));
    telnyx.failNext({ status: 429 });
    errors.push(await refusal(send("+14155550133")));
    telnyx.failNext({ status: 500 });
    errors.push(await refusal(send("+14155550133")));
    const port = await closedPort();
    const offline = telnyxSmsClient({ apiKey: telnyx.apiKey, apiBase: `http://127.0.0.1:${port}/v2` });
    errors.push(await refusal(offline.send({ from: TENANT, to: CUSTOMER, text: "x" })));
    const wrongKey = "KEY-revoked-0123456789";
    errors.push(
      await refusal(
        telnyxSmsClient({ apiKey: wrongKey, apiBase: telnyx.apiBase }).send({
          from: TENANT,
          to: CUSTOMER,
          text: "x",
        }),
      ),
    );
    for (const error of errors) {
      expect(everythingIn(error)).not.toContain(telnyx.apiKey);
      expect(everythingIn(error)).not.toContain(wrongKey);
    }
  });
});
