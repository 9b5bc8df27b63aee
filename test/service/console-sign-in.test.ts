import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { safeNext } from "../../service/src/console/sign-in/options";
import type { Database } from "../../service/src/db/client";
import { type OidcProvider, type OidcUser, startOidcProvider } from "../emulators/oidc";
import { type AdminService, auditRows, createTenant, startAdminService } from "./admin-helpers";
import {
  cookiePair,
  openCallback,
  setCookieLine,
  signInThroughIssuer,
  startSignIn,
} from "./console-sign-in-flow";
import { raw, testDatabase } from "./helpers";

/**
 * Console sign-in through a real OpenID provider in the test process (test/emulators/oidc.ts): the redirect
 * dance with PKCE, state and nonce, the browser binding, matching people to Switchboard's users, sign-out.
 */

let op: OidcProvider;
let svc: AdminService;
let db: Database;
let drop: () => Promise<void>;
let alpha: string;

const person = (name: string, extra: Partial<OidcUser> = {}): OidcUser => ({
  sub: `${name}-sub`,
  email: `${name}@example.com`,
  name: `${name[0]?.toUpperCase()}${name.slice(1)}`,
  ...extra,
});

async function listAgent(user: { subject: string; email: string }, tenantId = alpha) {
  await raw(db)`insert into tenant_users (tenant_id, subject, email, role)
    values (${tenantId}, ${user.subject}, ${user.email}, 'agent')`;
}

beforeAll(async () => {
  op = await startOidcProvider();
  const t = await testDatabase();
  db = t.db;
  svc = await startAdminService(db, {
    OIDC_ISSUER: op.issuer,
    OIDC_CLIENT_ID: op.client.clientId,
    OIDC_CLIENT_SECRET: op.client.clientSecret,
  });
  drop = async () => {
    await svc.close();
    await t.drop();
  };
  const https = svc.url.replace("http:", "https:");
  op.setRedirectUris(
    [`${svc.url}/console/auth/callback`, `${https}/console/auth/callback`],
    [`${svc.url}/console/sign-in`, `${https}/console/sign-in`],
  );
  alpha = (await createTenant(svc, "alpha")).id as string;
  // Starting the service migrates a fresh database: slow on a busy machine.
}, 120_000);
afterAll(async () => {
  await drop?.();
  await op?.close();
});

