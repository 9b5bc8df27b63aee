import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  AuthorizationResponseError,
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  buildEndSessionUrl,
  ClientSecretBasic,
  type Configuration,
  calculatePKCECodeChallenge,
  discovery,
  fetchUserInfo,
  ResponseBodyError,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  tokenRevocation,
} from "openid-client";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, type MockInstance, test, vi } from "vitest";
import { type OidcAgent, type OidcProvider, type OidcUser, startOidcProvider } from "./oidc";

/**
 * The test OpenID provider (oidc.ts) against the client library the console will use, openid-client 6, as
 * the console will use it: discovery, authorization code with PKCE, a confidential client with HTTP Basic
 * authentication, id_token validation, userinfo, revocation and RP-initiated logout.
 */

const ADA: OidcUser = { sub: "ada-123", email: "ada@example.com", name: "Ada Lovelace" };
const GRACE: OidcUser = {
  sub: "grace-456",
  email: "grace@example.com",
  name: "Grace Hopper",
  emailVerified: false,
};
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);

let op: OidcProvider;
let client: Configuration;
/** The client's own site: the redirect URI's and the post-logout URI's page. */
let site: { origin: string; server: Server };
let callbackUri: string;
let signedOutUri: string;
const consoleSpies: MockInstance[] = [];

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    consoleSpies.push(vi.spyOn(console, method));
  }
  site = await clientSite();
  callbackUri = `${site.origin}/callback`;
  signedOutUri = `${site.origin}/signed-out`;
  op = await startOidcProvider({ redirectUris: [callbackUri], postLogoutRedirectUris: [signedOutUri] });
  client = await discovery(
    new URL(op.issuer),
    op.client.clientId,
    undefined,
    ClientSecretBasic(op.client.clientSecret),
    { execute: [allowInsecureRequests] },
  );
});

afterAll(async () => {
  await op?.close();
  site?.server.close();
  for (const spy of consoleSpies) spy.mockRestore();
});

/** A page standing in for the console's callback and signed-out pages. */
async function clientSite(): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path !== "/callback" && path !== "/signed-out") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><html lang="en"><head><title>Client</title></head><body><h1>${path}</h1></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface SignInRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

async function signInRequest(extra: Record<string, string> = {}): Promise<SignInRequest> {
  const verifier = randomPKCECodeVerifier();
  const state = randomState();
  const nonce = randomNonce();
  const url = buildAuthorizationUrl(client, {
    redirect_uri: callbackUri,
    scope: "openid email profile",
    code_challenge: await calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** Signs in through `agent` as whoever the provider has been told, and exchanges the code. */
async function signIn(agent: OidcAgent) {
  const request = await signInRequest();
  const callback = await agent.follow(request.url);
  return authorizationCodeGrant(client, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}

function oauthError(error: unknown): string | undefined {
  if (error instanceof ResponseBodyError || error instanceof AuthorizationResponseError) return error.error;
  return undefined;
}

describe("discovery", () => {
  test("publishes the issuer, PKCE S256 only, Basic client authentication, RS256, logout and revocation", () => {
    const meta = client.serverMetadata();
    expect(meta.issuer).toBe(op.issuer);
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
    expect(meta.token_endpoint_auth_methods_supported).toContain("client_secret_basic");
    expect(meta.id_token_signing_alg_values_supported).toContain("RS256");
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
    expect(meta.claims_supported).toEqual(expect.arrayContaining(["sub", "email", "email_verified", "name"]));
    expect(meta.end_session_endpoint).toBe(`${op.issuer}/session/end`);
    expect(meta.revocation_endpoint).toBe(`${op.issuer}/token/revocation`);
  });
});

describe("sign-in", () => {
  test("signs in as the user and the client validates an RS256 id_token with their e-mail and name", async () => {
    op.signInAs(ADA);
    const tokens = await signIn(op.agent());

    expect(tokens.claims()).toMatchObject({
      iss: op.issuer,
      aud: op.client.clientId,
      sub: "ada-123",
      email: "ada@example.com",
      email_verified: true,
      name: "Ada Lovelace",
    });
    const header = JSON.parse(Buffer.from(tokens.id_token?.split(".")[0] ?? "", "base64url").toString());
    expect(header.alg).toBe("RS256");
    const info = await fetchUserInfo(client, tokens.access_token, "ada-123");
    expect(info).toMatchObject({ email: "ada@example.com", name: "Ada Lovelace" });
  });

  test("the token request authenticates the client with HTTP Basic and sends the code_verifier", async () => {
    op.signInAs(ADA);
    const before = op.requests.length;
    await signIn(op.agent());

    const token = op.requests.slice(before).find((r) => r.route === "token");
    expect(token?.status).toBe(200);
    expect(token?.body).toMatchObject({
      grant_type: "authorization_code",
      code_verifier: expect.any(String),
    });
    expect(token?.body).not.toHaveProperty("client_secret");
  });

  test("an unverified address comes back as email_verified false", async () => {
    op.signInAs(GRACE);
    const tokens = await signIn(op.agent());
    expect(tokens.claims()).toMatchObject({ sub: "grace-456", email_verified: false });
  });

  test("two people in two browsers get two subjects; a browser with a session is not asked again", async () => {
    const adasBrowser = op.agent();
    op.signInAs(ADA);
    const first = await signIn(adasBrowser);
    op.signInAs(GRACE);
    const second = await signIn(op.agent());
    const again = await signIn(adasBrowser);

    expect(first.claims()?.sub).toBe("ada-123");
    expect(second.claims()?.sub).toBe("grace-456");
    expect(again.claims()?.sub).toBe("ada-123");
    expect(op.users.get("grace-456")?.email).toBe("grace@example.com");
  });

  test("cancelling (signInAs(undefined)) sends access_denied back with the state", async () => {
    op.signInAs(undefined);
    const request = await signInRequest();
    const callback = await op.agent().follow(request.url);

    expect(callback.origin + callback.pathname).toBe(callbackUri);
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("state")).toBe(request.state);
    const grant = authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
    });
    await expect(grant.catch(oauthError)).resolves.toBe("access_denied");
  });

  test("a sign-in page opened in another browser is refused (the interaction is bound to its browser)", async () => {
    op.signInAs(ADA);
    const before = op.requests.length;
    await signIn(op.agent());
    const interaction = op.requests.slice(before).find((r) => r.route === "interaction");
    expect(interaction).toBeDefined();

    const elsewhere = op.agent().follow(`${op.issuer}${interaction?.path}`);
    await expect(elsewhere).rejects.toThrow(/answered 400 .*interaction session id cookie not found/);
  });

  test("a request without a PKCE code_challenge is refused", async () => {
    op.signInAs(ADA);
    const url = buildAuthorizationUrl(client, {
      redirect_uri: callbackUri,
      scope: "openid",
      state: randomState(),
    });
    const callback = await op.agent().follow(url);

    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("error_description")).toMatch(/requires PKCE/);
  });

  test("an unregistered redirect URI is refused at the provider; setRedirectUris registers it", async () => {
    op.signInAs(ADA);
    const elsewhere = `${site.origin}/elsewhere`;
    const request = await signInRequest({ redirect_uri: elsewhere });
    await expect(op.agent().follow(request.url)).rejects.toThrow(/redirect_uri did not match/);

    op.setRedirectUris([callbackUri, elsewhere]);
    try {
      const callback = await op.agent().follow(request.url);
      expect(callback.origin + callback.pathname).toBe(elsewhere);
      expect(callback.searchParams.get("code")).toBeTruthy();
    } finally {
      op.setRedirectUris([callbackUri]);
    }
  });
});

