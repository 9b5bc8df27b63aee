import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConfigError } from "../../service/src/config";
import type { Database } from "../../service/src/db/client";
import { startService } from "../../service/src/main";
import {
  baseEnv,
  bearer,
  LogCapture,
  raw,
  startTestService,
  type TestService,
  testDatabase,
} from "./helpers";

/** Users' JWTs (issue 10, service item 2): they expire, and one issuer's `sub` is never another's. */

const JWT_SECRET = "user-jwt-test-secret-0123456789abcdef0123";
const now = () => Math.floor(Date.now() / 1000);

interface Claims {
  sub?: string;
  iss?: string;
  /** Unix seconds; `null` leaves `exp` out. */
  exp?: number | null;
  role?: string;
  roles?: string[];
}
const sign = (claims: Claims) => {
  const jwt = new SignJWT({
    ...(claims.role ? { role: claims.role } : {}),
    ...(claims.roles ? { roles: claims.roles } : {}),
  })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.sub ?? "u_1")
    .setIssuedAt();
  if (claims.iss) jwt.setIssuer(claims.iss);
  if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? now() + 600);
  return jwt.sign(new TextEncoder().encode(JWT_SECRET));
};

let db: Database;
let drop: () => Promise<void>;
let svc: TestService;
beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startTestService(db, { JWT_SECRET });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

async function expectInvalidToken(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toContain("invalid_token");
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
}

describe("the admin role of a user JWT", () => {
  test("an admin JWT reaches the admin endpoints; a user JWT without the role gets 403", async () => {
    const admin = await svc.get("/intercom/health", bearer(await sign({ sub: "ops", role: "admin" })));
    expect(admin.status).toBe(200);
    expect(((await admin.json()) as { status: string }).status).toEqual(expect.any(String));
    const listed = await svc.get("/intercom/health", bearer(await sign({ sub: "ops2", roles: ["admin"] })));
    expect(listed.status).toBe(200);

    const user = await svc.get("/intercom/health", bearer(await sign({ sub: "u_2" })));
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  test("an expired admin JWT, and one without exp, get 401 invalid_token", async () => {
    const expired = await sign({ sub: "ops", role: "admin", exp: now() - 120 });
    const forever = await sign({ sub: "ops", role: "admin", exp: null });
    for (const token of [expired, forever]) {
      await expectInvalidToken(await svc.get("/intercom/health", bearer(token)));
      await expectInvalidToken(await svc.post("/api/v1/chat", { message: "hi" }, bearer(token)));
    }
  });

  test("a token that expired within the clock tolerance (30 s) is still accepted", async () => {
    const token = await sign({ sub: "ops", role: "admin", exp: now() - 10 });
    expect((await svc.get("/intercom/health", bearer(token))).status).toBe(200);
  });
});

describe("user identities are namespaced by issuer", () => {
  const chatAs = async (token: string, sessionId?: string) => {
    const res = await svc.post(
      "/api/v1/chat",
      { message: "How do I export my data?", ...(sessionId ? { sessionId } : {}) },
      bearer(token),
    );
    return { status: res.status, body: (await res.json()) as { sessionId: string } };
  };
  const identityOf = async (sessionId: string) =>
    (await raw(db)<{ identityId: string }[]>`select identity_id from sessions where id = ${sessionId}`)[0]
      ?.identityId;

  test("the same sub from two issuers is two people: neither sees the other's session", async () => {
    const a = await sign({ iss: "https://a.example", sub: "42" });
    const b = await sign({ iss: "https://b.example", sub: "42" });
    const first = await chatAs(a);
    expect(first.status).toBe(200);
    expect((await chatAs(b, first.body.sessionId)).status).toBe(404);
    expect((await svc.get(`/api/v1/sessions/${first.body.sessionId}/messages`, bearer(b))).status).toBe(404);
    expect((await chatAs(a, first.body.sessionId)).status).toBe(200);
    expect(await identityOf(first.body.sessionId)).toBe("user:https://a.example#42");
  });

  test("an issuer containing '#' cannot spell another issuer's user", async () => {
    const tricky = await chatAs(await sign({ iss: "https://a.example/#x", sub: "y" }));
    const plain = await chatAs(await sign({ iss: "https://a.example/", sub: "x#y" }));
    const ids = [await identityOf(tricky.body.sessionId), await identityOf(plain.body.sessionId)];
    expect(ids).toEqual(["user:https://a.example/%23x#y", "user:https://a.example/#x%23y"]);
  });

  test("a token without an issuer keeps the plain user:<sub> id of existing sessions", async () => {
    const res = await chatAs(await sign({ sub: "legacy-7" }));
    expect(res.status).toBe(200);
    expect(await identityOf(res.body.sessionId)).toBe("user:legacy-7");
  });
});

describe("JWKS settings checked at start-up", () => {
  const jwks = { JWT_JWKS_URL: "https://idp.example.com/.well-known/jwks.json" };
  const start = (env: Record<string, string>, logs = new LogCapture()) =>
    startService({ ...baseEnv, ...env }, { database: db, logDestination: logs });

  test("production refuses a JWKS URL without JWT_ISSUER and JWT_AUDIENCE, naming both", async () => {
    const error = await start({ NODE_ENV: "production", ...jwks }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/JWT_ISSUER: is required in production/);
    expect((error as ConfigError).message).toMatch(/JWT_AUDIENCE: is required in production/);
  });

  test("outside production it starts, with a warning naming them", async () => {
    const logs = new LogCapture();
    const running = await start({ NODE_ENV: "test", ...jwks }, logs);
    await running.close();
    const warnings = logs.events("config.warning").map((l) => l.message);
    expect(warnings.join("\n")).toMatch(/JWT_ISSUER is not set/);
    expect(warnings.join("\n")).toMatch(/JWT_AUDIENCE is not set/);
  });

  test("a plain-http JWKS URL is refused outside NODE_ENV=development", async () => {
    const http = { JWT_JWKS_URL: "http://idp.example.com/jwks.json", JWT_ISSUER: "x", JWT_AUDIENCE: "y" };
    for (const NODE_ENV of ["test", "production"]) {
      const error = await start({ NODE_ENV, ...http }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/JWT_JWKS_URL: must be an https:\/\/ URL/);
    }
  });
});