describe("signing in through the issuer", () => {
  test("a listed person lands on the console with an HttpOnly, SameSite=Lax session cookie (not Secure on http)", async () => {
    const ada = person("ada");
    await listAgent({ subject: ada.sub, email: ada.email });
    const res = await signInThroughIssuer(svc.url, op, ada, { next: `/console/t/${alpha}/conversations` });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/console/t/${alpha}/conversations`);
    const line = setCookieLine(res, "sb_console") ?? "";
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Lax/i);
    expect(line).not.toMatch(/Secure/i);
    const page = await fetch(`${svc.url}/console`, {
      headers: { cookie: cookiePair(line) },
      redirect: "manual",
    });
    expect(page.headers.get("location")).toBe(`/console/t/${alpha}/escalations`);
    const [row] = await raw(db)<{ issuer: string; email: string; idToken: string }[]>`
      select issuer, email, id_token from console_sessions where subject = ${ada.sub}`;
    expect(row).toMatchObject({ issuer: op.issuer, email: ada.email });
    expect(row?.idToken).toMatch(/^ey/);
    const audit = (await auditRows(db, "console.signed_in")).filter((r) => r.actor === ada.email);
    expect(audit).toHaveLength(1);
    expect(audit[0]?.role).toBe("agent");
  });

  test("over https (behind a proxy) the cookies are Secure and the session cookie is __Host- prefixed", async () => {
    const bo = person("bo");
    await listAgent({ subject: bo.sub, email: bo.email });
    const headers = { "x-forwarded-proto": "https" };
    const attempt = await startSignIn(svc.url, op, bo, { headers });
    expect(attempt.bindingLine).toMatch(/Secure/i);
    expect(attempt.bindingLine).toMatch(/Path=\/console\/auth/i);
    expect(attempt.callback.protocol).toBe("https:");
    const res = await openCallback(svc.url, attempt.callback, attempt.binding, headers);
    expect(res.status).toBe(303);
    const line = setCookieLine(res, "__Host-sb_console") ?? "";
    expect(line).toMatch(/Secure/i);
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/Path=\//i);
  });

  test("a person with no Switchboard account is refused with a page naming them, and it is audited", async () => {
    const eve = person("eve");
    const res = await signInThroughIssuer(svc.url, op, eve);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("There is no Switchboard account for eve@example.com");
    expect(setCookieLine(res, "sb_console")).toBeUndefined();
    const audit = (await auditRows(db, "console.sign_in_refused")).filter((r) => r.actor === eve.email);
    expect(audit).toHaveLength(1);
    expect(audit[0]?.tenantId).toBeNull();
  });

  test("a person added by e-mail is matched when the issuer verified the address, not otherwise", async () => {
    await listAgent({ subject: "added-by-address", email: "cy@example.com" });
    const verified = await signInThroughIssuer(svc.url, op, person("cy", { sub: "cy-at-issuer" }));
    expect(verified.status).toBe(303);
    await listAgent({ subject: "added-by-address-2", email: "dee@example.com" });
    const unverified = await signInThroughIssuer(
      svc.url,
      op,
      person("dee", { sub: "dee-at-issuer", emailVerified: false }),
    );
    expect(unverified.status).toBe(403);
    expect(await unverified.text()).toContain("has not verified this address");
  });

  test("next is a console path of this site only: another site's address is dropped", async () => {
    const fay = person("fay");
    await listAgent({ subject: fay.sub, email: fay.email });
    for (const next of [
      "//evil.example/console",
      "https://evil.example/console",
      "/console//evil.example",
      "/consolex",
    ]) {
      const res = await signInThroughIssuer(svc.url, op, fay, { next });
      expect(res.status, next).toBe(303);
      expect(res.headers.get("location"), next).toBe("/console");
    }
    expect(safeNext("/console\\evil.example")).toBeNull();
    expect(safeNext("/console/t/x/leads?status=new")).toBe("/console/t/x/leads?status=new");
  });
});

describe("a callback that is not this browser's own", () => {
  test("replayed after use, it signs nobody in", async () => {
    const gus = person("gus");
    await listAgent({ subject: gus.sub, email: gus.email });
    const attempt = await startSignIn(svc.url, op, gus);
    expect((await openCallback(svc.url, attempt.callback, attempt.binding)).status).toBe(303);
    const replay = await openCallback(svc.url, attempt.callback, attempt.binding);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("did not start in this browser");
    expect(setCookieLine(replay, "sb_console")).toBeUndefined();
  });

  test("carried to another browser (no binding cookie, or another one), it signs nobody in", async () => {
    const hal = person("hal");
    await listAgent({ subject: hal.sub, email: hal.email });
    const victim = await startSignIn(svc.url, op, hal);
    const attacker = await startSignIn(svc.url, op, hal);
    expect((await openCallback(svc.url, victim.callback, undefined)).status).toBe(400);
    const crossed = await openCallback(svc.url, victim.callback, attacker.binding);
    expect(crossed.status).toBe(400);
    expect(setCookieLine(crossed, "sb_console")).toBeUndefined();
  });

  test("with a state that is not the one it started with, it fails", async () => {
    const ivy = person("ivy");
    await listAgent({ subject: ivy.sub, email: ivy.email });
    const attempt = await startSignIn(svc.url, op, ivy);
    attempt.callback.searchParams.set("state", "forged-state");
    const res = await openCallback(svc.url, attempt.callback, attempt.binding);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("did not check out");
    expect(setCookieLine(res, "sb_console")).toBeUndefined();
  });
});

describe("signed in", () => {
  test("signing out revokes the session and ends the issuer's session too", async () => {
    const jo = person("jo");
    await listAgent({ subject: jo.sub, email: jo.email });
    const res = await signInThroughIssuer(svc.url, op, jo);
    const cookie = cookiePair(setCookieLine(res, "sb_console"));
    const [session] = await raw(db)<{ csrfToken: string; id: string }[]>`
      select csrf_token, id from console_sessions where subject = ${jo.sub}`;
    const out = await fetch(`${svc.url}/console/sign-out`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: session?.csrfToken ?? "" }),
    });
    // A Refresh to the issuer, not a redirect: the form's page allows form-action 'self' only.
    expect(out.status).toBe(200);
    const logout = new URL((out.headers.get("refresh") ?? "").replace(/^0;url=/, ""));
    expect(await out.text()).toContain(`Continue to sign out at ${logout.host}`);
    expect(`${logout.origin}${logout.pathname}`).toBe(`${op.issuer}/session/end`);
    expect(logout.searchParams.get("id_token_hint")).toMatch(/^ey/);
    expect(logout.searchParams.get("post_logout_redirect_uri")).toBe(`${svc.url}/console/sign-in`);
    const [row] = await raw(db)<{ revokedAt: Date | null }[]>`
      select revoked_at from console_sessions where id = ${session?.id ?? ""}`;
    expect(row?.revokedAt).toBeInstanceOf(Date);
    const reused = await fetch(`${svc.url}/api/v1/admin/tenants/${alpha}/knowledge`, { headers: { cookie } });
    expect(reused.status).toBe(401);
    expect((await auditRows(db, "console.signed_out")).some((r) => r.actor === jo.email)).toBe(true);
    // The same form again (another tab): already signed out, so on to the sign-in page, not an error.
    const again = await fetch(`${svc.url}/console/sign-out`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: session?.csrfToken ?? "" }),
    });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/console/sign-in");
  });

  test("signing out without the CSRF token changes nothing", async () => {
    const kai = person("kai");
    await listAgent({ subject: kai.sub, email: kai.email });
    const cookie = cookiePair(setCookieLine(await signInThroughIssuer(svc.url, op, kai), "sb_console"));
    const out = await fetch(`${svc.url}/console/sign-out`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(out.status).toBe(403);
    const page = await fetch(`${svc.url}/console`, { headers: { cookie }, redirect: "manual" });
    expect(page.headers.get("location")).toBe(`/console/t/${alpha}/escalations`);
  });

  test("a person removed from the users table is signed out at their next request", async () => {
    const lu = person("lu");
    await listAgent({ subject: lu.sub, email: lu.email });
    const cookie = cookiePair(setCookieLine(await signInThroughIssuer(svc.url, op, lu), "sb_console"));
    await raw(db)`delete from tenant_users where subject = ${lu.sub}`;
    const page = await fetch(`${svc.url}/console`, { headers: { cookie }, redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toMatch(/^\/console\/sign-in/);
  });

  test("the sign-in page offers the issuer, and the local link does not exist", async () => {
    const page = await fetch(`${svc.url}/console/sign-in`);
    const html = await page.text();
    expect(html).toContain(`Sign in with ${new URL(op.issuer).host}`);
    expect((await fetch(`${svc.url}/console/auth/link?token=x`)).status).toBe(404);
  });
});