describe("refusals at the code exchange", () => {
  test("a wrong code_verifier is refused", async () => {
    op.signInAs(ADA);
    const request = await signInRequest();
    const callback = await op.agent().follow(request.url);
    const grant = authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: randomPKCECodeVerifier(),
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    await expect(grant.catch(oauthError)).resolves.toBe("invalid_grant");
  });

  test("a code used twice is refused, and the tokens of its first use stop working", async () => {
    op.signInAs(ADA);
    const request = await signInRequest();
    const callback = await op.agent().follow(request.url);
    const checks = {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    };
    const first = await authorizationCodeGrant(client, callback, checks);

    const second = authorizationCodeGrant(client, callback, checks);
    await expect(second.catch(oauthError)).resolves.toBe("invalid_grant");
    const info = fetchUserInfo(client, first.access_token, "ada-123");
    await expect(info.catch((e: unknown) => (e as { status?: number }).status)).resolves.toBe(401);
  });

  test("a callback with another state is refused by the client before any token request", async () => {
    op.signInAs(ADA);
    const request = await signInRequest();
    const callback = await op.agent().follow(request.url);
    const before = op.requests.length;

    const grant = authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: randomState(),
      expectedNonce: request.nonce,
    });
    await expect(grant.catch((e: Error) => String(e.cause))).resolves.toMatch(/unexpected "state"/);
    expect(op.requests.slice(before).some((r) => r.route === "token")).toBe(false);
  });
});

describe("revocation and logout", () => {
  test("a revoked access token no longer reads userinfo", async () => {
    op.signInAs(ADA);
    const tokens = await signIn(op.agent());
    await tokenRevocation(client, tokens.access_token);

    const info = fetchUserInfo(client, tokens.access_token, "ada-123");
    await expect(info.catch((e: unknown) => (e as { status?: number }).status)).resolves.toBe(401);
  });

  test("RP-initiated logout returns to the post-logout URI and ends the provider session", async () => {
    const browser = op.agent();
    op.signInAs(ADA);
    const tokens = await signIn(browser);
    const state = randomState();
    const logout = buildEndSessionUrl(client, {
      id_token_hint: tokens.id_token ?? "",
      post_logout_redirect_uri: signedOutUri,
      state,
    });
    expect(logout.href.startsWith(`${op.issuer}/session/end?`)).toBe(true);

    const back = await browser.follow(logout);
    expect(back.origin + back.pathname).toBe(signedOutUri);
    expect(back.searchParams.get("state")).toBe(state);
    expect(browser.cookieNames()).not.toContain("op_session");
    // The next sign-in in that browser asks who is there again.
    op.signInAs(GRACE);
    expect((await signIn(browser)).claims()?.sub).toBe("grace-456");
  });
});

describe.skipIf(!hasChromium)("in Chromium", () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  test("the browser follows the real redirects to the client's page, and back again at logout", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      op.signInAs(ADA);
      const request = await signInRequest();
      await page.goto(request.url.href);
      await page.waitForURL((url) => url.href.startsWith(callbackUri));
      expect(await page.locator("h1").textContent()).toBe("/callback");

      const tokens = await authorizationCodeGrant(client, new URL(page.url()), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      expect(tokens.claims()).toMatchObject({ sub: "ada-123", email: "ada@example.com" });

      const logout = buildEndSessionUrl(client, {
        id_token_hint: tokens.id_token ?? "",
        post_logout_redirect_uri: signedOutUri,
      });
      await page.goto(logout.href);
      await page.waitForURL((url) => url.href.startsWith(signedOutUri));
      const cookies = await context.cookies(op.issuer);
      expect(cookies.map((c) => c.name)).not.toContain("op_session");
    } finally {
      await context.close();
    }
  });
});

test("the provider printed nothing on the console through all of the above", () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
});
