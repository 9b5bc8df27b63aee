import { ASSISTANT_ROUTES } from "./tenant-assistant-routes";
import { CONTACTS_ROUTES } from "./tenant-contacts-http-rows";
import { EMAIL_ROUTES } from "./tenant-email-routes";
import { ESCALATION_ROUTES } from "./tenant-escalation-routes";
import { type SeededTenant, SHARED } from "./tenant-fixtures";
import { WEBHOOK_ROUTES } from "./tenant-webhooks-routes";

/**
 * The rows of tenant-http-isolation.test.ts: each calls one route (`route`, as the OpenAPI document names
 * it) as a caller of tenant A with B's ids. A refused row (`status`) must answer one of those statuses,
 * hold nothing of B's and leave B's rows as they were. An allowed row (`sees`) is a control: the platform
 * admin sees B's data, A sees its own; without them every refusal could be a broken credential.
 */

export interface Callers {
  /** A default-tenant guest's session token. */
  defaultGuest: Record<string, string>;
  /** A default-tenant user whose identity id is that of B's user (same issuer and `sub`). */
  defaultAlice: Record<string, string>;
  /** A's tenant admin (a user JWT with A's tenant claim), listed in A's users. */
  aAdmin: Record<string, string>;
  /** A's widget key and a guest token A gave out. */
  aWidget: Record<string, string>;
  /** A's widget key and A's user with the same identity id as B's user. */
  aAlice: Record<string, string>;
  /** A's widget key with a guest token B gave out. */
  aKeyBToken: Record<string, string>;
  platform: Record<string, string>;
}

export interface Ids {
  a: SeededTenant;
  b: SeededTenant;
  /** A session A's widget guest started over HTTP. */
  aWidgetSessionId: string;
}

export interface RouteRow {
  name: string;
  /** `METHOD /path/{param}` as in GET /openapi.json. */
  route: string;
  path(ids: Ids): string;
  as: keyof Callers;
  body?(ids: Ids): unknown;
  /** A refusal: one of these statuses, nothing of B's, B unchanged. */
  status?: number[];
  /** A control: 200, and the body holds this. */
  sees?(ids: Ids): string;
}

const T = "/api/v1/admin/tenants";
const intercom = (appId: string) => ({
  kind: "intercom",
  appId,
  clientSecret: "alpha-s",
  accessToken: "alpha-t",
});

