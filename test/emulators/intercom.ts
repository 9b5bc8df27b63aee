/**
 * Intercom REST API emulator (API version 2.14) for `intercom-client` 7.x, plus signed webhook notifications.
 *
 * Point the real SDK at it with
 * `new IntercomClient({ token: emulator.token, baseUrl: emulator.url })` (`baseUrl` wins over `environment`).
 * The SDK retries 408/429/5xx twice by itself, waiting for `Retry-After` or, failing that, until
 * `X-RateLimit-Reset` when it lies in the future (capped at 60 s) — also for a 500, since every Intercom response
 * carries that header, so a retried 5xx waits for the end of the current 10 s window — else 1 s/2 s backoff.
 * Pass `maxRetries: 0` in tests that assert on a single failure.
 *
 * Covered of the real service:
 * - `GET /me` (the admin owning the token, with its `app`), `GET /admins`, `GET /teams`.
 * - `GET /conversations/{id}` (`display_as=plaintext` turns part/source bodies into text; at most the 500 most
 *   recent parts), `GET /conversations`, `POST /conversations/search` (nested AND/OR queries; operators
 *   `= != IN NIN > < ~ !~ ^ $` where `>`/`<` are "greater/lower or equal" as Intercom documents; fields `id,
 *   created_at, updated_at, waiting_since, snoozed_until, open, state, read, priority, admin_assignee_id,
 *   team_assignee_id, source.author.id, source.author.type, source.body, contact_ids, tag_ids`; cursor
 *   pagination `pagination: { per_page ≤ 150, starting_after }` → `pages.next.starting_after`; results sorted
 *   by `updated_at`, then id; search results carry no `conversation_parts`).
 * - `POST /conversations/{id}/reply` (admin `comment` / `note`, or a `user` reply that reopens the
 *   conversation), `POST /conversations/{id}/parts` (`assignment` to admin/team with `assignee_id` "0" to
 *   unassign, `close`, `open`, `snoozed` with `snoozed_until`), `POST /conversations/{id}/tags`,
 *   `DELETE /conversations/{id}/tags/{tag}` — all answer the updated conversation (the tag calls the tag).
 * - `POST /contacts` (409 `conflict` on a duplicate external_id/email), `GET|PUT|DELETE /contacts/{id}`,
 *   `POST /contacts/search` (same query language; contacts younger than `searchIndexDelayMs` are not yet
 *   searchable, like the real index lag).
 * - `POST /events` → 202 with an empty body; 404 "User Not Found" for an unknown user; keeps the first 10
 *   scalar metadata keys.
 * - `GET /tags`, `POST /tags` (create, or rename when `id` is given).
 * - Every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (unix seconds,
 *   end of the current 10-second window); exceeding `rateLimitPerWindow` → 429 `rate_limit_exceeded`.
 * - Errors are Intercom error lists: `{"type":"error.list","request_id","errors":[{"code","message"}]}`
 *   (401 `unauthorized` for a missing/wrong token, 404 `not_found`, 429, 5xx via `failNext`).
 *
 * `signedNotification(secret, topic, item)` builds a webhook delivery exactly as Intercom sends it: the
 * `notification_event` envelope and `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body>`;
 * `emulator.webhookItem(conversationId)` gives a realistic conversation item for it.
 *
 * Not covered: tickets, companies, articles, data attributes, messages, conversation creation through the
 * API, attachments, `last` as a conversation id, admin/tag validation beyond existence.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type EmulatorServer,
  isRecord,
  type RecordedRequest,
  sendJson,
  startEmulatorServer,
} from "./http-server";

export type { RecordedRequest } from "./http-server";

export interface IntercomAdmin {
  type: "admin";
  id: string;
  name: string;
  email: string;
}

export interface IntercomTeam {
  type: "team";
  id: string;
  name: string;
  admin_ids: number[];
}

export interface IntercomTag {
  type: "tag";
  id: string;
  name: string;
}

export interface IntercomAuthor {
  type: "user" | "lead" | "admin" | "bot" | "team";
  id: string;
  name: string | null;
  email: string | null;
}

export interface ConversationPartJson {
  type: "conversation_part";
  id: string;
  part_type: string;
  body: string | null;
  created_at: number;
  updated_at: number;
  notified_at: number;
  assigned_to: { type: "admin" | "team" | "nobody_admin"; id: string } | null;
  author: IntercomAuthor;
  attachments: unknown[];
  external_id: string | null;
  redacted: boolean;
}

export type ConversationState = "open" | "closed" | "snoozed";

export interface ConversationRecord {
  id: string;
  title: string | null;
  created_at: number;
  updated_at: number;
  waiting_since: number | null;
  snoozed_until: number | null;
  state: ConversationState;
  read: boolean;
  priority: "priority" | "not_priority";
  /** Intercom returns the admin assignee as a number and the team assignee as a string. */
  admin_assignee_id: number | null;
  team_assignee_id: string | null;
  source: {
    type: "conversation";
    id: string;
    delivered_as: string;
    subject: string;
    body: string;
    author: IntercomAuthor;
    attachments: unknown[];
    url: string | null;
    redacted: boolean;
  };
  contact_ids: string[];
  tag_ids: string[];
  parts: ConversationPartJson[];
  custom_attributes: Record<string, unknown>;
}

export interface ContactRecord {
  id: string;
  role: "user" | "lead";
  external_id: string | null;
  email: string | null;
  phone: string | null;
  name: string | null;
  created_at: number;
  updated_at: number;
  signed_up_at: number | null;
  last_seen_at: number | null;
  custom_attributes: Record<string, unknown>;
  /** Epoch ms when the contact becomes visible to `/contacts/search`. */
  searchableAt: number;
}

export interface EventRecord {
  event_name: string;
  created_at: number;
  contact_id: string;
  user_id?: string;
  email?: string;
  metadata: Record<string, unknown>;
}

