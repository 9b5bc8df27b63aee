import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient";
import type Response from "twilio/lib/http/response";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rfc2822, segments, startTwilioEmulator, type TwilioEmulator, twilioForm } from "./twilio";

let emulator: TwilioEmulator;
let messagesUrl: string;
const FROM = "+14155550100";
const TO = "+14155550199";

beforeAll(async () => {
  emulator = await startTwilioEmulator();
  messagesUrl = `${emulator.url}/2010-04-01/Accounts/${emulator.accountSid}/Messages.json`;
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

async function api(
  path: string,
  init: { method?: string; form?: Record<string, string>; auth?: string } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(path.startsWith("http") ? path : `${emulator.url}${path}`, {
    method: init.method ?? (init.form ? "POST" : "GET"),
    headers: {
      authorization: init.auth ?? basic(emulator.accountSid, emulator.authToken),
      ...(init.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
    },
    ...(init.form ? { body: twilioForm(init.form) } : {}),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

const send = (form: Record<string, string>) => api(messagesUrl, { form });

/** The official SDK, its requests to api.twilio.com sent to the emulator. */
function sdk() {
  class ToEmulator extends twilio.RequestClient {
    override request<T>(opts: RequestClient.RequestOptions<T>): Promise<Response<T>> {
      return super.request<T>({ ...opts, uri: opts.uri.replace("https://api.twilio.com", emulator.url) });
    }
  }
  return twilio(emulator.accountSid, emulator.authToken, { httpClient: new ToEmulator() });
}

describe("Twilio emulator: authentication and errors", () => {
  it("answers 401 with Twilio's error JSON without Basic credentials or with a wrong token", async () => {
    for (const auth of ["", basic(emulator.accountSid, "wrong-token"), `Bearer ${emulator.authToken}`]) {
      const { status, json } = await api(messagesUrl, { auth });
      expect(status).toBe(401);
      expect(json).toEqual({
        code: 20003,
        message: "Authenticate",
        more_info: "https://www.twilio.com/docs/errors/20003",
        status: 401,
      });
    }
    expect((await api(messagesUrl)).status).toBe(200);
  });

  it("answers 404 code 20404 for another account's path and an unknown message", async () => {
    const other = await api(`/2010-04-01/Accounts/AC${"0".repeat(32)}/Messages.json`);
    expect(other.status).toBe(404);
    expect(other.json.code).toBe(20404);
    const unknown = await api(
      `/2010-04-01/Accounts/${emulator.accountSid}/Messages/SM${"a".repeat(32)}.json`,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 20404, status: 404 });
  });

  it("refuses sends the way Twilio does: missing To/From/Body, an invalid number, an opted-out recipient", async () => {
    expect((await send({ From: FROM, Body: "x" })).json).toMatchObject({ code: 21604, status: 400 });
    expect((await send({ To: TO, Body: "x" })).json).toMatchObject({ code: 21603, status: 400 });
    expect((await send({ To: TO, From: FROM })).json).toMatchObject({ code: 21602, status: 400 });
    expect((await send({ To: "555-1234", From: FROM, Body: "x" })).json).toMatchObject({
      code: 21211,
      status: 400,
    });
    emulator.invalid("+14155550123");
    expect((await send({ To: "+14155550123", From: FROM, Body: "x" })).json.code).toBe(21211);
    emulator.optOut(TO);
    const opted = await send({ To: TO, From: FROM, Body: "x" });
    expect(opted.status).toBe(400);
    expect(opted.json).toEqual({
      code: 21610,
      message: "Attempt to send to unsubscribed recipient",
      more_info: "https://www.twilio.com/docs/errors/21610",
      status: 400,
    });
    expect(emulator.sent).toHaveLength(0);
  });

  it("fails the next calls as asked: 429 code 20429 with Retry-After, then 500 twice, then succeeds", async () => {
    emulator.failNext({ status: 429, retryAfter: 3 });
    emulator.failNext({ status: 500, times: 2 });
    const limited = await send({ To: TO, From: FROM, Body: "x" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(limited.json).toMatchObject({ code: 20429, status: 429 });
    expect((await send({ To: TO, From: FROM, Body: "x" })).json).toMatchObject({ code: 20500, status: 500 });
    expect((await api(messagesUrl)).status).toBe(500);
    expect((await send({ To: TO, From: FROM, Body: "x" })).status).toBe(201);
    expect(emulator.sent).toHaveLength(1);
  });
});

describe("Twilio emulator: messages", () => {
  it("creates a message with Twilio's snake_case resource, queued, then sent moments later", async () => {
    const before = Date.now();
    const { status, json } = await send({
      To: TO,
      From: FROM,
      Body: "Your order shipped.",
      StatusCallback: "https://x.example/cb",
    });
    expect(status).toBe(201);
    expect(json).toMatchObject({
      account_sid: emulator.accountSid,
      api_version: "2010-04-01",
      body: "Your order shipped.",
      direction: "outbound-api",
      error_code: null,
      error_message: null,
      from: FROM,
      to: TO,
      num_segments: "1",
      num_media: "0",
      status: "queued",
      date_sent: null,
    });
    expect(json.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(json.date_created).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(Date.parse(String(json.date_created))).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(json.uri).toBe(`/2010-04-01/Accounts/${emulator.accountSid}/Messages/${json.sid}.json`);
    expect(emulator.sent[0]).toMatchObject({
      to: TO,
      from: FROM,
      body: "Your order shipped.",
      statusCallback: "https://x.example/cb",
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const fetched = await api(String(json.uri));
    expect(fetched.json).toMatchObject({ sid: json.sid, status: "sent" });
    expect(fetched.json.date_sent).toEqual(expect.stringMatching(/\+0000$/));
  });

  it("counts segments as carriers do: GSM-7 160/153, UCS-2 70/67", () => {
    expect(segments("a".repeat(160))).toBe(1);
    expect(segments("a".repeat(161))).toBe(2);
    expect(segments("{".repeat(80))).toBe(1);
    expect(segments("{".repeat(81))).toBe(2);
    expect(segments(`${"a".repeat(69)}✓`)).toBe(1);
    expect(segments(`${"a".repeat(70)}✓`)).toBe(2);
    expect(rfc2822(new Date("2026-11-30T18:20:13Z"))).toBe("Mon, 30 Nov 2026 18:20:13 +0000");
  });

  it("lists newest first in Twilio's paging envelope and follows next_page_uri to the end", async () => {
    for (let i = 0; i < 5; i += 1) {
      await send({ To: TO, From: FROM, Body: `message ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = await api(`${messagesUrl}?To=${encodeURIComponent(TO)}&PageSize=2`);
    expect(first.json).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect((first.json.messages as { body: string }[]).map((m) => m.body)).toEqual([
      "message 4",
      "message 3",
    ]);
    expect(first.json.first_page_uri).toContain("PageSize=2");
    const nextUri = String(first.json.next_page_uri);
    expect(nextUri).toMatch(
      /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Messages\.json\?.*Page=1.*PageToken=PA/,
    );
    const second = await api(nextUri);
    expect((second.json.messages as { body: string }[]).map((m) => m.body)).toEqual([
      "message 2",
      "message 1",
    ]);
    const third = await api(String(second.json.next_page_uri));
    expect((third.json.messages as { body: string }[]).map((m) => m.body)).toEqual(["message 0"]);
    expect(third.json.next_page_uri).toBeNull();
    // The official client pages through the same envelope.
    const all = await sdk().messages.list({ to: TO, pageSize: 2 });
    expect(all.map((m) => m.body)).toEqual(["message 4", "message 3", "message 2", "message 1", "message 0"]);
  });

  it("filters by To, From and DateSent> (a message not yet sent has no date_sent and never matches)", async () => {
    await send({ To: TO, From: FROM, Body: "old" });
    await send({ To: "+14155550142", From: FROM, Body: "other recipient" });
    await send({ To: TO, From: "+14155550101", Body: "other sender" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const old = emulator.sent[0];
    if (!old) throw new Error("no message");
    old.dateSent = new Date(Date.now() - 3_600_000);
    const since = new Date(Date.now() - 60_000);
    await send({ To: TO, From: FROM, Body: "new" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const client = sdk();
    const recent = await client.messages.list({ to: TO, from: FROM, dateSentAfter: since });
    expect(recent.map((m) => m.body)).toEqual(["new"]);
    const request = emulator.requests.at(-1);
    expect(request?.query["DateSent>"]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect((await client.messages.list({ to: TO, from: FROM })).map((m) => m.body)).toEqual(["new", "old"]);
    const queued = emulator.sent.at(-1);
    if (!queued) throw new Error("no message");
    queued.status = "queued";
    queued.dateSent = null;
    expect(await client.messages.list({ to: TO, from: FROM, dateSentAfter: since })).toEqual([]);
  });

  it("POSTs a status callback signed with X-Twilio-Signature to the message's StatusCallback", async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const address = receiver.address();
      if (!address || typeof address === "string") throw new Error("no address");
      const callback = `http://127.0.0.1:${address.port}/status?conn=1`;
      const { json } = await send({ To: TO, From: FROM, Body: "hello", StatusCallback: callback });
      const result = await emulator.statusCallback(String(json.sid), "failed", 30003);
      expect(result.status).toBe(200);
      const [delivered] = received;
      if (!delivered) throw new Error("no callback");
      const params = Object.fromEntries(new URLSearchParams(delivered.body));
      expect(params).toMatchObject({
        MessageSid: json.sid,
        SmsSid: json.sid,
        MessageStatus: "failed",
        SmsStatus: "failed",
        ErrorCode: "30003",
        From: FROM,
        To: TO,
        AccountSid: emulator.accountSid,
        ApiVersion: "2010-04-01",
      });
      expect(delivered.headers["content-type"]).toContain("application/x-www-form-urlencoded");
      const signature = String(delivered.headers["x-twilio-signature"]);
      expect(twilio.validateRequest(emulator.authToken, signature, callback, params)).toBe(true);
      expect(twilio.validateRequest("another-token", signature, callback, params)).toBe(false);
      expect(emulator.messages.get(String(json.sid))?.status).toBe("failed");
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
