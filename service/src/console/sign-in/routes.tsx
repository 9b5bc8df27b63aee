import { createHash, randomBytes } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import {
  saveConsoleAuthorization,
  takeConsoleAuthorization,
  useConsoleSignInLink,
} from "../../db/platform-console";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import type { ConsoleDeps } from "../deps";
import { auditSignIn } from "./audit";
import { finishOidcSignIn } from "./callback";
import { isHttps, publicOrigin, redirectUri, type SignInOptions, safeNext } from "./options";
import { type SignInMode, SignInPage, SignInProblem } from "./pages";

/**
 * The console's sign-in (docs/console.md, "Sign-in"): the sign-in page, the OpenID Connect redirect and
 * callback, the local one-time link, and sign-out. Mounted before the console's session middleware lets
 * any other page through; /console/sign-in and /console/auth/* are public, /console/sign-out is not.
 */

/** The browser-binding cookie of a sign-in in flight: its hash keys the authorization row. */
const BINDING_COOKIE = "sb_console_auth";
const AUTH_PATH = "/console/auth";
const AUTHORIZATION_SECONDS = 600;

const sha256 = (value: string) => createHash("sha256").update(value).digest();

export function signInRoutes(deps: ConsoleDeps, opts: SignInOptions) {
  const app = createRouter();
  const { sql } = deps.admin;
  const mode = signInMode(opts);

  app.get("/console/sign-in", (c) =>
    c.html(<SignInPage c={c} mode={mode} next={safeNext(c.req.query("next"))} />),
  );

  app.get("/console/auth/start", async (c) => {
    const oidc = opts.oidc;
    if (!oidc) throw new AppError(404, "not_found", "This deployment does not sign in through an issuer.");
    const started = await oidc
      .start(safeNext(c.req.query("next")), redirectUri(c, opts))
      .catch((e: unknown) => {
        deps.log.warn({ event: "console.oidc_unreachable", err: e }, "OpenID Connect discovery failed");
        return undefined;
      });
    if (!started) return unreachable(c, mode);
    const binding = randomBytes(32).toString("base64url");
    await saveConsoleAuthorization(sql, sha256(binding), {
      ...started.authorization,
      ttlSeconds: AUTHORIZATION_SECONDS,
    });
    setCookie(c, BINDING_COOKIE, binding, {
      httpOnly: true,
      secure: isHttps(c, opts.publicUrl),
      sameSite: "Lax",
      path: AUTH_PATH,
      maxAge: AUTHORIZATION_SECONDS,
    });
    return c.redirect(started.url.href, 303);
  });

  app.get("/console/auth/callback", async (c) => {
    const oidc = opts.oidc;
    if (!oidc) throw new AppError(404, "not_found", "This deployment does not sign in through an issuer.");
    const binding = getCookie(c, BINDING_COOKIE);
    deleteCookie(c, BINDING_COOKIE, { path: AUTH_PATH, secure: isHttps(c, opts.publicUrl) });
    const authorization = binding ? await takeConsoleAuthorization(sql, sha256(binding)) : undefined;
    if (!authorization) return notStartedHere(c);
    return finishOidcSignIn(c, deps, { oidc, authorization, redirectUri: redirectUri(c, opts) });
  });

  app.get("/console/auth/link", (c) => useLink(c, deps, opts));
  app.post("/console/sign-out", (c) => signOut(c, deps, opts));
  return app;
}

/**
 * On to the issuer's logout. Not a redirect: the sign-out form's page allows forms to post to this origin
 * only (CSP form-action 'self'), which browsers apply to the form's redirects too. A Refresh header is a
 * plain navigation; the page's link is there for a browser that ignores it.
 */
function leaveForIssuer(c: Context<AppEnv>, logout: URL) {
  c.header("Refresh", `0;url=${logout.href}`);
  return c.html(
    <SignInProblem c={c} title="Signing out">
      You are signed out of Switchboard. <a href={logout.href}>Continue to sign out at {logout.host}</a>
    </SignInProblem>,
  );
}

function signInMode(opts: SignInOptions): SignInMode {
  if (opts.oidc) return { kind: "oidc", issuerHost: new URL(opts.oidc.settings.issuer).host };
  return opts.localLinks ? { kind: "local" } : { kind: "none" };
}

function unreachable(c: Context<AppEnv>, mode: SignInMode) {
  const host = mode.kind === "oidc" ? mode.issuerHost : "the identity provider";
  return c.html(
    <SignInPage
      c={c}
      mode={mode}
      next={null}
      error={`${host} could not be reached. Try again in a moment.`}
    />,
    502,
  );
}

/** No authorization for this browser: the callback was replayed, came too late, or was opened elsewhere. */
function notStartedHere(c: Context<AppEnv>) {
  return c.html(
    <SignInProblem c={c} title="Sign-in not started here">
      This sign-in did not start in this browser, took longer than ten minutes, or was already used. Start
      again.
    </SignInProblem>,
    400,
  );
}

/** The local one-time link: used once, within its minutes, and only where there is no issuer and no production. */
async function useLink(c: Context<AppEnv>, deps: ConsoleDeps, opts: SignInOptions) {
  if (!opts.localLinks) throw new AppError(404, "not_found", "There is no such page in the console.");
  const token = c.req.query("token") ?? "";
  const person = token ? await useConsoleSignInLink(deps.admin.sql, sha256(token)) : undefined;
  if (!person) {
    return c.html(
      <SignInProblem c={c} title="This sign-in link is no longer valid" local>
        This link was used already, has expired, or is not one this service made.
      </SignInProblem>,
      410,
    );
  }
  const signedIn = {
    issuer: "local",
    subject: person.subject,
    email: person.email ?? undefined,
    name: "Local admin",
  };
  const viewer = await deps.sessions.start(c, signedIn);
  if (!viewer) {
    await auditSignIn(
      c,
      deps.admin.sql,
      "console.sign_in_refused",
      signedIn.email ?? signedIn.subject,
      undefined,
      {
        issuer: "local",
      },
    );
    throw new AppError(403, "forbidden", "The local admin is no longer a Switchboard user.");
  }
  await auditSignIn(c, deps.admin.sql, "console.signed_in", viewer.email ?? viewer.subject, viewer, {
    issuer: "local",
  });
  return c.redirect("/console", 303);
}

/** Sign-out: the session row is revoked, then the issuer's own logout if it has one (so its session ends too). */
async function signOut(c: Context<AppEnv>, deps: ConsoleDeps, opts: SignInOptions) {
  const viewer = c.get("console");
  if (!viewer) throw new AppError(401, "unauthorized", "sign in to the console first");
  const ended = await deps.sessions.end(c, viewer);
  await auditSignIn(c, deps.admin.sql, "console.signed_out", viewer.email ?? viewer.subject, viewer, {
    issuer: viewer.issuer,
  });
  const signInPage = `${publicOrigin(c, opts.publicUrl)}/console/sign-in`;
  if (opts.oidc && viewer.issuer === opts.oidc.settings.issuer) {
    const logout = await opts.oidc.endSessionUrl(ended?.idToken ?? null, signInPage);
    if (logout) return leaveForIssuer(c, logout);
  }
  return c.redirect("/console/sign-in", 303);
}
