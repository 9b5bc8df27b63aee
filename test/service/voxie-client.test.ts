import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { voxieSmsClient } from "../../service/src/adapters/voxie";
import { SmsProviderError } from "../../service/src/ports/sms";
import { type EmulatorServer, type RecordedRequest, startEmulatorServer } from "../emulators/http-server";

// A stand-in for app.voxie.com (token issuance, as documented at docs.voxie.com/reference/authentication) and
// api.voxie.com. The send endpoint it serves is the adapter's unconfirmed best guess, not a documented one:
// these tests pin the adapter's behaviour (token reuse, error kinds), not Voxie's wire format for sending.

const API_KEY = "voxie-api-token-SECRET";
const TEAM = "42";

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

let server: EmulatorServer;
let tokenReplies: Reply[] = [];
let sendReplies: Reply[] = [];
let issued = 0;

function answer(res: ServerResponse, reply: Reply) {
  res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
  res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
}

beforeAll(async () => {
  server = await startEmulatorServer((req, res, recorded) => {
    if (recorded.method === "POST" && recorded.path === `/api/v3/teams/${TEAM}/issue-personal-access-token`) {
      if (req.headers.authorization !== `Bearer ${API_KEY}`) return answer(res, { status: 401, body: {} });
      issued += 1;
      return answer(res, tokenReplies.shift() ?? { status: 200, body: { access_token: `access-${issued}` } });
    }
    if (recorded.method === "POST" && recorded.path === `/team/${TEAM}/messages`) {
      return answer(res, sendReplies.shift() ?? { status: 201, body: { id: 1338821, status: "queued" } });
    }
    answer(res, { status: 404, body: { error: "not_found" } });
  });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  tokenReplies = [];
  sendReplies = [];
  issued = 0;
});

const sends = () => server.requests.filter((r: RecordedRequest) => r.path.endsWith("/messages"));
const message = { from: "+15552222222", to: "+15551111111", text: "Hi! Your order shipped." };

function client(now: () => number = Date.now) {
  return voxieSmsClient({ teamId: TEAM, apiKey: API_KEY, apiBase: server.url, appBase: server.url, now });
}

async function failure(promise: Promise<unknown>): Promise<SmsProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmsProviderError);
  return error as SmsProviderError;
}

describe("Voxie SMS client", () => {
  it("issues an access token with the team's API key, then sends with it as a Bearer token", async () => {
    const sent = await client().send(message);
    expect(sent).toEqual({ providerMessageId: "1338821", status: "queued" });
    const [issue, send] = server.requests;
    expect(issue?.body).toEqual({ name: "Switchboard", scopes: expect.any(Array) });
    expect(send?.headers.authorization).toBe("Bearer access-1");
    expect(send?.body).toEqual({ channel: "sms", from: message.from, to: message.to, content: message.text });
  });

  it("reuses one token across sends, concurrent ones included, and renews it before its 4 hours end", async () => {
    let now = Date.parse("2026-11-30T18:00:00Z");
    const voxie = client(() => now);
    await Promise.all([voxie.send(message), voxie.send(message), voxie.send(message)]);
    expect(issued).toBe(1);
    now += 3 * 3_600_000;
    await voxie.send(message);
    expect(issued).toBe(1);
    now += 3_600_000 - 60_000; // within the renewal margin of the 4-hour lifetime
    await voxie.send(message);
    expect(issued).toBe(2);
    expect(sends().at(-1)?.headers.authorization).toBe("Bearer access-2");
  });

  it("honours expires_in when the token answer gives one", async () => {
    let now = Date.parse("2026-11-30T18:00:00Z");
    tokenReplies = [{ status: 200, body: { access_token: "short", expires_in: 600 } }];
    const voxie = client(() => now);
    await voxie.send(message);
    now += 6 * 60_000;
    await voxie.send(message);
    expect(issued).toBe(2);
  });

  it("after a 401 gets one fresh token and tries once more", async () => {
    sendReplies = [{ status: 401, body: { message: "Unauthenticated." } }];
    const sent = await client().send(message);
    expect(sent.providerMessageId).toBe("1338821");
    expect(issued).toBe(2);
    expect(sends().map((r) => r.headers.authorization)).toEqual(["Bearer access-1", "Bearer access-2"]);
  });

  it("maps a 429 to rate_limited with Retry-After as retryAt", async () => {
    const now = Date.parse("2026-11-30T18:00:00Z");
    sendReplies = [{ status: 429, headers: { "retry-after": "30" }, body: { code: "too_many_requests" } }];
    const error = await failure(client(() => now).send(message));
    expect(error).toMatchObject({ kind: "rate_limited", status: 429, providerCode: "too_many_requests" });
    expect(error.retryAt?.getTime()).toBe(now + 30_000);
    expect(error.retryable).toBe(true);
  });

  it("maps a 5xx to unavailable and another 4xx to rejected", async () => {
    sendReplies = [{ status: 503 }, { status: 422, body: { error: "invalid_phone_number" } }];
    const voxie = client();
    expect(await failure(voxie.send(message))).toMatchObject({ kind: "unavailable", status: 503 });
    const rejected = await failure(voxie.send(message));
    expect(rejected).toMatchObject({ kind: "rejected", status: 422, providerCode: "invalid_phone_number" });
    expect(rejected.retryable).toBe(false);
  });

  it("maps no answer to unavailable with status 0", async () => {
    const gone = voxieSmsClient({
      teamId: TEAM,
      apiKey: API_KEY,
      apiBase: "http://127.0.0.1:1",
      appBase: "http://127.0.0.1:1",
    });
    expect(await failure(gone.send(message))).toMatchObject({ kind: "unavailable", status: 0 });
  });

  it("refuses to send when the token cannot be issued: a wrong key is rejected, a rate limit retried", async () => {
    const wrongKey = voxieSmsClient({
      teamId: TEAM,
      apiKey: "wrong",
      apiBase: server.url,
      appBase: server.url,
    });
    expect(await failure(wrongKey.send(message))).toMatchObject({ kind: "rejected", status: 401 });
    tokenReplies = [{ status: 429, headers: { "retry-after": "60" } }];
    expect(await failure(client().send(message))).toMatchObject({ kind: "rate_limited", status: 429 });
    expect(sends()).toHaveLength(0);
  });

  it("puts neither the API key nor the access token in its errors", async () => {
    sendReplies = [{ status: 400, body: { error: "bad_request" } }];
    const error = await failure(client().send(message));
    const text = `${error.message} ${JSON.stringify(error)} ${String(error.stack)}`;
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain("access-1");
  });

  it("offers no sentSince: Voxie documents no way to list sent messages", () => {
    expect(client().sentSince).toBeUndefined();
  });
});