export interface IntercomFault {
  status: 400 | 401 | 403 | 404 | 408 | 429 | 500 | 502 | 503 | 504;
  /** Only requests whose path contains this string (default: any). */
  pathIncludes?: string;
  /** For 429: seconds until `X-RateLimit-Reset` (default: the end of the current 10 s window, at least 1 s). */
  resetInSeconds?: number;
  code?: string;
  message?: string;
}

export interface IntercomEmulatorOptions {
  token?: string;
  appId?: string;
  /** Requests allowed per 10-second window before 429s (default 1,666 ≈ 10,000/min). */
  rateLimitPerWindow?: number;
  /** How long a new contact stays invisible to `/contacts/search` (default 0). */
  searchIndexDelayMs?: number;
}

export interface IntercomEmulator {
  url: string;
  token: string;
  /**
   * Accepts another access token too (another app installed on this workspace, e.g. a tenant's own):
   * requests record which one they carried (`requests[].headers.authorization`).
   */
  acceptToken(token: string): void;
  appId: string;
  requests: RecordedRequest[];
  /** The admin that owns the token (`GET /me`): the bot. */
  botAdmin: IntercomAdmin;
  /** A human teammate and a support team, for handoffs. */
  humanAdmin: IntercomAdmin;
  supportTeam: IntercomTeam;
  admins: Map<string, IntercomAdmin>;
  teams: Map<string, IntercomTeam>;
  conversations: Map<string, ConversationRecord>;
  contacts: Map<string, ContactRecord>;
  tags: Map<string, IntercomTag>;
  events: EventRecord[];
  latencyMs: number;
  rateLimitPerWindow: number;
  searchIndexDelayMs: number;
  /** Unix seconds used for timestamps (default: the wall clock). */
  now: () => number;

  createContact(
    fields?: Partial<Pick<ContactRecord, "role" | "external_id" | "email" | "name" | "phone">>,
  ): ContactRecord;
  /** Creates a conversation started by a customer (creating the contact when `contact` is given as fields). */
  createConversation(opts: {
    body: string;
    contact?: string | Partial<Pick<ContactRecord, "role" | "external_id" | "email" | "name">>;
    title?: string;
    createdAt?: number;
  }): ConversationRecord;
  /** A customer reply (reopens a closed/snoozed conversation, sets `waiting_since`). Returns the part. */
  addCustomerMessage(conversationId: string, text: string): ConversationPartJson;
  /** A teammate reply typed in the Intercom inbox (not through the API). Returns the part. */
  addAdminReply(conversationId: string, adminId: string, text: string): ConversationPartJson;
  addAdmin(name: string, email: string): IntercomAdmin;
  addTeam(name: string, adminIds?: string[]): IntercomTeam;
  createTag(name: string): IntercomTag;

  conversation(conversationId: string): ConversationRecord;
  /** Admin/bot `comment` parts. */
  replies(conversationId: string): ConversationPartJson[];
  notes(conversationId: string): ConversationPartJson[];
  assignments(conversationId: string): ConversationPartJson[];
  conversationTags(conversationId: string): IntercomTag[];
  state(conversationId: string): ConversationState;

  /** A webhook `data.item` for a conversation: the conversation with only the selected parts (default: the last one, or none). */
  webhookItem(
    conversationId: string,
    opts?: { parts?: "last" | "none" | "all" | string[] },
  ): Record<string, unknown>;
  /** A webhook `data.item` for a contact. */
  contactItem(contactId: string): Record<string, unknown>;

  failNext(...faults: IntercomFault[]): void;
  reset(): void;
  close(): Promise<void>;
}

const WINDOW_SECONDS = 10;
const MAX_PARTS = 500;

/** Intercom's webhook delivery: the notification envelope and its `X-Hub-Signature` (HMAC-SHA1 of the raw body). */
export function signedNotification(
  secret: string,
  topic: string,
  item: unknown,
  opts: {
    appId?: string;
    id?: string;
    deliveryAttempts?: number;
    createdAt?: number;
    firstSentAt?: number;
  } = {},
): { body: string; headers: { "X-Hub-Signature": string; "Content-Type": string }; id: string } {
  const createdAt = opts.createdAt ?? Math.floor(Date.now() / 1000);
  const id = opts.id ?? `notif_${randomUUID()}`;
  const envelope = {
    type: "notification_event",
    app_id: opts.appId ?? "emuapp01",
    data: { type: "notification_event_data", item },
    links: {},
    id,
    topic,
    delivery_status: "pending",
    delivery_attempts: opts.deliveryAttempts ?? 1,
    delivered_at: 0,
    first_sent_at: opts.firstSentAt ?? createdAt,
    created_at: createdAt,
    self: null,
  };
  const body = JSON.stringify(envelope);
  return {
    body,
    headers: { "X-Hub-Signature": signIntercomBody(secret, body), "Content-Type": "application/json" },
    id,
  };
}

/** Intercom announcing a customer's new conversation to the service's webhook, signed with `secret`. */
export function postNewConversation(
  serviceUrl: string,
  secret: string,
  intercom: Pick<IntercomEmulator, "webhookItem">,
  conversationId: string,
): Promise<Response> {
  const n = signedNotification(
    secret,
    "conversation.user.created",
    intercom.webhookItem(conversationId, { parts: "none" }),
  );
  return fetch(`${serviceUrl}/webhooks/intercom`, { method: "POST", headers: n.headers, body: n.body });
}

/** `sha1=<hex>` HMAC-SHA1 of the raw body, keyed with the app's client secret. */
export function signIntercomBody(secret: string, rawBody: string | Buffer): string {
  return `sha1=${createHmac("sha1", secret).update(rawBody).digest("hex")}`;
}