/** The tenant routes with B's id in the path: 404 as for a tenant that does not exist (403 for platform-only). */
const onBsPath: RouteRow[] = [
  {
    name: "POST a tenant",
    route: "POST /api/v1/admin/tenants",
    path: () => T,
    body: () => ({ slug: "alpha2", name: "x" }),
    status: [403],
    as: "aAdmin",
  },
  {
    name: "GET the tenant list",
    route: "GET /api/v1/admin/tenants",
    path: () => T,
    status: [403],
    as: "aAdmin",
  },
  { name: "GET B", route: `GET ${T}/{id}`, path: ({ b }) => `${T}/${b.id}`, status: [404], as: "aAdmin" },
  {
    name: "PATCH B (suspend)",
    route: `PATCH ${T}/{id}`,
    path: ({ b }) => `${T}/${b.id}`,
    body: () => ({ status: "suspended" }),
    status: [403],
    as: "aAdmin",
  },
  {
    name: "rotate B's widget key",
    route: `POST ${T}/{id}/widget-key`,
    path: ({ b }) => `${T}/${b.id}/widget-key`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's settings",
    route: `GET ${T}/{id}/settings`,
    path: ({ b }) => `${T}/${b.id}/settings`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "PATCH B's settings",
    route: `PATCH ${T}/{id}/settings`,
    path: ({ b }) => `${T}/${b.id}/settings`,
    body: () => ({ systemPrompt: "alpha" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's documents",
    route: `GET ${T}/{id}/knowledge`,
    path: ({ b }) => `${T}/${b.id}/knowledge`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's document",
    route: `GET ${T}/{id}/knowledge/{slug}`,
    path: ({ b }) => `${T}/${b.id}/knowledge/${b.ownDocumentSlug}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "PUT a document into B",
    route: `PUT ${T}/{id}/knowledge/{slug}`,
    path: ({ b }) => `${T}/${b.id}/knowledge/${b.ownDocumentSlug}`,
    body: () => "# alpha\n\nalpha",
    status: [404],
    as: "aAdmin",
  },
  {
    name: "DELETE B's document",
    route: `DELETE ${T}/{id}/knowledge/{slug}`,
    path: ({ b }) => `${T}/${b.id}/knowledge/${b.ownDocumentSlug}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's users",
    route: `GET ${T}/{id}/users`,
    path: ({ b }) => `${T}/${b.id}/users`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "POST a user into B",
    route: `POST ${T}/{id}/users`,
    path: ({ b }) => `${T}/${b.id}/users`,
    body: () => ({ subject: "alpha-spy", role: "tenant_admin" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "PATCH B's user",
    route: `PATCH ${T}/{id}/users/{userId}`,
    path: ({ b }) => `${T}/${b.id}/users/${b.tenantUserId}`,
    body: () => ({ role: "agent" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "DELETE B's user",
    route: `DELETE ${T}/{id}/users/{userId}`,
    path: ({ b }) => `${T}/${b.id}/users/${b.tenantUserId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's usage",
    route: `GET ${T}/{id}/usage`,
    path: ({ b }) => `${T}/${b.id}/usage?format=csv`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's channels",
    route: `GET ${T}/{id}/channels`,
    path: ({ b }) => `${T}/${b.id}/channels`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "POST a channel into B",
    route: `POST ${T}/{id}/channels`,
    path: ({ b }) => `${T}/${b.id}/channels`,
    body: () => intercom("alpha-new-app"),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "rotate B's channel credentials",
    route: `PUT ${T}/{id}/channels/{channelId}/credentials`,
    path: ({ b }) => `${T}/${b.id}/channels/${b.channelConnectionId}/credentials`,
    body: () => ({ token: "alpha" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "DELETE B's channel",
    route: `DELETE ${T}/{id}/channels/{channelId}`,
    path: ({ b }) => `${T}/${b.id}/channels/${b.channelConnectionId}`,
    status: [404],
    as: "aAdmin",
  },
  // Voice URL token (issue 14): re-issued on B's path, or on A's path naming B's channel.
  {
    name: "re-issue B's voice URL token",
    route: `POST ${T}/{id}/channels/{channelId}/voice-token`,
    path: ({ b }) => `${T}/${b.id}/channels/${b.channelConnectionId}/voice-token`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET the texts of B's customer",
    route: `GET ${T}/{id}/contacts/phone/{phone}/texts`,
    path: ({ b }) => `${T}/${b.id}/contacts/phone/${encodeURIComponent(SHARED.phone)}/texts`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "erase B's texting customer",
    route: `DELETE ${T}/{id}/contacts/phone/{phone}`,
    path: ({ b }) => `${T}/${b.id}/contacts/phone/${encodeURIComponent(SHARED.phone)}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET the audit log of every tenant",
    route: "GET /api/v1/admin/audit",
    path: ({ b }) => `/api/v1/admin/audit?tenantId=${b.id}`,
    status: [403],
    as: "aAdmin",
  },
  {
    name: "GET B's audit log",
    route: `GET ${T}/{id}/audit`,
    path: ({ b }) => `${T}/${b.id}/audit`,
    status: [404],
    as: "aAdmin",
  },
];

/** A's own path with B's resource ids: row-level security hides them (404), as ids A never had. */
const onAsPath: RouteRow[] = [
  {
    name: "GET B's document by slug",
    route: `GET ${T}/{id}/knowledge/{slug}`,
    path: ({ a, b }) => `${T}/${a.id}/knowledge/${b.ownDocumentSlug}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "DELETE B's document by slug",
    route: `DELETE ${T}/{id}/knowledge/{slug}`,
    path: ({ a, b }) => `${T}/${a.id}/knowledge/${b.ownDocumentSlug}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "PATCH B's user by id",
    route: `PATCH ${T}/{id}/users/{userId}`,
    path: ({ a, b }) => `${T}/${a.id}/users/${b.tenantUserId}`,
    body: () => ({ role: "agent" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "DELETE B's user by id",
    route: `DELETE ${T}/{id}/users/{userId}`,
    path: ({ a, b }) => `${T}/${a.id}/users/${b.tenantUserId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "rotate B's channel by id",
    route: `PUT ${T}/{id}/channels/{channelId}/credentials`,
    path: ({ a, b }) => `${T}/${a.id}/channels/${b.channelConnectionId}/credentials`,
    body: () => ({ token: "alpha" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "DELETE B's channel by id",
    route: `DELETE ${T}/{id}/channels/{channelId}`,
    path: ({ a, b }) => `${T}/${a.id}/channels/${b.channelConnectionId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "re-issue B's voice URL token by id",
    route: `POST ${T}/{id}/channels/{channelId}/voice-token`,
    path: ({ a, b }) => `${T}/${a.id}/channels/${b.channelConnectionId}/voice-token`,
    status: [404],
    as: "aAdmin",
  },
  // Public ids are unique across tenants (docs/tenants.md): A learns that the id is taken, nothing else.
  {
    name: "POST a channel with B's public id",
    route: `POST ${T}/{id}/channels`,
    path: ({ a }) => `${T}/${a.id}/channels`,
    body: ({ b }) => intercom(b.channelPublicId),
    status: [409],
    as: "aAdmin",
  },
];

const chat: RouteRow[] = [
  {
    name: "GET B's session messages",
    route: "GET /api/v1/sessions/{id}/messages",
    path: ({ b }) => `/api/v1/sessions/${b.sessionId}/messages`,
    status: [404],
    as: "defaultGuest",
  },
  {
    name: "GET B's user's session messages (same identity id)",
    route: "GET /api/v1/sessions/{id}/messages",
    path: ({ b }) => `/api/v1/sessions/${b.sharedUserSessionId}/messages`,
    status: [404],
    as: "defaultAlice",
  },
  {
    name: "POST a turn continuing B's user's session (same identity id)",
    route: "POST /api/v1/chat",
    path: () => "/api/v1/chat",
    body: ({ b }) => ({ message: "what did I say before?", sessionId: b.sharedUserSessionId }),
    status: [404],
    as: "defaultAlice",
  },
  {
    name: "POST a turn continuing B's session",
    route: "POST /api/v1/chat",
    path: () => "/api/v1/chat",
    body: ({ b }) => ({ message: "hello", sessionId: b.sessionId }),
    status: [404],
    as: "defaultGuest",
  },
  {
    name: "POST a turn continuing B's session",
    route: "POST /api/v1/chat",
    path: () => "/api/v1/chat",
    body: ({ b }) => ({ message: "hello", sessionId: b.sessionId }),
    status: [404],
    as: "aWidget",
  },
  {
    name: "GET B's session messages",
    route: "GET /api/v1/sessions/{id}/messages",
    path: ({ b }) => `/api/v1/sessions/${b.sessionId}/messages`,
    status: [404],
    as: "aWidget",
  },
  {
    name: "GET B's user's session messages (same identity id)",
    route: "GET /api/v1/sessions/{id}/messages",
    path: ({ b }) => `/api/v1/sessions/${b.sharedUserSessionId}/messages`,
    status: [404],
    as: "aAlice",
  },
  {
    name: "POST a turn continuing B's user's session (same identity id)",
    route: "POST /api/v1/chat",
    path: () => "/api/v1/chat",
    body: ({ b }) => ({ message: "hello", sessionId: b.sharedUserSessionId }),
    status: [404],
    as: "aAlice",
  },
  {
    name: "POST a turn with B's guest token",
    route: "POST /api/v1/chat",
    path: () => "/api/v1/chat",
    body: () => ({ message: "hello" }),
    status: [403],
    as: "aKeyBToken",
  },
  {
    name: "GET the widget's look",
    route: "GET /api/v1/widget/config",
    path: () => "/api/v1/widget/config",
    status: [200],
    as: "aWidget",
  },
];

/** Controls: the same kind of request succeeds where it should, so the refusals above are not vacuous. */
const controls: RouteRow[] = [
  {
    name: "the platform reads B",
    route: `GET ${T}/{id}`,
    path: ({ b }) => `${T}/${b.id}`,
    sees: ({ b }) => b.widgetKey,
    as: "platform",
  },
  {
    name: "the platform reads B's document",
    route: `GET ${T}/{id}/knowledge/{slug}`,
    path: ({ b }) => `${T}/${b.id}/knowledge/${b.ownDocumentSlug}`,
    sees: () => "bravo body",
    as: "platform",
  },
  {
    name: "the platform lists B's users",
    route: `GET ${T}/{id}/users`,
    path: ({ b }) => `${T}/${b.id}/users`,
    sees: ({ b }) => b.tenantUserId,
    as: "platform",
  },
  {
    name: "the platform lists B's channels",
    route: `GET ${T}/{id}/channels`,
    path: ({ b }) => `${T}/${b.id}/channels`,
    sees: ({ b }) => b.channelConnectionId,
    as: "platform",
  },
  {
    name: "the platform reads B's audit log",
    route: `GET ${T}/{id}/audit`,
    path: ({ b }) => `${T}/${b.id}/audit`,
    sees: () => "bravo-admin",
    as: "platform",
  },
  {
    name: "A's admin reads A's document",
    route: `GET ${T}/{id}/knowledge/{slug}`,
    path: ({ a }) => `${T}/${a.id}/knowledge/${a.ownDocumentSlug}`,
    sees: () => "alpha body",
    as: "aAdmin",
  },
  {
    name: "A's admin lists A's channels",
    route: `GET ${T}/{id}/channels`,
    path: ({ a }) => `${T}/${a.id}/channels`,
    sees: ({ a }) => a.channelConnectionId,
    as: "aAdmin",
  },
  {
    name: "A's widget guest reads its own session",
    route: "GET /api/v1/sessions/{id}/messages",
    path: ({ aWidgetSessionId }) => `/api/v1/sessions/${aWidgetSessionId}/messages`,
    sees: () => "alpha widget hello",
    as: "aWidget",
  },
  {
    name: "A's user reads A's session of the shared identity",
    route: "GET /api/v1/sessions/{id}/messages",
    path: ({ a }) => `/api/v1/sessions/${a.sharedUserSessionId}/messages`,
    sees: () => "alpha asks",
    as: "aAlice",
  },
];

/** Calls (voice): B's on B's path, B's call id on A's path, and the controls. */
const calls: RouteRow[] = [
  {
    name: "GET B's calls",
    route: `GET ${T}/{id}/calls`,
    path: ({ b }) => `${T}/${b.id}/calls?number=${encodeURIComponent(SHARED.phone)}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's call",
    route: `GET ${T}/{id}/calls/{callId}`,
    path: ({ b }) => `${T}/${b.id}/calls/${b.callId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's call by id on A's path",
    route: `GET ${T}/{id}/calls/{callId}`,
    path: ({ a, b }) => `${T}/${a.id}/calls/${b.callId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "the platform reads B's call",
    route: `GET ${T}/{id}/calls/{callId}`,
    path: ({ b }) => `${T}/${b.id}/calls/${b.callId}`,
    sees: () => "bravo caller words",
    as: "platform",
  },
  {
    name: "A's admin lists A's calls of the shared caller",
    route: `GET ${T}/{id}/calls`,
    path: ({ a }) => `${T}/${a.id}/calls?number=${encodeURIComponent(SHARED.phone)}`,
    sees: () => "alpha call summary",
    as: "aAdmin",
  },
];

export const ROUTES: RouteRow[] = [
  ...onBsPath,
  ...onAsPath,
  ...chat,
  ...controls,
  ...WEBHOOK_ROUTES,
  ...CONTACTS_ROUTES,
  ...ESCALATION_ROUTES,
  ...EMAIL_ROUTES,
  ...ASSISTANT_ROUTES,
  ...calls,
];

/** What only B stored: found in an answer to A (and not sent by A itself), it is a leak. */
export function bTraces(b: SeededTenant): string[] {
  return [
    ...[b.id, b.sessionId, b.sharedUserSessionId, b.intercomSessionId, b.widgetKey, b.tenantUserId],
    ...[b.channelConnectionId, b.secretKeyId, ...b.outboxIds],
    ...["bravo asks", "bravo body", "bravo title", "bravo knowledge body", "Tenant bravo"],
    ...["bravo@example.com", "bravo settings", "bravo-admin", "db-secret:bravo"],
    ...[b.personContactId, b.leadId, "bravo person", "bravo lead", "bravo call summary"],
    ...[b.escalationId, "bravo reason", "bravo summary", "bravo-agent", "db:bravo-slack"],
    ...[b.callId, "bravo caller words", "bravo call summary", "bravo insight"],
  ];
}
