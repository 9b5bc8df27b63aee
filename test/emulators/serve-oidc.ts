import { LOCAL_ADMIN } from "../../service/src/console/sign-in/local-link";
import { startOidcProvider } from "./oidc";

/**
 * The OpenID provider for `npm run emulators` (serve.ts): the console's real sign-in flow on a laptop. Its
 * one person is the local platform admin `npm start` creates (matched by subject), so signing in here lands
 * on the console as that admin. Fixed port and client secret, so the printed variables stay valid.
 */
export async function startOidcEmulator(port = 4030, servicePort = Number(process.env.PORT ?? 8080)) {
  const origins = [`http://localhost:${servicePort}`, `http://127.0.0.1:${servicePort}`];
  const op = await startOidcProvider({
    port,
    clientId: "switchboard-console",
    clientSecret: "local-console-client-secret",
    redirectUris: origins.map((o) => `${o}/console/auth/callback`),
    postLogoutRedirectUris: origins.map((o) => `${o}/console/sign-in`),
  });
  op.signInAs({ sub: LOCAL_ADMIN.subject, email: LOCAL_ADMIN.email, name: "Local admin" });
  const instructions = `OpenID provider on ${op.issuer} (the console's sign-in, docs/console.md). Start Switchboard with:

  OIDC_ISSUER=${op.issuer} OIDC_CLIENT_ID=${op.client.clientId} OIDC_CLIENT_SECRET=${op.client.clientSecret} npm start

and open http://localhost:${servicePort}/console: "Sign in with 127.0.0.1:${port}" signs you in as ${LOCAL_ADMIN.email}
(the platform admin an earlier \`npm start\` without OIDC_ISSUER created), no password asked.
`;
  return { op, instructions };
}
