import { createHmac } from "node:crypto";
import fc from "fast-check";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type IntercomEmulator, startIntercomEmulator } from "../emulators/intercom";
import { bearer, raw, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * Property-based bad input: at least 200 generated malformed requests per public endpoint. Every one must
 * get a 4xx with the uniform JSON error body, the process must stay up, and what is stored must not change
 * (compared table by table with a checksum; rate-limit counters are left out on purpose: a refused attempt
 * still counts against an abuser).
 */
const RUNS = 200;
const SECRET = "bad-input-intercom-client-secret";
const ADMIN_KEY = "bad-input-admin-api-key-0123456789";
const INTERNAL = "bad-input-internal-secret";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const STORED = [
  "sessions",
  "messages",
  "usage_ledger",
  "usage_counters",
  "outbox",
  "webhook_deliveries",
  "handoffs",
  "intercom_conversations",
  "knowledge_chunks",
  "app_state",
];

let svc: TestService;
let db: Database;
let drop: () => Promise<void>;
let intercom: IntercomEmulator;
let mine: { sessionId: string; token: string };
let theirs: { sessionId: string };

async function stored(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of STORED) {
    const [row] = await raw(db).unsafe<{ sum: string | null }[]>(
      `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as sum from ${table} t`,
    );
    out[table] = row?.sum ?? "";
  }
  return out;
}

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startTestService(db, {
    BODY_LIMIT_BYTES: "2048",
    MESSAGE_MAX_CHARS: "500",
    RATE_LIMIT_USER_PER_MINUTE: "1000000",
    // Like the per-user limit: hundreds of fuzzed requests from one address are not what is tested here.
    RATE_LIMIT_CLIENT_PER_MINUTE: "1000000",
    RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "1000000",
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_BASE: intercom.url,
    INTERCOM_WEBHOOK_SECRET: SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    INTERNAL_SHARED_SECRET: INTERNAL,
    POLLING_INTERVAL: "0",
  });
  const a = (await (await svc.post("/api/v1/chat", { message: "How do I reset my password?" })).json()) as {
    sessionId: string;
    sessionToken: string;
  };
  const b = (await (await svc.post("/api/v1/chat", { message: "How do I invite my team?" })).json()) as {
    sessionId: string;
  };
  mine = { sessionId: a.sessionId, token: a.sessionToken };
  await forgeTokens();
  theirs = b;
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await intercom?.close();
});

interface Attempt {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** Sends every generated request; each must be a 4xx with the uniform error body. */
async function refusedAll(arb: fc.Arbitrary<Attempt>, statuses: number[]) {
  const before = await stored();
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(arb, async (a) => {
      const res = await fetch(`${svc.url}${a.path}`, {
        method: a.method ?? "POST",
        headers: a.headers ?? {},
        ...(a.body !== undefined ? { body: a.body } : {}),
      });
      const text = await res.text();
      seen.add(res.status);
      expect(statuses, `${res.status} for ${a.method ?? "POST"} ${a.path}: ${text.slice(0, 200)}`).toContain(
        res.status,
      );
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } };
      expect(body.error?.code).toEqual(expect.any(String));
      expect(body.error?.message).toEqual(expect.any(String));
      expect(body.error?.requestId).toBe(res.headers.get("x-request-id"));
      expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
    }),
    { numRuns: RUNS },
  );
  expect(await stored()).toEqual(before);
  expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  return seen;
}

