import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../service/src/config";
import type { Database } from "../../service/src/db/client";
import { bearer, startTestService, testDatabase } from "./helpers";

let db: Database;
let drop: () => Promise<void>;
beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
});
afterAll(async () => {
  await drop?.();
});

const KEY_A = "session-signing-key-A-0123456789abcdefghij";
const KEY_B = "session-signing-key-B-0123456789abcdefghij";

describe("session signing key rotation", () => {
  test("after a rotation the previous key still verifies live sessions; without it they end", async () => {
    const before = await startTestService(db, { SESSION_SIGNING_KEY: KEY_A });
    const chat = (await (
      await before.post("/api/v1/chat", { message: "How do I reset my password?" })
    ).json()) as {
      sessionId: string;
      sessionToken: string;
    };
    await before.close();

    const rotated = await startTestService(db, {
      SESSION_SIGNING_KEY: KEY_B,
      SESSION_SIGNING_KEY_PREVIOUS: KEY_A,
    });
    const still = await rotated.get(`/api/v1/sessions/${chat.sessionId}/messages`, bearer(chat.sessionToken));
    expect(still.status).toBe(200);
    // The next reply re-issues the session token under the new key, for the same identity and session.
    const next = (await (
      await rotated.post(
        "/api/v1/chat",
        { message: "And two-factor?", sessionId: chat.sessionId },
        bearer(chat.sessionToken),
      )
    ).json()) as { sessionId: string; sessionToken?: string };
    expect(next.sessionId).toBe(chat.sessionId);
    expect(next.sessionToken).toEqual(expect.any(String));
    const reissued = next.sessionToken ?? "";
    // New sessions are signed with the new key only.
    const fresh = (await (await rotated.post("/api/v1/chat", { message: "Hi" })).json()) as {
      sessionToken: string;
    };
    await rotated.close();

    const pruned = await startTestService(db, { SESSION_SIGNING_KEY: KEY_B });
    expect(
      (await pruned.get(`/api/v1/sessions/${chat.sessionId}/messages`, bearer(chat.sessionToken))).status,
    ).toBe(401);
    expect(
      (await pruned.post("/api/v1/chat", { message: "Hi again" }, bearer(fresh.sessionToken))).status,
    ).toBe(200);
    expect((await pruned.get(`/api/v1/sessions/${chat.sessionId}/messages`, bearer(reissued))).status).toBe(
      200,
    );
    await pruned.close();
  });
});

describe("CORS", () => {
  test("only the configured origins may call the API from a browser", async () => {
    const svc = await startTestService(db, {
      CORS_ORIGINS: "https://shop.example.com, https://help.example.com/",
    });
    try {
      const preflight = (origin: string) =>
        fetch(`${svc.url}/api/v1/chat`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
          },
        });
      const allowed = await preflight("https://help.example.com");
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://help.example.com");
      expect(allowed.headers.get("access-control-allow-methods")).toContain("POST");
      // The chat's preflight cannot know the tenant (and so its origins): any origin may send the
      // request, and the request itself is refused (docs/widget.md).
      expect(allowed.headers.get("access-control-allow-headers")).toContain("X-Switchboard-Tenant");
      const refused = await svc.post(
        "/api/v1/chat",
        { message: "How do I invite my team?" },
        { origin: "https://evil.example.net" },
      );
      expect(refused.status).toBe(403);
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("origin_not_allowed");
      // Other /api routes keep the deployment's CORS, preflight included.
      const health = await fetch(`${svc.url}/api/v1/health`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example.net", "access-control-request-method": "GET" },
      });
      expect(health.headers.get("access-control-allow-origin")).toBeNull();
      const simple = await svc.post(
        "/api/v1/chat",
        { message: "How do I invite my team?" },
        { origin: "https://shop.example.com" },
      );
      expect(simple.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
    } finally {
      await svc.close();
    }
  });

  test("CORS_ORIGINS must be origins", () => {
    expect(() => parseConfig({ CORS_ORIGINS: "not a url" })).toThrow(/CORS_ORIGINS/);
  });
});

describe("durations", () => {
  test.each([
    ["90", 90],
    ["60s", 60],
    ["5m", 300],
    ["1h", 3600],
  ])("POLLING_INTERVAL=%s is %i seconds", (raw, seconds) => {
    expect(parseConfig({ POLLING_INTERVAL: raw }).POLLING_INTERVAL).toBe(seconds);
  });
  test("POLLING_INTERVAL=soon is an error", () => {
    expect(() => parseConfig({ POLLING_INTERVAL: "soon" })).toThrow(/POLLING_INTERVAL/);
  });
});
