/**
 * A real OpenID provider in the test process, for the console's sign-in tests: `oidc-provider` (the certified
 * Node implementation) on 127.0.0.1, not a mock of one. Point an OpenID client at `issuer` (openid-client 6:
 * `discovery(new URL(op.issuer), op.client.clientId, op.client.clientSecret, ClientSecretBasic(secret),
 * { execute: [allowInsecureRequests] })` — the issuer is plain http).
 *
 * Covered: discovery, JWKS, authorization code with PKCE (S256, required), one confidential client
 * (client_secret_basic), scopes `openid email profile`, claims `email`, `email_verified`, `name` in the
 * id_token (RS256, a key generated per start) and from userinfo, token revocation, RP-initiated logout.
 *
 * No login form: whoever `signInAs(user)` names is the person at the provider. A login prompt signs them in
 * and the consent prompt is granted without a page; `signInAs(undefined)` cancels instead, so the client
 * gets `error=access_denied`. The provider keeps a session per browser (cookie), as a real one does: a
 * browser that signed in before is not asked again until it logs out; use a fresh browser (playwright
 * context, `op.agent()`) per person. Logout is confirmed automatically by a self-submitting page.
 *
 * Its cookies are named `op_*` so they cannot clash with the service's own cookies on 127.0.0.1 (cookies
 * are per host, not per port).
 *
 * Not covered: refresh tokens (`offline_access`), dynamic registration, introspection, pairwise subjects,
 * other client authentication methods.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import type Provider from "oidc-provider";
import type {
  AdapterPayload,
  Configuration,
  ErrorOut,
  Interaction,
  InteractionResults,
  KoaContextWithOIDC,
} from "oidc-provider";
import { OidcAgent } from "./oidc-agent";
import { memoryStore } from "./oidc-store";

export { OidcAgent } from "./oidc-agent";

/** A person at the provider. */
export interface OidcUser {
  /** The issuer's stable subject identifier. */
  sub: string;
  email: string;
  name: string;
  /** Default true. */
  emailVerified?: boolean;
}

export interface OidcProviderOptions {
  /** Default: any free port. */
  port?: number;
  clientId?: string;
  clientSecret?: string;
  /** The client's registered redirect URIs; can be set later with `setRedirectUris`. */
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** People the provider knows before anyone signs in (signInAs adds to them). */
  users?: OidcUser[];
}

/** One request the provider answered. */
export interface OidcRequest {
  method: string;
  path: string;
  /** oidc-provider's route name (`authorization`, `token`, `revocation`, `end_session_confirm` …), or `interaction`. */
  route: string | undefined;
  query: Record<string, string>;
  /** The parsed form body of POSTs to the provider's endpoints. */
  body: Record<string, unknown> | undefined;
  status: number;
}

export interface OidcClientSettings {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

export interface OidcProvider {
  /** `http://127.0.0.1:<port>` — the issuer identifier and base URL. */
  issuer: string;
  url: string;
  port: number;
  client: Readonly<OidcClientSettings>;
  /** Replaces the client's redirect URIs (e.g. once the service under test knows its port). */
  setRedirectUris(redirectUris: string[], postLogoutRedirectUris?: string[]): void;
  /** Who signs in at the next login prompt; `undefined`: the person cancels. */
  signInAs(user: OidcUser | undefined): void;
  /** People the provider knows, by subject. */
  users: Map<string, OidcUser>;
  requests: OidcRequest[];
  /** A new browser without a screen (own cookies) that follows the provider's redirects. */
  agent(): OidcAgent;
  close(): Promise<void>;
}

export async function startOidcProvider(opts: OidcProviderOptions = {}): Promise<OidcProvider> {
  const { default: Provider, errors } = await loadOidcProvider();
  const listening = await listen(opts.port ?? 0);
  const issuer = `http://127.0.0.1:${listening.port}`;
  const client: OidcClientSettings = {
    clientId: opts.clientId ?? "switchboard-console",
    clientSecret: opts.clientSecret ?? randomBytes(24).toString("base64url"),
    redirectUris: opts.redirectUris ?? [],
    postLogoutRedirectUris: opts.postLogoutRedirectUris ?? [],
  };
  const users = new Map((opts.users ?? []).map((u) => [u.sub, u]));
  const requests: OidcRequest[] = [];
  let person: OidcUser | undefined;

  const provider = await configuration(client, users).then(
    (config) => new Provider(issuer, config),
    async (error: unknown) => {
      await listening.close();
      throw error;
    },
  );
  provider.use(recordRequests(requests));
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    if (!/^\/interaction\/[\w-]+$/.test(ctx.path)) return next();
    try {
      await interact(provider, ctx, person, users);
    } catch (error) {
      if (!(error instanceof errors.OIDCProviderError)) throw error;
      ctx.status = error.status;
      ctx.type = "text/plain";
      ctx.body = `${error.error}: ${error.error_description ?? error.message}`;
    }
  });
  listening.server.on("request", provider.callback());

  return {
    issuer,
    url: issuer,
    port: listening.port,
    client,
    setRedirectUris(redirectUris, postLogoutRedirectUris = client.postLogoutRedirectUris) {
      client.redirectUris = [...redirectUris];
      client.postLogoutRedirectUris = [...postLogoutRedirectUris];
    },
    signInAs(user) {
      person = user;
    },
    users,
    requests,
    agent: () => new OidcAgent(issuer),
    close: listening.close,
  };
}