const json = { "content-type": "application/json" };
const letters = fc.constantFrom("a", "b", "z", "é", "字", "😀", " ", "?");
const validMessage = fc.string({ unit: letters, minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== "");
const notJsonTypes = fc.constantFrom(
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "",
);
/** Bytes that are not valid UTF-8 (a lone continuation byte, a truncated sequence, an invalid lead). */
const badUtf8 = fc
  .tuple(
    fc.string({ unit: letters, maxLength: 10 }),
    fc.constantFrom([0x80], [0xc3], [0xff, 0xfe], [0xe2, 0x82], [0xed, 0xa0, 0x80]),
  )
  .map(
    ([prefix, bytes]) =>
      new Uint8Array([...Buffer.from(`{"message":"${prefix}`), ...bytes, ...Buffer.from('"}')]),
  );
/** Tokens that must be refused: signed with other keys, expired, for another audience, or not JWTs. */
const forged: string[] = [];
async function forgeTokens() {
  const sign = (key: string, claims: { iss?: string; aud?: string; exp?: string | number } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(claims.iss ?? "switchboard")
      .setAudience(claims.aud ?? "switchboard-session")
      .setSubject("anon:forged")
      .setExpirationTime(claims.exp ?? "1h")
      .sign(new TextEncoder().encode(key));
  for (let i = 0; i < 10; i++) forged.push(await sign(`not-the-service-signing-key-${i}-0123456789`));
  forged.push(
    await sign("test-session-signing-key-0123456789abcdef", { exp: Math.floor(Date.now() / 1000) - 60 }),
  );
  forged.push(await sign("test-session-signing-key-0123456789abcdef", { aud: "someone-else" }));
  forged.push(await sign("test-session-signing-key-0123456789abcdef", { iss: "https://evil.example" }));
  forged.push("not.a.jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm9uOngifQ.", "x");
}

describe(`${RUNS} malformed requests per endpoint`, () => {
  test("POST /api/v1/chat", async () => {
    const arb = fc.oneof(
      fc.record({ ct: notJsonTypes, body: fc.string({ maxLength: 200 }) }).map(
        ({ ct, body }): Attempt => ({
          path: "/api/v1/chat",
          headers: ct ? { "content-type": ct } : {},
          body,
        }),
      ),
      fc.record({ message: validMessage, cut: fc.nat() }).map(({ message, cut }): Attempt => {
        const full = JSON.stringify({ message });
        return { path: "/api/v1/chat", headers: json, body: full.slice(0, cut % (full.length - 1)) };
      }),
      fc
        .oneof(
          fc.record({
            message: fc.oneof(
              fc.integer(),
              fc.boolean(),
              fc.constant(null),
              fc.array(fc.string()),
              fc.object(),
            ),
          }),
          fc.record({ text: fc.string() }),
          fc.record({ message: fc.stringMatching(/^[ \t\n]{0,20}$/) }),
          fc.record({
            message: fc
              .string({ unit: letters, minLength: 520, maxLength: 600 })
              .filter((s) => s.trim().length > 500),
          }),
          fc.record({
            message: validMessage,
            sessionId: fc.string({ maxLength: 40 }).filter((s) => !UUID.test(s)),
          }),
          fc.oneof(fc.integer(), fc.string(), fc.array(fc.integer()), fc.constant(null)),
        )
        .map((body): Attempt => ({ path: "/api/v1/chat", headers: json, body: JSON.stringify(body) })),
      badUtf8.map((body): Attempt => ({ path: "/api/v1/chat", headers: json, body })),
      fc.integer({ min: 3000, max: 20_000 }).map(
        (n): Attempt => ({
          path: "/api/v1/chat",
          headers: json,
          body: JSON.stringify({ message: "x".repeat(n) }),
        }),
      ),
      fc.tuple(fc.constantFrom(...forged), validMessage).map(
        ([token, message]): Attempt => ({
          path: "/api/v1/chat",
          headers: { ...json, ...bearer(token) },
          body: JSON.stringify({ message }),
        }),
      ),
      validMessage.map(
        (message): Attempt => ({
          path: "/api/v1/chat",
          headers: { ...json, ...bearer(mine.token) },
          body: JSON.stringify({ message, sessionId: theirs.sessionId }),
        }),
      ),
      validMessage.map(
        (message): Attempt => ({
          path: "/api/v1/chat",
          headers: json,
          body: JSON.stringify({ message, sessionId: mine.sessionId }),
        }),
      ),
    );
    const seen = await refusedAll(arb, [400, 401, 404, 413, 415]);
    expect([...seen]).toEqual(expect.arrayContaining([400, 401, 404, 413, 415]));
  }, 120_000);

  test("GET /api/v1/sessions/{id}/messages", async () => {
    const arb = fc.oneof(
      fc
        .string({ minLength: 1, maxLength: 60 })
        .filter((s) => !UUID.test(s))
        .map(
          (id): Attempt => ({
            method: "GET",
            path: `/api/v1/sessions/${encodeURIComponent(id)}/messages`,
            headers: bearer(mine.token),
          }),
        ),
      fc.uuid().map(
        (id): Attempt => ({
          method: "GET",
          path: `/api/v1/sessions/${id}/messages`,
          headers: bearer(mine.token),
        }),
      ),
      fc.constant<Attempt>({
        method: "GET",
        path: `/api/v1/sessions/${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}/messages`,
      }),
      fc.constantFrom("0", "201", "-1", "abc", "1.5", "99999999999").map(
        (limit): Attempt => ({
          method: "GET",
          path: `/api/v1/sessions/${mine.sessionId}/messages?limit=${limit}`,
          headers: bearer(mine.token),
        }),
      ),
      fc
        .string({ minLength: 1, maxLength: 20 })
        .filter((s) => !/^\d{1,18}$/.test(s))
        .map(
          (before): Attempt => ({
            method: "GET",
            path: `/api/v1/sessions/${mine.sessionId}/messages?before=${encodeURIComponent(before)}`,
            headers: bearer(mine.token),
          }),
        ),
      fc
        .constant<Attempt>({ method: "GET", path: `/api/v1/sessions/THEIRS/messages`, headers: {} })
        .map((a) => ({
          ...a,
          path: `/api/v1/sessions/${theirs.sessionId}/messages`,
          headers: bearer(mine.token),
        })),
      fc.string({ minLength: 1, maxLength: 60 }).map(
        (token): Attempt => ({
          method: "GET",
          path: `/api/v1/sessions/${mine.sessionId}/messages`,
          headers: { authorization: `Bearer ${token.replace(/\s/g, "x")}.x.y` },
        }),
      ),
    );
    await refusedAll(arb, [400, 401, 404]);
  }, 120_000);

  test("POST /webhooks/intercom", async () => {
    const sign = (body: string | Uint8Array) =>
      `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`;
    const arb = fc.oneof(
      fc
        .string({ maxLength: 300 })
        .map((body): Attempt => ({ path: "/webhooks/intercom", headers: json, body })),
      fc.tuple(fc.string({ maxLength: 300 }), fc.stringMatching(/^sha1=[0-9a-f]{40}$/)).map(
        ([body, sig]): Attempt => ({
          path: "/webhooks/intercom",
          headers: { ...json, "x-hub-signature": sig },
          body,
        }),
      ),
      fc.tuple(fc.string({ maxLength: 300 }), fc.string({ maxLength: 60 })).map(
        ([body, sig]): Attempt => ({
          path: "/webhooks/intercom",
          headers: { ...json, "x-hub-signature": sig },
          body,
        }),
      ),
      // Correctly signed but not JSON, or JSON that is not a notification.
      fc
        .oneof(
          fc.string({ maxLength: 200 }).filter((s) => {
            try {
              JSON.parse(s);
              return false;
            } catch {
              return true;
            }
          }),
          fc.json().filter((s) => {
            const v = JSON.parse(s) as { type?: unknown };
            return typeof v !== "object" || v === null || v.type !== "notification_event";
          }),
          fc
            .record({ type: fc.constant("notification_event"), topic: fc.string() })
            .map((v) => JSON.stringify(v)),
        )
        .map(
          (body): Attempt => ({
            path: "/webhooks/intercom",
            headers: { ...json, "x-hub-signature": sign(body) },
            body,
          }),
        ),
      badUtf8.map(
        (body): Attempt => ({
          path: "/webhooks/intercom",
          headers: { ...json, "x-hub-signature": sign(body) },
          body,
        }),
      ),
    );
    await refusedAll(arb, [400, 401]);
  }, 120_000);

  test("/intercom/* admin endpoints", async () => {
    const admin = { ...json, authorization: `Bearer ${ADMIN_KEY}` };
    const arb = fc.oneof(
      fc
        .tuple(
          fc.constantFrom("/intercom/track-event", "/intercom/identify-user"),
          fc.string({ maxLength: 60 }),
        )
        .map(
          ([path, token]): Attempt => ({
            path,
            headers: { ...json, authorization: `Bearer ${token.replace(/\s/g, "")}x` },
            body: "{}",
          }),
        ),
      fc
        .constantFrom("/intercom/health", "/intercom/track-event")
        .map((path): Attempt => ({ path, method: "GET" })),
      fc
        .oneof(
          fc.record({ user_id: fc.string({ minLength: 1 }) }),
          fc.record({ event_name: fc.string({ minLength: 1, maxLength: 20 }) }),
          fc.record({
            event_name: fc.string({ minLength: 1, maxLength: 20 }),
            user_id: fc.string({ minLength: 1 }),
            metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.integer(), {
              minKeys: 11,
              maxKeys: 15,
            }),
          }),
          fc.record({
            event_name: fc.string({ minLength: 1 }),
            email: fc.string().filter((s) => !s.includes("@")),
          }),
          fc.anything().filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
        )
        .map(
          (body): Attempt => ({
            path: "/intercom/track-event",
            headers: admin,
            body: JSON.stringify(body) ?? "null",
          }),
        ),
      fc
        .oneof(
          fc.record({ name: fc.string() }),
          fc.record({ email: fc.string().filter((s) => !s.includes("@")) }),
          fc.record({ external_id: fc.constant("") }),
        )
        .map(
          (body): Attempt => ({
            path: "/intercom/identify-user",
            headers: admin,
            body: JSON.stringify(body),
          }),
        ),
      fc
        .string({ minLength: 1, maxLength: 10 })
        .map(
          (s): Attempt => ({ path: "/intercom/identify-user", headers: admin, body: `{"external_id":"${s}` }),
        ),
      fc
        .stringMatching(/^[a-z0-9]{8,20}$/)
        .map(
          (id): Attempt => ({ method: "DELETE", path: `/intercom/contacts/nobody-${id}`, headers: admin }),
        ),
    );
    await refusedAll(arb, [400, 401, 404, 405]);
  }, 120_000);

  test("/internal/* endpoints", async () => {
    const arb = fc
      .tuple(
        fc.oneof(
          fc.constant("/internal/poll"),
          fc.constant("/internal/retention"),
          fc.uuid().map((id) => `/internal/tasks/outbox/${id}`),
        ),
        fc.oneof(
          fc.constant<Record<string, string>>({}),
          fc.string({ maxLength: 40 }).map((t) => ({ "x-internal-token": t.replace(/[^\x21-\x7e]/g, "") })),
          fc
            .string({ maxLength: 80 })
            .map((t) => ({ authorization: `Bearer ${t.replace(/[^\x21-\x7e]/g, "")}x` })),
        ),
      )
      .map(([path, headers]): Attempt => ({ path, headers }));
    await refusedAll(arb, [401]);
  }, 120_000);
});
