import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MailboxConnections } from "./channels/email/connection";
import type { InboundPipeline } from "./channels/pipeline/pipeline";
import { consoleAdminPrincipal, consoleRoutes } from "./console";
import type { ConsoleSessions } from "./console/session";
import type { SignInOptions } from "./console/sign-in/options";
import type { AppEnv } from "./http/app-env";
import type { Authenticator } from "./http/auth";
import { errorHandler, notFoundHandler } from "./http/error-handler";
import { applyMiddleware, type MiddlewareOptions } from "./http/middleware-stack";
import { createRouter } from "./http/router";
import type { InternalAuthOptions } from "./middleware/internal-auth";
import { privilegedCaller } from "./middleware/privileged-caller";
import { type AdminDeps, adminRoutes } from "./routes/admin";
import { type ChatRoutesDeps, chatRoutes } from "./routes/chat";
import { emailOAuthRoutes } from "./routes/email-oauth";
import { type EmailPushDeps, emailPushRoutes } from "./routes/email-push";
import { type HealthDeps, healthRoutes } from "./routes/health";
import { intercomWebhookRoutes } from "./routes/intercom";
import { type IntercomAdminDeps, intercomAdminRoutes } from "./routes/intercom-admin";
import { type InternalDeps, internalRoutes } from "./routes/internal";
import { type SmsWebhookDeps, smsWebhookRoutes } from "./routes/sms";
import { type VoiceWebhookDeps, voiceWebhookRoutes } from "./routes/voice";
import { widgetRoutes } from "./routes/widget";
import { widgetConfigRoutes } from "./routes/widget-config";

export interface AppDeps extends Omit<MiddlewareOptions, "role"> {
  chat: Omit<ChatRoutesDeps, "auth">;
  health: HealthDeps;
  /** The inbound pipeline of the asynchronous channels (their webhooks and tasks); undefined: none configured. */
  pipeline: InboundPipeline | undefined;
  internal: Omit<InternalDeps, "auth" | "pipeline">;
  intercom: { admin: Omit<IntercomAdminDeps, "auth" | "adminApiKey"> };
  /** The SMS providers' webhooks (Twilio, Telnyx, Voxie); absent in tests of other parts. */
  sms?: SmsWebhookDeps;
  /** Tenants' Telnyx AI assistants' webhooks; absent in tests of other parts. */
  voice?: VoiceWebhookDeps;
  /** Gmail's Pub/Sub pushes (tenants' mailboxes); absent in tests of other parts. */
  emailPush?: EmailPushDeps;
  /**
   * The admin API under /api/v1/admin (tenants, settings, knowledge, users, usage, channels, audit);
   * undefined in tests of other parts, which then have no admin API.
   */
  admin?: Omit<AdminDeps, "auth" | "adminApiKey">;
  /** The deployment's ADMIN_API_KEY: an admin credential besides admin user JWTs. */
  adminApiKey: string | undefined;
  /** Who may call /internal/*: Google OIDC tokens of the invoker, or the local shared secret. */
  internalAuth: InternalAuthOptions;
  /** The e-mail channel's OAuth callback (connecting a mailbox); absent in tests of other parts. */
  emailOAuth?: MailboxConnections | undefined;
  /** The web console's sessions (console/session.ts); absent (or without the admin API): no console. */
  console?: { sessions: ConsoleSessions; signIn?: SignInOptions | undefined } | undefined;
  /** Which part of the surface this process serves. @default "all" */
  role?: MiddlewareOptions["role"];
}

/**
 * The whole HTTP surface: middleware, routes, and one error mapping. It does no I/O of its own (the
 * parts it is given do), so a test builds it with fakes and calls it through `app.request()`.
 */
export function createApp(deps: AppDeps) {
  const app = createRouter();
  const role = deps.role ?? "all";
  applyMiddleware(app, { ...deps, role });
  mountRoutes(app, deps, role);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Switchboard",
      version: deps.health.version,
      description: "Chat endpoint, Intercom bridge and health of the Switchboard service.",
    },
  });
  app.notFound(notFoundHandler);
  app.onError(errorHandler(deps.log));
  return app;
}

function mountRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps, role: MiddlewareOptions["role"]) {
  const auth: Authenticator = deps.auth;
  const admin = { adminApiKey: deps.adminApiKey, auth };
  const privileged = privilegedCaller({ admin, internal: deps.internalAuth });
  // The worker has internal ingress only: whoever reaches it is inside the project.
  const mayShowDetails = role === "worker" ? async () => true : privileged;
  app.route("/", healthRoutes({ ...deps.health, mayShowDetails }));
  app.route("/", chatRoutes({ ...deps.chat, auth }));
  app.route("/", intercomWebhookRoutes({ pipeline: deps.pipeline }));
  if (deps.sms) app.route("/", smsWebhookRoutes(deps.sms));
  if (deps.voice) app.route("/", voiceWebhookRoutes(deps.voice));
  if (deps.emailPush) app.route("/", emailPushRoutes(deps.emailPush));
  app.route("/", internalRoutes({ ...deps.internal, pipeline: deps.pipeline, auth: deps.internalAuth }));
  app.route("/", intercomAdminRoutes({ ...deps.intercom.admin, ...admin }));
  app.route("/", widgetConfigRoutes());
  const sessions = deps.admin ? deps.console?.sessions : undefined;
  const consoleSession = sessions ? consoleAdminPrincipal(sessions) : undefined;
  if (deps.admin) app.route("/", adminRoutes({ ...deps.admin, ...admin, consoleSession }));
  if (deps.admin && sessions)
    app.route(
      "/",
      consoleRoutes({ admin: deps.admin, sessions, log: deps.log, signIn: deps.console?.signIn }),
    );
  if (deps.emailOAuth) app.route("/", emailOAuthRoutes(deps.emailOAuth));
  app.route("/", widgetRoutes());
}