/**
 * oidc-provider 9 warns on the console at import that Node 20 is not its supported runtime (it wants 22+);
 * the repository runs Node 20 and this fixture works there, so that one line is kept out of test output.
 */
let loaded: Promise<typeof import("oidc-provider")> | undefined;
function loadOidcProvider(): Promise<typeof import("oidc-provider")> {
  loaded ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).includes("oidc-provider WARNING: Unsupported runtime")) warn(...args);
    };
    try {
      return await import("oidc-provider");
    } finally {
      console.warn = warn;
    }
  })();
  return loaded;
}

async function configuration(
  client: OidcClientSettings,
  users: Map<string, OidcUser>,
): Promise<Configuration> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: randomBytes(8).toString("hex"),
    alg: "RS256",
    use: "sig",
  };
  return {
    // The client comes from the store (oidc-store.ts), so its redirect URIs can change after start.
    adapter: memoryStore((id) => (id === client.clientId ? clientMetadata(client) : undefined)),
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [randomBytes(32).toString("base64url")],
      names: { session: "op_session", interaction: "op_interaction", resume: "op_interaction_resume" },
    },
    scopes: ["openid", "email", "profile"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Put the scope-requested claims in the id_token, as Google and the other issuers the console targets do
    // (oidc-provider's default keeps them for userinfo only).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: async (_ctx, c, token) => token.clientId === c.clientId },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    // The client signs in from its server: no browser script calls the provider across origins.
    clientBasedCORS: () => false,
    findAccount: (_ctx, sub) => {
      const user = users.get(sub);
      return user && { accountId: sub, claims: () => claimsOf(user) };
    },
    renderError,
    // Numbers instead of oidc-provider's default functions (which print a notice on first use).
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400,
    },
  };
}

function clientMetadata(client: OidcClientSettings): AdapterPayload {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    id_token_signed_response_alg: "RS256",
  };
}

function claimsOf(user: OidcUser) {
  return { sub: user.sub, email: user.email, email_verified: user.emailVerified ?? true, name: user.name };
}

/** The person at the provider answers its prompt: logs in as `person`, consents, or cancels. */
async function interact(
  provider: Provider,
  ctx: KoaContextWithOIDC,
  person: OidcUser | undefined,
  users: Map<string, OidcUser>,
): Promise<void> {
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  const prompt = interaction.prompt.name;
  let result: InteractionResults;
  if (!person) {
    result = { error: "access_denied", error_description: "The user cancelled the sign-in" };
  } else if (prompt === "login") {
    users.set(person.sub, person);
    result = { login: { accountId: person.sub } };
  } else if (prompt === "consent") {
    result = { consent: { grantId: await grantConsent(provider, interaction) } };
  } else {
    throw new Error(`the test OpenID provider cannot answer the prompt "${prompt}"`);
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: prompt !== "login",
  });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

/** Grants what the consent prompt says is missing (the requested scopes and claims). */
async function grantConsent(provider: Provider, interaction: Interaction): Promise<string> {
  const { details } = interaction.prompt;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({
        accountId: interaction.session?.accountId,
        clientId: String(interaction.params.client_id),
      });
  if (!grant) throw new Error("the interaction's grant is gone");
  if (Array.isArray(details.missingOIDCScope)) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (Array.isArray(details.missingOIDCClaims)) grant.addOIDCClaims(details.missingOIDCClaims);
  return grant.save();
}

function recordRequests(requests: OidcRequest[]) {
  return async function record(ctx: KoaContextWithOIDC, next: () => Promise<unknown>) {
    try {
      await next();
    } finally {
      const interaction = ctx.path.startsWith("/interaction/");
      requests.push({
        method: ctx.method,
        path: ctx.path,
        route: interaction ? "interaction" : ctx.oidc?.route,
        query: Object.fromEntries(new URLSearchParams(ctx.querystring)),
        body: interaction ? undefined : (ctx.oidc?.body as Record<string, unknown> | undefined),
        status: ctx.status,
      });
    }
  };
}

/** Confirms the logout by itself: the page posts oidc-provider's form (with its xsrf token) on load. */
async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const confirmed = form.replace("</form>", '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.type = "html";
  ctx.body = page("Signing out", `${confirmed}<script>document.forms[0].submit()</script>`);
}

async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.type = "html";
  ctx.body = page("Signed out", "<h1>Signed out</h1>");
}

async function renderError(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  ctx.type = "html";
  const lines = Object.entries(out).map(
    ([key, value]) => `<p>${escapeHtml(key)}: ${escapeHtml(String(value))}</p>`,
  );
  ctx.body = page("Sign-in error", `<h1>Sign-in error</h1>${lines.join("")}`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Listening {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** The HTTP server first (the issuer URL needs its port); sockets tracked so close() never hangs. */
async function listen(port: number): Promise<Listening> {
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("OpenID provider has no TCP address");
  let closed: Promise<void> | undefined;
  return {
    server,
    port: address.port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
