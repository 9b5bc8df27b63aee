import type { Context } from "hono";
import type { ConsoleAuthorization } from "../../db/platform-console";
import type { AppEnv } from "../../http/app-env";
import type { ConsoleDeps } from "../deps";
import { auditSignIn } from "./audit";
import type { OidcClaims, OidcClient } from "./oidc";
import { SignInProblem } from "./pages";

/**
 * The end of an OpenID Connect sign-in, once the browser's own authorization was found: the issuer's answer
 * is checked (state, PKCE verifier, id_token signature, audience, nonce) by openid-client, then the person is
 * matched to Switchboard's users by subject, or by e-mail only where the issuer verified it.
 */
export async function finishOidcSignIn(
  c: Context<AppEnv>,
  deps: ConsoleDeps,
  flow: { oidc: OidcClient; authorization: ConsoleAuthorization; redirectUri: string },
) {
  const query = new URL(c.req.url).search;
  const denied = c.req.query("error");
  if (denied) return problem(c, "Sign-in cancelled", `The identity provider answered: ${denied}.`);
  let claims: OidcClaims;
  try {
    claims = await flow.oidc.finish(query, flow.authorization, flow.redirectUri);
  } catch (error) {
    deps.log.warn(
      { event: "console.oidc_rejected", err: error },
      "an OpenID Connect callback did not check out",
    );
    return problem(c, "Sign-in failed", "The identity provider's answer did not check out. Start again.");
  }
  const issuer = flow.oidc.settings.issuer;
  const person = {
    issuer,
    subject: claims.subject,
    email: claims.emailVerified ? claims.email : undefined,
    name: claims.name,
    idToken: claims.idToken,
  };
  const viewer = await deps.sessions.start(c, person);
  const actor = claims.email ?? claims.subject;
  if (!viewer) {
    await auditSignIn(c, deps.admin.sql, "console.sign_in_refused", actor, undefined, {
      issuer,
      subject: claims.subject,
      emailVerified: claims.emailVerified,
    });
    const unverified =
      claims.email && !claims.emailVerified ? " (the identity provider has not verified this address)" : "";
    return problem(
      c,
      "No Switchboard account",
      `There is no Switchboard account for ${actor}${unverified}.`,
      403,
    );
  }
  await auditSignIn(c, deps.admin.sql, "console.signed_in", viewer.email ?? actor, viewer, { issuer });
  return c.redirect(flow.authorization.returnTo ?? "/console", 303);
}

function problem(c: Context<AppEnv>, title: string, message: string, status: 400 | 403 = 400) {
  return c.html(
    <SignInProblem c={c} title={title}>
      {message}
    </SignInProblem>,
    status,
  );
}