export function toPlaintext(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>\s*<p[^>]*>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .trim();
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function errorList(code: string, message: string): Record<string, unknown> {
  return {
    type: "error.list",
    request_id: randomUUID().replace(/-/g, "").slice(0, 20),
    errors: [{ code, message }],
  };
}

const FAULT_DEFAULTS: Record<number, { code: string; message: string }> = {
  400: { code: "parameter_invalid", message: "Invalid parameters" },
  401: { code: "unauthorized", message: "Access Token Invalid" },
  403: { code: "api_plan_restricted", message: "Active subscription needed." },
  404: { code: "not_found", message: "Resource Not Found" },
  408: { code: "request_timeout", message: "Request Timeout" },
  429: { code: "rate_limit_exceeded", message: "You have exceeded the rate limit. Please try again later." },
  500: { code: "server_error", message: "Server Error" },
  502: { code: "server_error", message: "Bad Gateway" },
  503: { code: "service_unavailable", message: "Service Unavailable" },
  504: { code: "server_error", message: "Gateway Timeout" },
};

type SearchNode = { field?: unknown; operator?: unknown; value?: unknown };

export async function startIntercomEmulator(opts: IntercomEmulatorOptions = {}): Promise<IntercomEmulator> {
  const token = opts.token ?? "emulator-intercom-token";
  const acceptedTokens = new Set([token]);
  const appId = opts.appId ?? "emuapp01";
  const faults: IntercomFault[] = [];
  let server: EmulatorServer | undefined;
  let idCounter = 0;
  let windowStart = 0;
  let windowCount = 0;

  const nextNumericId = (base: number) => {
    idCounter += 1;
    return String(base + idCounter);
  };
  const nextContactId = () => {
    idCounter += 1;
    return `6657${idCounter.toString(16).padStart(20, "0")}`;
  };

  const admins = new Map<string, IntercomAdmin>();
  const teams = new Map<string, IntercomTeam>();
  const conversations = new Map<string, ConversationRecord>();
  const contacts = new Map<string, ContactRecord>();
  const tags = new Map<string, IntercomTag>();
  const events: EventRecord[] = [];

  const emulator = {} as IntercomEmulator;

  function seedDefaults(): void {
    admins.clear();
    teams.clear();
    const bot: IntercomAdmin = {
      type: "admin",
      id: "991267001",
      name: "Switchboard Bot",
      email: "bot@example.com",
    };
    const human: IntercomAdmin = {
      type: "admin",
      id: "991267002",
      name: "Dana Support",
      email: "dana@example.com",
    };
    admins.set(bot.id, bot);
    admins.set(human.id, human);
    const team: IntercomTeam = {
      type: "team",
      id: "5017691",
      name: "Support",
      admin_ids: [Number(human.id)],
    };
    teams.set(team.id, team);
    emulator.botAdmin = bot;
    emulator.humanAdmin = human;
    emulator.supportTeam = team;
  }

  const now = () => emulator.now();

  function contactAuthor(contact: ContactRecord | undefined): IntercomAuthor {
    return {
      type: contact?.role === "lead" ? "lead" : "user",
      id: contact?.id ?? "",
      name: contact?.name ?? null,
      email: contact?.email ?? null,
    };
  }

  function adminAuthor(admin: IntercomAdmin): IntercomAuthor {
    // Parts written through the API are authored by the admin whose admin_id was sent, the bot's own replies
    // included (type "bot" is Intercom's own automation), so a bridge must recognise its parts by admin id.
    return {
      type: "admin",
      id: admin.id,
      name: admin.name,
      email: admin.email,
    };
  }

  function newPart(
    conv: ConversationRecord,
    partType: string,
    author: IntercomAuthor,
    body: string | null,
    assignedTo: ConversationPartJson["assigned_to"] = null,
  ): ConversationPartJson {
    const t = now();
    const part: ConversationPartJson = {
      type: "conversation_part",
      id: nextNumericId(30_000_000_000),
      part_type: partType,
      body,
      created_at: t,
      updated_at: t,
      notified_at: t,
      assigned_to: assignedTo,
      author,
      attachments: [],
      external_id: null,
      redacted: false,
    };
    conv.parts.push(part);
    conv.updated_at = t;
    return part;
  }

  function createContact(fields: Partial<ContactRecord> = {}): ContactRecord {
    const t = now();
    const contact: ContactRecord = {
      id: nextContactId(),
      role: fields.role ?? "user",
      external_id: fields.external_id ?? null,
      email: fields.email ?? null,
      phone: fields.phone ?? null,
      name: fields.name ?? null,
      created_at: t,
      updated_at: t,
      signed_up_at: fields.role === "lead" ? null : t,
      last_seen_at: null,
      custom_attributes: fields.custom_attributes ?? {},
      searchableAt: Date.now() + emulator.searchIndexDelayMs,
    };
    contacts.set(contact.id, contact);
    return contact;
  }

  function getConversation(id: string): ConversationRecord {
    const conv = conversations.get(id);
    if (!conv) throw new Error(`intercom emulator: no conversation ${id}`);
    return conv;
  }

  function contactJson(c: ContactRecord): Record<string, unknown> {
    return {
      type: "contact",
      id: c.id,
      workspace_id: appId,
      external_id: c.external_id,
      role: c.role,
      email: c.email,
      email_domain: c.email?.split("@")[1] ?? null,
      phone: c.phone,
      formatted_phone: c.phone,
      name: c.name,
      owner_id: null,
      has_hard_bounced: false,
      marked_email_as_spam: false,
      unsubscribed_from_emails: false,
      created_at: c.created_at,
      updated_at: c.updated_at,
      signed_up_at: c.signed_up_at,
      last_seen_at: c.last_seen_at,
      last_replied_at: null,
      last_contacted_at: null,
      last_email_opened_at: null,
      last_email_clicked_at: null,
      language_override: null,
      browser: null,
      browser_version: null,
      browser_language: null,
      os: null,
      location: {
        type: "location",
        country: null,
        region: null,
        city: null,
        country_code: null,
        continent_code: null,
      },
      android_app_name: null,
      android_app_version: null,
      android_device: null,
      android_os_version: null,
      android_sdk_version: null,
      android_last_seen_at: null,
      ios_app_name: null,
      ios_app_version: null,
      ios_device: null,
      ios_os_version: null,
      ios_sdk_version: null,
      ios_last_seen_at: null,
      custom_attributes: c.custom_attributes,
      avatar: null,
      tags: { type: "list", data: [], url: `/contacts/${c.id}/tags`, total_count: 0, has_more: false },
      notes: { type: "list", data: [], url: `/contacts/${c.id}/notes`, total_count: 0, has_more: false },
      companies: {
        type: "list",
        data: [],
        url: `/contacts/${c.id}/companies`,
        total_count: 0,
        has_more: false,
      },
      opted_out_subscription_types: {
        type: "list",
        data: [],
        url: `/contacts/${c.id}/subscriptions`,
        total_count: 0,
        has_more: false,
      },
      opted_in_subscription_types: {
        type: "list",
        data: [],
        url: `/contacts/${c.id}/subscriptions`,
        total_count: 0,
        has_more: false,
      },
      utm_campaign: null,
      utm_content: null,
      utm_medium: null,
      utm_source: null,
      utm_term: null,
      referrer: null,
      sms_consent: false,
      email_opted_in: null,
      email_opted_in_at: null,
    };
  }

  function partJson(p: ConversationPartJson, plaintext: boolean): ConversationPartJson {
    return plaintext && p.body !== null ? { ...p, body: toPlaintext(p.body) } : { ...p };
  }

  function conversationJson(
    conv: ConversationRecord,
    opts: { plaintext?: boolean; parts?: ConversationPartJson[] | "none" } = {},
  ): Record<string, unknown> {
    const plaintext = opts.plaintext ?? false;
    const selected =
      opts.parts === "none"
        ? undefined
        : (opts.parts ?? conv.parts.slice(Math.max(0, conv.parts.length - MAX_PARTS)));
    const contactList = conv.contact_ids.map((id) => {
      const c = contacts.get(id);
      return { type: "contact", id, external_id: c?.external_id ?? null };
    });
    const assigneeAdmins =
      conv.admin_assignee_id !== null ? [{ type: "admin", id: String(conv.admin_assignee_id) }] : [];
    const adminParts = conv.parts.filter((p) => p.author.type === "admin" || p.author.type === "bot");
    const teammates = [...new Set(adminParts.map((p) => p.author.id))].map((id) => ({ type: "admin", id }));
    return {
      type: "conversation",
      id: conv.id,
      title: conv.title,
      created_at: conv.created_at,
      updated_at: conv.updated_at,
      waiting_since: conv.waiting_since,
      snoozed_until: conv.snoozed_until,
      open: conv.state !== "closed",
      state: conv.state,
      read: conv.read,
      priority: conv.priority,
      admin_assignee_id: conv.admin_assignee_id,
      team_assignee_id: conv.team_assignee_id,
      company_id: null,
      tags: { type: "tag.list", tags: conv.tag_ids.map((id) => tags.get(id)).filter((t) => t !== undefined) },
      conversation_rating: null,
      source: plaintext ? { ...conv.source, body: toPlaintext(conv.source.body) } : { ...conv.source },
      contacts: { type: "contact.list", contacts: contactList },
      teammates: { type: "admin.list", admins: teammates.length > 0 ? teammates : assigneeAdmins },
      custom_attributes: conv.custom_attributes,
      first_contact_reply: { created_at: conv.created_at, type: "conversation", url: null },
      sla_applied: null,
      statistics: null,
      ...(selected
        ? {
            conversation_parts: {
              type: "conversation_part.list",
              conversation_parts: selected.map((p) => partJson(p, plaintext)),
              total_count: selected.length,
            },
          }
        : {}),
      linked_objects: { type: "list", data: [], total_count: 0, has_more: false },
      ai_agent_participated: false,
      ai_agent: null,
    };
  }

  function conversationField(conv: ConversationRecord, field: string): unknown {
    switch (field) {
      case "open":
        return conv.state !== "closed";
      case "source.author.id":
        return conv.source.author.id;
      case "source.author.type":
        return conv.source.author.type;
      case "source.body":
        return conv.source.body;
      case "contact_ids":
        return conv.contact_ids;
      case "tag_ids":
        return conv.tag_ids;
      default:
        return (conv as unknown as Record<string, unknown>)[field];
    }
  }

  function contactField(contact: ContactRecord, field: string): unknown {
    if (field.startsWith("custom_attributes."))
      return contact.custom_attributes[field.slice("custom_attributes.".length)];
    return (contact as unknown as Record<string, unknown>)[field];
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    if (body === undefined) {
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(status, { ...rateHeaders(), "content-length": "0" });
      res.end();
      return;
    }
    sendJson(res, status, body, rateHeaders());
  }

  function rateHeaders(overrides: { remaining?: number; reset?: number } = {}): Record<string, string> {
    const reset = windowStart + WINDOW_SECONDS;
    return {
      "x-ratelimit-limit": String(emulator.rateLimitPerWindow),
      "x-ratelimit-remaining": String(
        overrides.remaining ?? Math.max(0, emulator.rateLimitPerWindow - windowCount),
      ),
      "x-ratelimit-reset": String(overrides.reset ?? reset),
      "x-request-id": randomUUID(),
      "intercom-version": "2.14",
    };
  }

  function sendError(res: ServerResponse, status: number, code: string, message: string, rate = {}): void {
    sendJson(res, status, errorList(code, message), rateHeaders(rate));
  }

  function notFound(res: ServerResponse, message = "Resource Not Found"): void {
    sendError(res, 404, "not_found", message);
  }

  function paginateCursor<T>(
    items: T[],
    pagination: unknown,
    defaultPerPage: number,
  ): { page: T[]; pages: Record<string, unknown> } {
    const p = isRecord(pagination) ? pagination : {};
    const perPage = Math.min(150, Math.max(1, Number(p.per_page ?? defaultPerPage) || defaultPerPage));
    const start =
      typeof p.starting_after === "string" && p.starting_after !== ""
        ? Number(Buffer.from(p.starting_after, "base64url").toString("utf8")) || 0
        : 0;
    const page = items.slice(start, start + perPage);
    const totalPages = Math.max(1, Math.ceil(items.length / perPage));
    const next = start + perPage;
    return {
      page,
      pages: {
        type: "pages",
        page: Math.floor(start / perPage) + 1,
        per_page: perPage,
        total_pages: totalPages,
        ...(next < items.length
          ? {
              next: {
                per_page: perPage,
                starting_after: Buffer.from(String(next), "utf8").toString("base64url"),
              },
            }
          : {}),
      },
    };
  }

  async function handle(_req: IncomingMessage, res: ServerResponse, req: RecordedRequest): Promise<void> {
    await server?.sleep(emulator.latencyMs);
    const t = Math.floor(Date.now() / 1000);
    const currentWindow = t - (t % WINDOW_SECONDS);
    if (currentWindow !== windowStart) {
      windowStart = currentWindow;
      windowCount = 0;
    }
    windowCount += 1;

    const auth = req.headers.authorization;
    if (!acceptedTokens.has(String(auth).replace(/^Bearer /, ""))) {
      sendError(res, 401, "unauthorized", "Access Token Invalid");
      return;
    }
    const faultIndex = faults.findIndex(
      (f) => f.pathIncludes === undefined || req.path.includes(f.pathIncludes),
    );
    if (faultIndex >= 0) {
      const [fault] = faults.splice(faultIndex, 1);
      if (fault) {
        const defaults = FAULT_DEFAULTS[fault.status] ?? { code: "server_error", message: "Server Error" };
        const rate =
          fault.status === 429
            ? {
                remaining: 0,
                reset: t + Math.max(1, fault.resetInSeconds ?? windowStart + WINDOW_SECONDS - t),
              }
            : {};
        sendError(res, fault.status, fault.code ?? defaults.code, fault.message ?? defaults.message, rate);
        return;
      }
    }
    if (windowCount > emulator.rateLimitPerWindow) {
      sendError(
        res,
        429,
        "rate_limit_exceeded",
        "You have exceeded the rate limit. Please try again later.",
        {
          remaining: 0,
        },
      );
      return;
    }

    const body = isRecord(req.body) ? req.body : {};
    const segments = req.path.split("/").filter(Boolean);
    const [root, id, sub, subId] = segments;
    const method = req.method;

    if (root === "me" && segments.length === 1 && method === "GET") {
      send(res, 200, {
        ...adminJson(emulator.botAdmin),
        app: {
          type: "app",
          id_code: appId,
          name: "Switchboard (emulated)",
          created_at: 1_700_000_000,
          secure: false,
          identity_verification: false,
          timezone: "Etc/UTC",
          region: "US",
        },
      });
      return;
    }
    if (root === "admins" && segments.length === 1 && method === "GET") {
      send(res, 200, { type: "admin.list", admins: [...admins.values()].map(adminJson) });
      return;
    }
    if (root === "teams" && segments.length === 1 && method === "GET") {
      send(res, 200, { type: "team.list", teams: [...teams.values()] });
      return;
    }

    if (root === "conversations") {
      if (id === "search" && segments.length === 2 && method === "POST") {
        const query = body.query;
        if (!isRecord(query)) {
          sendError(res, 400, "parameter_not_found", "query is required");
          return;
        }
        const matching = [...conversations.values()]
          .filter((c) => evaluate(query, (field) => conversationField(c, field)))
          .sort((a, b) => a.updated_at - b.updated_at || Number(a.id) - Number(b.id));
        const { page, pages } = paginateCursor(matching, body.pagination, 20);
        send(res, 200, {
          type: "conversation.list",
          pages,
          total_count: matching.length,
          conversations: page.map((c) => conversationJson(c, { parts: "none" })),
        });
        return;
      }
      if (id === undefined && method === "GET") {
        const all = [...conversations.values()].sort((a, b) => b.updated_at - a.updated_at);
        const { page, pages } = paginateCursor(
          all,
          { per_page: req.query.per_page, starting_after: req.query.starting_after },
          20,
        );
        send(res, 200, {
          type: "conversation.list",
          pages,
          total_count: all.length,
          conversations: page.map((c) => conversationJson(c, { parts: "none" })),
        });
        return;
      }
      const conv = id === undefined ? undefined : conversations.get(id);
      if (id !== undefined && !conv) {
        notFound(res);
        return;
      }
      if (conv && sub === undefined && method === "GET") {
        send(res, 200, conversationJson(conv, { plaintext: req.query.display_as === "plaintext" }));
        return;
      }
      if (conv && sub === "reply" && method === "POST") {
        handleReply(res, conv, body);
        return;
      }
      if (conv && sub === "parts" && method === "POST") {
        handleParts(res, conv, body);
        return;
      }
      if (conv && sub === "tags" && subId === undefined && method === "POST") {
        const tag = typeof body.id === "string" ? tags.get(body.id) : undefined;
        if (!tag) {
          notFound(res, "Tag not found");
          return;
        }
        if (typeof body.admin_id !== "string" || !admins.has(body.admin_id)) {
          notFound(res, "Admin not found");
          return;
        }
        if (!conv.tag_ids.includes(tag.id)) conv.tag_ids.push(tag.id);
        conv.updated_at = now();
        send(res, 200, tag);
        return;
      }
      if (conv && sub === "tags" && subId !== undefined && method === "DELETE") {
        const tag = tags.get(subId);
        if (!tag || !conv.tag_ids.includes(subId)) {
          notFound(res, "Tag not found");
          return;
        }
        conv.tag_ids = conv.tag_ids.filter((t) => t !== subId);
        conv.updated_at = now();
        send(res, 200, tag);
        return;
      }
    }

    if (root === "contacts") {
      if (id === "search" && segments.length === 2 && method === "POST") {
        const query = body.query;
        if (!isRecord(query)) {
          sendError(res, 400, "parameter_not_found", "query is required");
          return;
        }
        const visible = [...contacts.values()].filter((c) => c.searchableAt <= Date.now());
        const matching = visible
          .filter((c) => evaluate(query, (field) => contactField(c, field)))
          .sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
        const { page, pages } = paginateCursor(matching, body.pagination, 50);
        send(res, 200, { type: "list", data: page.map(contactJson), total_count: matching.length, pages });
        return;
      }
      if (id === undefined && method === "POST") {
        handleCreateContact(res, body);
        return;
      }
      const contact = id === undefined ? undefined : contacts.get(id);
      if (id !== undefined && segments.length === 2) {
        if (!contact) {
          notFound(res, "User Not Found");
          return;
        }
        if (method === "GET") {
          send(res, 200, contactJson(contact));
          return;
        }
        if (method === "PUT") {
          for (const key of ["role", "external_id", "email", "phone", "name"] as const) {
            if (key in body) (contact as unknown as Record<string, unknown>)[key] = body[key] ?? null;
          }
          if (isRecord(body.custom_attributes))
            Object.assign(contact.custom_attributes, body.custom_attributes);
          contact.updated_at = now();
          send(res, 200, contactJson(contact));
          return;
        }
        if (method === "DELETE") {
          contacts.delete(contact.id);
          send(res, 200, {
            id: contact.id,
            external_id: contact.external_id,
            type: "contact",
            deleted: true,
          });
          return;
        }
      }
    }

    if (root === "events" && segments.length === 1 && method === "POST") {
      handleEvent(res, body);
      return;
    }

    if (root === "tags" && segments.length === 1) {
      if (method === "GET") {
        send(res, 200, { type: "list", data: [...tags.values()] });
        return;
      }
      if (method === "POST") {
        if (typeof body.name !== "string" || body.name.trim() === "") {
          sendError(res, 400, "parameter_not_found", "name is required");
          return;
        }
        if (typeof body.id === "string") {
          const existing = tags.get(body.id);
          if (!existing) {
            notFound(res, "Tag not found");
            return;
          }
          existing.name = body.name;
          send(res, 200, existing);
          return;
        }
        const existing = [...tags.values()].find((t) => t.name === body.name);
        send(res, 200, existing ?? emulator.createTag(body.name));
        return;
      }
    }

    sendError(res, 404, "not_found", `Resource Not Found: ${method} ${req.path}`);
  }

  function adminJson(admin: IntercomAdmin): Record<string, unknown> {
    return {
      type: "admin",
      id: admin.id,
      name: admin.name,
      email: admin.email,
      email_verified: true,
      job_title: null,
      away_mode_enabled: false,
      away_mode_reassign: false,
      has_inbox_seat: true,
      team_ids: [...teams.values()]
        .filter((t) => t.admin_ids.includes(Number(admin.id)))
        .map((t) => Number(t.id)),
      avatar: { type: "avatar", image_url: null },
    };
  }

  function handleReply(res: ServerResponse, conv: ConversationRecord, body: Record<string, unknown>): void {
    const messageType = body.message_type;
    const text = typeof body.body === "string" ? body.body : "";
    if (body.type === "admin") {
      const admin = typeof body.admin_id === "string" ? admins.get(body.admin_id) : undefined;
      if (!admin) {
        notFound(res, "Admin not found");
        return;
      }
      if (messageType !== "comment" && messageType !== "note" && messageType !== "quick_reply") {
        sendError(res, 400, "parameter_invalid", "message_type must be one of comment, note, quick_reply");
        return;
      }
      if (text.trim() === "") {
        sendError(res, 400, "parameter_invalid", "Body is required");
        return;
      }
      newPart(conv, messageType, adminAuthor(admin), text);
      if (messageType !== "note") {
        conv.waiting_since = null;
        conv.read = true;
      }
      send(res, 200, conversationJson(conv));
      return;
    }
    if (body.type === "user") {
      const contact = [...contacts.values()].find(
        (c) =>
          c.id === body.intercom_user_id ||
          (body.user_id !== undefined && c.external_id === body.user_id) ||
          (body.email !== undefined && c.email === body.email),
      );
      if (!contact) {
        notFound(res, "User Not Found");
        return;
      }
      if (text.trim() === "") {
        sendError(res, 400, "parameter_invalid", "Body is required");
        return;
      }
      customerMessage(conv, contact, text);
      send(res, 200, conversationJson(conv));
      return;
    }
    sendError(res, 400, "parameter_invalid", "type must be one of admin, user");
  }

  function handleParts(res: ServerResponse, conv: ConversationRecord, body: Record<string, unknown>): void {
    const admin = typeof body.admin_id === "string" ? admins.get(body.admin_id) : undefined;
    if (!admin) {
      notFound(res, "Admin not found");
      return;
    }
    const author = adminAuthor(admin);
    const text = typeof body.body === "string" && body.body !== "" ? body.body : null;
    switch (body.message_type) {
      case "assignment": {
        const assignee =
          typeof body.assignee_id === "string" ? body.assignee_id : String(body.assignee_id ?? "");
        if (body.type === "team") {
          if (assignee !== "0" && !teams.has(assignee)) {
            notFound(res, "Team not found");
            return;
          }
          conv.team_assignee_id = assignee === "0" ? null : assignee;
          newPart(conv, "assignment", author, text, { type: "team", id: assignee });
        } else {
          if (assignee !== "0" && !admins.has(assignee)) {
            notFound(res, "Admin not found");
            return;
          }
          conv.admin_assignee_id = assignee === "0" ? null : Number(assignee);
          newPart(
            conv,
            "assignment",
            author,
            text,
            assignee === "0" ? { type: "nobody_admin", id: "0" } : { type: "admin", id: assignee },
          );
        }
        send(res, 200, conversationJson(conv));
        return;
      }
      case "close":
        conv.state = "closed";
        conv.snoozed_until = null;
        conv.waiting_since = null;
        newPart(conv, "close", author, text);
        send(res, 200, conversationJson(conv));
        return;
      case "open":
        conv.state = "open";
        conv.snoozed_until = null;
        newPart(conv, "open", author, text);
        send(res, 200, conversationJson(conv));
        return;
      case "snoozed": {
        const until = Number(body.snoozed_until);
        if (!Number.isFinite(until) || until <= now()) {
          sendError(res, 400, "parameter_invalid", "snoozed_until must be a unix timestamp in the future");
          return;
        }
        conv.state = "snoozed";
        conv.snoozed_until = until;
        newPart(conv, "snoozed", author, text);
        send(res, 200, conversationJson(conv));
        return;
      }
      default:
        sendError(
          res,
          400,
          "parameter_invalid",
          "message_type must be one of assignment, close, open, snoozed",
        );
    }
  }

  function handleCreateContact(res: ServerResponse, body: Record<string, unknown>): void {
    const email = typeof body.email === "string" ? body.email : undefined;
    const externalId = typeof body.external_id === "string" ? body.external_id : undefined;
    const role = body.role === "lead" ? "lead" : body.role === "user" ? "user" : undefined;
    if (email === undefined && externalId === undefined && role === undefined) {
      sendError(res, 400, "parameter_not_found", "One of email, external_id or role is required");
      return;
    }
    const duplicate = [...contacts.values()].find(
      (c) =>
        (externalId !== undefined && c.external_id === externalId) ||
        (email !== undefined && role !== "lead" && c.email === email && c.role === "user"),
    );
    if (duplicate) {
      sendError(
        res,
        409,
        "conflict",
        `A contact matching those details already exists with id=${duplicate.id}`,
      );
      return;
    }
    const contact = createContact({
      role: role ?? "user",
      ...(externalId !== undefined ? { external_id: externalId } : {}),
      ...(email !== undefined ? { email } : {}),
      ...(typeof body.name === "string" ? { name: body.name } : {}),
      ...(typeof body.phone === "string" ? { phone: body.phone } : {}),
      ...(isRecord(body.custom_attributes) ? { custom_attributes: { ...body.custom_attributes } } : {}),
    });
    send(res, 200, contactJson(contact));
  }

  function handleEvent(res: ServerResponse, body: Record<string, unknown>): void {
    if (typeof body.event_name !== "string" || body.event_name === "") {
      sendError(res, 400, "parameter_not_found", "event_name is required");
      return;
    }
    const contact = [...contacts.values()].find(
      (c) =>
        (body.id !== undefined && c.id === body.id) ||
        (body.user_id !== undefined && c.external_id === body.user_id) ||
        (body.email !== undefined && c.email === body.email),
    );
    if (!contact) {
      sendError(res, 404, "not_found", "User Not Found");
      return;
    }
    const metadata: Record<string, unknown> = {};
    if (isRecord(body.metadata)) {
      for (const [key, value] of Object.entries(body.metadata)) {
        if (Object.keys(metadata).length >= 10) break;
        const richLink = isRecord(value) && typeof value.url === "string";
        if (value === null || typeof value !== "object" || richLink) metadata[key] = value;
      }
    }
    events.push({
      event_name: body.event_name,
      created_at: typeof body.created_at === "number" ? body.created_at : now(),
      contact_id: contact.id,
      ...(typeof body.user_id === "string" ? { user_id: body.user_id } : {}),
      ...(typeof body.email === "string" ? { email: body.email } : {}),
      metadata,
    });
    send(res, 202, undefined);
  }

  function customerMessage(
    conv: ConversationRecord,
    contact: ContactRecord,
    text: string,
  ): ConversationPartJson {
    const body = /^\s*</.test(text) ? text : `<p>${escapeHtml(text)}</p>`;
    const part = newPart(conv, "comment", contactAuthor(contact), body);
    if (conv.state !== "open") {
      conv.state = "open";
      conv.snoozed_until = null;
    }
    conv.waiting_since ??= part.created_at;
    conv.read = false;
    contact.last_seen_at = part.created_at;
    return part;
  }

  Object.assign(emulator, {
    url: "",
    token,
    acceptToken: (extra: string) => void acceptedTokens.add(extra),
    appId,
    requests: [],
    admins,
    teams,
    conversations,
    contacts,
    tags,
    events,
    latencyMs: 0,
    rateLimitPerWindow: opts.rateLimitPerWindow ?? 1666,
    searchIndexDelayMs: opts.searchIndexDelayMs ?? 0,
    now: () => Math.floor(Date.now() / 1000),
    createContact: (fields = {}) => createContact(fields),
    createConversation(o) {
      let contact: ContactRecord | undefined;
      if (typeof o.contact === "string") {
        contact = contacts.get(o.contact);
        if (!contact) throw new Error(`intercom emulator: no contact ${o.contact}`);
      } else {
        contact = createContact(o.contact ?? {});
      }
      const t = o.createdAt ?? now();
      const conv: ConversationRecord = {
        id: nextNumericId(215_000_000_000_000),
        title: o.title ?? null,
        created_at: t,
        updated_at: t,
        waiting_since: t,
        snoozed_until: null,
        state: "open",
        read: false,
        priority: "not_priority",
        admin_assignee_id: null,
        team_assignee_id: null,
        source: {
          type: "conversation",
          id: nextNumericId(403_000_000),
          delivered_as: "customer_initiated",
          subject: "",
          body: /^\s*</.test(o.body) ? o.body : `<p>${escapeHtml(o.body)}</p>`,
          author: contactAuthor(contact),
          attachments: [],
          url: null,
          redacted: false,
        },
        contact_ids: [contact.id],
        tag_ids: [],
        parts: [],
        custom_attributes: {},
      };
      conversations.set(conv.id, conv);
      return conv;
    },
    addCustomerMessage(conversationId, text) {
      const conv = getConversation(conversationId);
      const contact = contacts.get(conv.contact_ids[0] ?? "");
      if (!contact) throw new Error(`intercom emulator: conversation ${conversationId} has no contact`);
      return customerMessage(conv, contact, text);
    },
    addAdminReply(conversationId, adminId, text) {
      const conv = getConversation(conversationId);
      const admin = admins.get(adminId);
      if (!admin) throw new Error(`intercom emulator: no admin ${adminId}`);
      conv.waiting_since = null;
      return newPart(
        conv,
        "comment",
        adminAuthor(admin),
        /^\s*</.test(text) ? text : `<p>${escapeHtml(text)}</p>`,
      );
    },
    addAdmin(name, email) {
      const admin: IntercomAdmin = { type: "admin", id: nextNumericId(991_300_000), name, email };
      admins.set(admin.id, admin);
      return admin;
    },
    addTeam(name, adminIds = []) {
      const team: IntercomTeam = {
        type: "team",
        id: nextNumericId(5_100_000),
        name,
        admin_ids: adminIds.map(Number),
      };
      teams.set(team.id, team);
      return team;
    },
    createTag(name) {
      const tag: IntercomTag = { type: "tag", id: nextNumericId(8_000_000), name };
      tags.set(tag.id, tag);
      return tag;
    },
    conversation: getConversation,
    replies: (cid) =>
      getConversation(cid).parts.filter(
        (p) => p.part_type === "comment" && (p.author.type === "admin" || p.author.type === "bot"),
      ),
    notes: (cid) => getConversation(cid).parts.filter((p) => p.part_type === "note"),
    assignments: (cid) => getConversation(cid).parts.filter((p) => p.part_type === "assignment"),
    conversationTags: (cid) =>
      getConversation(cid)
        .tag_ids.map((tid) => tags.get(tid))
        .filter((t): t is IntercomTag => t !== undefined),
    state: (cid) => getConversation(cid).state,
    webhookItem(conversationId, o = {}) {
      const conv = getConversation(conversationId);
      const which = o.parts ?? (conv.parts.length === 0 ? "none" : "last");
      const parts =
        which === "none"
          ? []
          : which === "last"
            ? conv.parts.slice(-1)
            : which === "all"
              ? conv.parts
              : conv.parts.filter((p) => which.includes(p.id));
      return conversationJson(conv, { parts });
    },
    contactItem(contactId) {
      const contact = contacts.get(contactId);
      if (!contact) throw new Error(`intercom emulator: no contact ${contactId}`);
      return contactJson(contact);
    },
    failNext(...f) {
      faults.push(...f);
    },
    reset() {
      conversations.clear();
      contacts.clear();
      tags.clear();
      events.length = 0;
      faults.length = 0;
      emulator.requests.length = 0;
      emulator.latencyMs = 0;
      emulator.rateLimitPerWindow = opts.rateLimitPerWindow ?? 1666;
      emulator.searchIndexDelayMs = opts.searchIndexDelayMs ?? 0;
      emulator.now = () => Math.floor(Date.now() / 1000);
      windowCount = 0;
      seedDefaults();
    },
    close: async () => {
      await server?.close();
    },
  } satisfies Omit<IntercomEmulator, "botAdmin" | "humanAdmin" | "supportTeam">);
  seedDefaults();

  server = await startEmulatorServer(handle);
  emulator.url = server.url;
  emulator.requests = server.requests;
  return emulator;
}

/** Evaluates an Intercom search query (single filter or nested AND/OR) against one record. */
function evaluate(node: SearchNode, get: (field: string) => unknown): boolean {
  const operator = typeof node.operator === "string" ? node.operator : "";
  if ((operator === "AND" || operator === "OR") && Array.isArray(node.value)) {
    const children = node.value.filter(isRecord) as SearchNode[];
    return operator === "AND"
      ? children.every((c) => evaluate(c, get))
      : children.some((c) => evaluate(c, get));
  }
  if (typeof node.field !== "string") return false;
  const actual = get(node.field);
  const expected = node.value;
  const eq = (a: unknown, b: unknown): boolean => {
    if (Array.isArray(a)) return a.some((x) => eq(x, b));
    if (a === null || a === undefined) return b === null || b === undefined || b === "";
    if (typeof a === "boolean") return String(a) === String(b);
    if (typeof a === "number") return a === Number(b);
    return String(a) === String(b);
  };
  const num = (v: unknown) => (v === null || v === undefined || v === "" ? Number.NaN : Number(v));
  const str = (v: unknown) => (v === null || v === undefined ? "" : String(v)).toLowerCase();
  switch (operator) {
    case "=":
      return eq(actual, expected);
    case "!=":
      return !eq(actual, expected);
    case "IN":
      return Array.isArray(expected) && expected.some((v) => eq(actual, v));
    case "NIN":
      return Array.isArray(expected) && !expected.some((v) => eq(actual, v));
    case ">":
      return num(actual) >= num(expected);
    case "<":
      return num(actual) <= num(expected);
    case "~":
      return str(actual).includes(str(expected));
    case "!~":
      return !str(actual).includes(str(expected));
    case "^":
      return str(actual).startsWith(str(expected));
    case "$":
      return str(actual).endsWith(str(expected));
    default:
      return false;
  }
}
