import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bearer, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * Readiness tells the public whether to send traffic, nothing more; operators (admin credentials) and the
 * platform (internal credentials) also see why, and what is configured.
 */
const ADMIN_API_KEY = "health-test-admin-key-0123456789";
const JWT_SECRET = "health-test-user-jwt-secret-0123456789abcdef";
const INTERNAL_SHARED_SECRET = "health-test-internal-secret";
const env = {
  ADMIN_API_KEY,
  JWT_SECRET,
  JWT_ISSUER: "https://auth.example.com",
  JWT_AUDIENCE: "switchboard",
  INTERNAL_SHARED_SECRET,
};

let svc: TestService;
let drop: () => Promise<void>;
beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  svc = await startTestService(t.db, env);
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

const userJwt = (role: string) =>
  new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(`u_${role}`)
    .setIssuer(env.JWT_ISSUER)
    .setAudience(env.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(JWT_SECRET));

async function health(headers: Record<string, string> = {}) {
  const res = await svc.get("/api/v1/health", headers);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("GET /api/v1/health", () => {
  test("the public gets the status and version only", async () => {
    const res = await health();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "healthy", version: expect.any(String) });
  });

  test("so do a wrong admin key, an ordinary user's JWT and an anonymous session token (never a 401)", async () => {
    const chat = (await (await svc.post("/api/v1/chat", { message: "hello" })).json()) as {
      sessionToken: string;
    };
    for (const headers of [
      bearer("health-test-admin-key-9876543210"),
      bearer(await userJwt("member")),
      bearer(chat.sessionToken),
      { "x-internal-token": "not-the-internal-secret" },
    ]) {
      const res = await health(headers);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["status", "version"]);
    }
  });

  test("admin (ADMIN_API_KEY or an admin user JWT) and internal callers see the details", async () => {
    for (const headers of [
      bearer(ADMIN_API_KEY),
      bearer(await userJwt("admin")),
      { "x-internal-token": INTERNAL_SHARED_SECRET },
    ]) {
      const res = await health(headers);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: "healthy",
        reasons: [],
        database: { status: "up" },
        modelProvider: { name: "local", circuit: "closed" },
        integrations: { gemini: false, intercom: false, userJwt: true },
      });
    }
  });
});

describe("database down", () => {
  test("still 503 for everyone; only operators read the reason", async () => {
    const t = await testDatabase();
    const down = await startTestService(t.db, env);
    try {
      await t.db.sql.end({ timeout: 1 });
      const res = await down.get("/api/v1/health");
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: "unhealthy", version: expect.any(String) });
      const admin = await down.get("/api/v1/health", bearer(ADMIN_API_KEY));
      expect(admin.status).toBe(503);
      expect(await admin.json()).toMatchObject({ status: "unhealthy", reasons: ["database unreachable"] });
    } finally {
      await down.close();
      await t.drop();
    }
  });
});
