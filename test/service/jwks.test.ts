import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, expect, test } from "vitest";
import { bearer, raw, startTestService, type TestService, testDatabase } from "./helpers";

/** Users signed in with an identity provider that publishes its keys as a JWKS (RS256). */
let jwks: Server;
let svc: TestService;
let drop: () => Promise<void>;
let key: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let otherKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  key = pair.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "idp-1", alg: "RS256", use: "sig" };
  jwks = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  const t = await testDatabase();
  drop = t.drop;
  svc = await startTestService(t.db, {
    // A local identity provider over plain http: accepted in development only.
    NODE_ENV: "development",
    JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
    JWT_ISSUER: "https://idp.example.com/",
    JWT_AUDIENCE: "switchboard",
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await new Promise((resolve) => jwks?.close(resolve));
});

const token = (signWith: typeof key, claims: { aud?: string; tier?: string } = {}) =>
  new SignJWT({ tier: claims.tier ?? "free" })
    .setProtectedHeader({ alg: "RS256", kid: "idp-1" })
    .setIssuer("https://idp.example.com/")
    .setAudience(claims.aud ?? "switchboard")
    .setSubject("auth0|42")
    .setExpirationTime("10m")
    .sign(signWith);

test("an RS256 token from the identity provider's JWKS identifies the user, with their tier", async () => {
  const res = await svc.post(
    "/api/v1/chat",
    { message: "How do I export my data?" },
    bearer(await token(key, { tier: "premium" })),
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as { sessionId: string; budget: { remaining: number } };
  expect(body.budget.remaining).toBeGreaterThan(190_000);
  const [row] = await raw(svc.db)`select identity_id from sessions where id = ${body.sessionId}`;
  // Namespaced by the token's issuer, so another identity provider's "auth0|42" is someone else.
  expect(row?.identityId).toBe("user:https://idp.example.com/#auth0|42");
});

test("a token signed by another key, or for another audience, is refused", async () => {
  expect((await svc.post("/api/v1/chat", { message: "hi" }, bearer(await token(otherKey)))).status).toBe(401);
  expect(
    (await svc.post("/api/v1/chat", { message: "hi" }, bearer(await token(key, { aud: "another-app" }))))
      .status,
  ).toBe(401);
});

test("a token without exp, or expired beyond the clock tolerance, is refused with 401 invalid_token", async () => {
  const unsigned = () =>
    new SignJWT({ tier: "free" })
      .setProtectedHeader({ alg: "RS256", kid: "idp-1" })
      .setIssuer("https://idp.example.com/")
      .setAudience("switchboard")
      .setSubject("auth0|42");
  const forever = await unsigned().sign(key);
  const expired = await unsigned()
    .setExpirationTime(Math.floor(Date.now() / 1000) - 120)
    .sign(key);
  for (const t of [forever, expired]) {
    const res = await svc.post("/api/v1/chat", { message: "hi" }, bearer(t));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
  }
});
