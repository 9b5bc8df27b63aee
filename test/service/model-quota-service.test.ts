import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { leaseModelQuota } from "../../service/src/db/model-quota";
import { purgeModelQuotaWindows } from "../../service/src/db/retention";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { raw, startTestService, type TestService, testDatabase } from "./helpers";

let gemini: GeminiEmulator;
let a: TestService;
let b: TestService;
let drop: () => Promise<void>;

beforeAll(async () => {
  gemini = await startGeminiEmulator();
  const t = await testDatabase();
  drop = t.drop;
  const env = {
    MODEL_PROVIDER: "auto",
    GEMINI_API_KEY: gemini.apiKey,
    GOOGLE_GEMINI_BASE_URL: gemini.url,
    // The deployment's quota, not each instance's.
    MODEL_REQUESTS_PER_MINUTE: "10",
    MODEL_QUEUE_TIMEOUT_MS: "0",
    // Only the model quota may refuse here.
    RATE_LIMIT_CLIENT_PER_MINUTE: "1000",
    RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "1000",
  };
  // Two instances of the service on one database, as Cloud Run runs them.
  a = await startTestService(t.db, env);
  b = await startTestService(t.db, env);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await drop?.();
  await gemini?.close();
});

const generateCalls = () =>
  gemini.requests.filter((r) => /:(generateContent|streamGenerateContent)$/.test(r.path));

/** The quota's windows are whole minutes of the database's clock: start the burst early in one. */
async function earlyInAWindow() {
  const [row] = await raw(a.db)<{ msLeft: number }[]>`
    select (extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now()) * 1000)::float8
      as ms_left`;
  const msLeft = row?.msLeft ?? 60_000;
  if (msLeft < 15_000) await new Promise((r) => setTimeout(r, msLeft + 100));
}

describe("the model quota shared by all instances (through the database)", () => {
  test("two instances together send the deployment's requests per minute, no more", async () => {
    await earlyInAWindow();
    const turns = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        [a, b].map((svc) => svc.post("/api/v1/chat", { message: `Question ${i}?` })),
      ).flat(),
    );
    const statuses = turns.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 503)).toHaveLength(10);
    expect(generateCalls()).toHaveLength(10);
    for (const refused of turns.filter((r) => r.status === 503)) {
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = (await refused.json()) as { error: { code: string } };
      expect(body.error.code).toBe("model_capacity");
    }
    const windows = await raw(a.db)<{ requests: number }[]>`select requests from model_quota_windows`;
    expect(windows.map((w) => w.requests)).toEqual([10]);
  });

  test("the retention purge deletes windows older than the rate-limit windows' age, not the current one", async () => {
    await raw(a.db)`
      insert into model_quota_windows (quota, window_start, requests, tokens, granted_requests, granted_tokens)
      values ('model', date_trunc('minute', now()) - interval '49 hours', 3, 300, 1, 100)`;
    const before = await raw(a.db)`select 1 from model_quota_windows`;
    expect(await purgeModelQuotaWindows(a.db.sql, 48, 100)).toBe(1);
    expect(await purgeModelQuotaWindows(a.db.sql, 48, 100)).toBe(0);
    const after = await raw(a.db)`select 1 from model_quota_windows`;
    expect(after.length).toBe(before.length - 1);
  });

  test("the lease statement: at most the slice, what is left, and half of it; nothing once spent", async () => {
    const lease = leaseModelQuota(a.db.sql, `test-${Date.now()}`);
    const limits = { requestsPerMinute: 10, tokensPerMinute: 1000 };
    const first = await lease({ ...limits, requests: 8, tokens: 100, minTokens: 50 });
    expect(first).toMatchObject({ requests: 5, tokens: 100 }); // half of the 10 requests left
    expect(first.msLeft).toBeGreaterThan(0);
    expect(first.msLeft).toBeLessThanOrEqual(60_000);
    expect(first.windowMs % 60_000).toBe(0);
    // 900 tokens left: the slice (600) is more than half (450), but the call needs 700.
    expect(await lease({ ...limits, requests: 1, tokens: 600, minTokens: 700 })).toMatchObject({
      requests: 1,
      tokens: 700,
    });
    // 200 tokens left: a call needing 300 gets nothing, one needing 100 still fits.
    const spent = await lease({ ...limits, requests: 1, tokens: 300, minTokens: 300 });
    expect(spent).toMatchObject({ requests: 0, tokens: 0, windowMs: first.windowMs });
    expect(await lease({ ...limits, requests: 9, tokens: 10, minTokens: 100 })).toMatchObject({
      requests: 2,
      tokens: 100,
    });
  });
});
