import {
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  buildEndSessionUrl,
  ClientSecretBasic,
  type Configuration,
  calculatePKCECodeChallenge,
  discovery,
  None,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
} from "openid-client";
import type { ConsoleAuthorization } from "../../db/platform-console";

/**
 * The console's OpenID Connect client (openid-client 6): discovery once per process (a failed discovery is
 * forgotten, so the next sign-in tries again instead of the console staying broken until a restart), then
 * the authorization code flow with PKCE (S256), state and nonce, all checked by the library. The redirect
 * URI is the caller's (configured, or this host's: see routes.tsx).
 */

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Unset: a public client (PKCE alone). */
  clientSecret?: string | undefined;
  scopes: string;
  /** Plain-http issuers (local emulator); never in production (config refuses it). */
  allowHttp: boolean;
}

/** What the issuer vouched for in the id_token. */
export interface OidcClaims {
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
  idToken: string | undefined;
}

export type OidcClient = ReturnType<typeof oidcClient>;

export function oidcClient(settings: OidcSettings) {
  let discovered: Promise<Configuration> | undefined;
  const configuration = () => {
    discovered ??= discover(settings).catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  };

  return {
    settings,
    /** The issuer's authorization URL and what the callback must find again (kept server-side). */
    async start(
      returnTo: string | null,
      redirectUri: string,
    ): Promise<{ url: URL; authorization: ConsoleAuthorization }> {
      const config = await configuration();
      const authorization = {
        state: randomState(),
        nonce: randomNonce(),
        codeVerifier: randomPKCECodeVerifier(),
        returnTo,
      };
      const url = buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        state: authorization.state,
        nonce: authorization.nonce,
        code_challenge: await calculatePKCECodeChallenge(authorization.codeVerifier),
        code_challenge_method: "S256",
      });
      return { url, authorization };
    },

    /** Redeems the callback's code; throws when the state, nonce, verifier or id_token do not check out. */
    async finish(
      callbackQuery: string,
      authorization: ConsoleAuthorization,
      redirectUri: string,
    ): Promise<OidcClaims> {
      const config = await configuration();
      const current = new URL(redirectUri);
      current.search = callbackQuery;
      // The redirect_uri sent to the token endpoint is this URL without its query: the one the flow started with.
      const tokens = await authorizationCodeGrant(config, current, {
        pkceCodeVerifier: authorization.codeVerifier,
        expectedState: authorization.state,
        expectedNonce: authorization.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error("the issuer sent no id_token");
      return {
        subject: claims.sub,
        email: typeof claims.email === "string" ? claims.email : undefined,
        emailVerified: claims.email_verified === true,
        name: typeof claims.name === "string" ? claims.name : undefined,
        idToken: tokens.id_token,
      };
    },

    /** The issuer's logout URL (RP-initiated logout), if it has one. */
    async endSessionUrl(idToken: string | null, postLogoutRedirect: string): Promise<URL | undefined> {
      const config = await configuration().catch(() => undefined);
      if (!config?.serverMetadata().end_session_endpoint) return undefined;
      return buildEndSessionUrl(config, {
        ...(idToken ? { id_token_hint: idToken } : {}),
        client_id: settings.clientId,
        post_logout_redirect_uri: postLogoutRedirect,
      });
    },
  };
}

function discover(settings: OidcSettings): Promise<Configuration> {
  const auth = settings.clientSecret ? ClientSecretBasic(settings.clientSecret) : None();
  return discovery(new URL(settings.issuer), settings.clientId, undefined, auth, {
    ...(settings.allowHttp ? { execute: [allowInsecureRequests] } : {}),
  });
}
