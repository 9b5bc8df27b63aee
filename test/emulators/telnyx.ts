/**
 * Telnyx Messaging API (v2) emulator for the `telnyx` SDK 7.x, plus signed webhooks.
 *
 * Point the real SDK at it with `new Telnyx({ apiKey: emulator.apiKey, baseURL: emulator.apiBase })`
 * (`apiBase` = `${url}/v2`, as the SDK's default base includes `/v2`). The SDK retries 408/409/429/5xx and
 * connection errors twice by itself: pass `maxRetries: 0` where a test asserts on one failure.
 *
 * Covered of the real service (https://developers.telnyx.com/api-reference):
 * - `Authorization: Bearer <key>` on every request; otherwise 401 with code 10009.
 * - `POST /v2/messages` `{to, from, text, messaging_profile_id?, webhook_url?, …}` → 200
 *   `{"data":{record_type:"message", direction:"outbound", id (uuid), type:"SMS", from:{phone_number,…},
 *   to:[{phone_number, status:"queued",…}], text, parts, encoding, messaging_profile_id, …}}`. Validation:
 *   10004 for a missing `to`/`from`/`text` (with `source.pointer`), 40310 (400) for a `to` that is not
 *   E.164, 40300 (409) for a recipient who texted STOP (`optOut`), and the one test-chosen invalid number.
 * - `GET /v2/messages/{id}` → the message as it stands (its status follows the webhooks `deliver` sent).
 * - `GET /v2/detail_records?filter[record_type]=messaging` (message detail records): exact filters on
 *   `direction`, `cli`, `cld`, `status`, `uuid`, ranges `filter[created_at][gte|lt]`, `sort=created_at`
 *   or `-created_at`, `page[number]`, `page[size]` (1–50, default 20); a filter field MDRs do not have → 400.
 *   MDRs carry no message text (the API's MDR schema has none).
 * - Errors are Telnyx error lists: `{"errors":[{"code","title","detail","source":{"pointer"}}]}`;
 *   `failNext` injects 429 (code 10011, with `Retry-After`) or 5xx (10007).
 *
 * Webhooks: `publicKey` is the account's Ed25519 public key as the portal shows it (base64 of the raw 32
 * bytes); `signTelnyxWebhook(body, timestamp?)` gives the headers Telnyx sends
 * (`telnyx-signature-ed25519` = base64 Ed25519 over `${timestamp}|${body}`, `telnyx-timestamp`);
 * `statusEvent(id, …)` builds a realistic `message.sent`/`message.finalized` for a sent message and
 * `telnyxInboundEvent({from, to, text})` a `message.received`; `deliver(url, event)` POSTs one signed.
 *
 * Not covered: MMS sending, number pools, short codes, alphanumeric senders, scheduled sends, messaging
 * profiles as resources, the opt-out list endpoints, webhook retries and failover URLs.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type EmulatorServer,
  isRecord,
  type RecordedRequest,
  sendJson,
  startEmulatorServer,
} from "./http-server";
import { TelnyxConversations } from "./telnyx-voice";

export type { RecordedRequest } from "./http-server";

/** `to[].status` of an outbound message, as Telnyx's API and webhooks give it. */
export type TelnyxMessageStatus =
  | "queued"
  | "sending"
  | "sent"
  | "delivered"
  | "sending_failed"
  | "delivery_failed"
  | "delivery_unconfirmed";

export interface TelnyxSentMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  parts: number;
  encoding: "GSM-7" | "UCS-2";
  messagingProfileId: string;
  webhookUrl: string | null;
  status: TelnyxMessageStatus;
  errors: TelnyxError[];
  createdAt: Date;
  sentAt: Date | null;
  completedAt: Date | null;
}

export interface TelnyxError {
  code: string;
  title: string;
  detail?: string;
  source?: { pointer: string };
}

export interface TelnyxFault {
  status: 429 | 500 | 502 | 503 | 504 | 400 | 401 | 403;
  /** The Telnyx error code in the body (default 10011 for 429, 10007 otherwise). */
  code?: string;
  /** How many requests in a row fail (default 1). */
  times?: number;
  /** `Retry-After` seconds on a 429 (default 1). */
  retryAfterSeconds?: number;
}

export interface TelnyxEmulatorOptions {
  apiKey?: string;
  messagingProfileId?: string;
  /**
   * The account's Ed25519 signing key (PKCS#8 PEM), so `publicKey` stays the same across restarts (the
   * key a tenant pasted keeps verifying); default a fresh pair.
   */
  privateKeyPem?: string;
}

/** Headers Telnyx sends with a webhook. */
export type TelnyxWebhookHeaders = Record<string, string>;

export interface TelnyxEvent {
  data: {
    record_type: "event";
    id: string;
    event_type: string;
    occurred_at: string;
    payload: Record<string, unknown>;
  };
  meta: { attempt: number; delivered_to: string };
}

export interface TelnyxEmulator {
  /** Origin, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** What TELNYX_API_BASE / the SDK's `baseURL` should be: `${url}/v2`. */
  apiBase: string;
  apiKey: string;
  messagingProfileId: string;
  /** The account's webhook public key (base64 of the raw 32-byte Ed25519 key), as a tenant pastes it. */
  publicKey: string;
  requests: RecordedRequest[];
  /** The AI assistant conversations the account holds (telnyx-voice.ts): what the transcript API lists. */
  conversations: TelnyxConversations;
  /** Every message the API accepted, oldest first. */
  sent: TelnyxSentMessage[];
  /** The recipient texted STOP: sends to it answer 409 with code 40300. */
  optOut(number: string): void;
  /** The recipient texted START. */
  optIn(number: string): void;
  /** Sends to this number answer 400 with code 40310 (invalid 'to' address). */
  invalid(number: string): void;
  failNext(fault: TelnyxFault): void;
  signTelnyxWebhook(body: string | Uint8Array, timestamp?: number): TelnyxWebhookHeaders;
  /** A `message.sent` (default) or `message.finalized` event for a sent message; updates its stored status. */
  statusEvent(
    messageId: string,
    o?: {
      eventType?: "message.sent" | "message.finalized";
      status?: TelnyxMessageStatus;
      errorCode?: string;
    },
  ): TelnyxEvent;
  /** POSTs the event, signed now (or at `timestamp`), as Telnyx does; `meta.delivered_to` is set to `url`. */
  deliver(
    url: string,
    event: TelnyxEvent,
    o?: { timestamp?: number },
  ): Promise<{ status: number; body: string; headers: TelnyxWebhookHeaders; rawBody: string }>;
  reset(): void;
  close(): Promise<void>;
}

const SPKI_ED25519_PREFIX_LENGTH = 12;

/** An Ed25519 key pair as a Telnyx account has one, and its signer. Usable without starting a server. */
export function telnyxWebhookSigner(): {
  publicKey: string;
  sign(body: string | Uint8Array, timestamp?: number): TelnyxWebhookHeaders;
} {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const spki = publicKey.export({ format: "der", type: "spki" });
  return {
    publicKey: spki.subarray(SPKI_ED25519_PREFIX_LENGTH).toString("base64"),
    sign: (body, timestamp) => signWith(privateKey, body, timestamp),
  };
}

function keyPairFrom(pem: string): { publicKey: KeyObject; privateKey: KeyObject } {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new Error("telnyx emulator: privateKeyPem is not Ed25519");
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function signWith(key: KeyObject, body: string | Uint8Array, timestamp?: number): TelnyxWebhookHeaders {
  const ts = String(timestamp ?? Math.floor(Date.now() / 1000));
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  const signature = sign(null, Buffer.concat([Buffer.from(`${ts}|`, "utf8"), bytes]), key);
  return {
    "content-type": "application/json",
    "telnyx-signature-ed25519": signature.toString("base64"),
    "telnyx-timestamp": ts,
  };
}

/** A `message.received` event as Telnyx posts it for a text to one of the account's numbers. */
export function telnyxInboundEvent(o: {
  from: string;
  to: string;
  text: string;
  id?: string;
  media?: string[];
  messagingProfileId?: string;
}): TelnyxEvent {
  const now = new Date().toISOString();
  return {
    data: {
      record_type: "event",
      id: randomUUID(),
      event_type: "message.received",
      occurred_at: now,
      payload: {
        record_type: "message",
        direction: "inbound",
        id: o.id ?? randomUUID(),
        type: o.media && o.media.length > 0 ? "MMS" : "SMS",
        messaging_profile_id: o.messagingProfileId ?? "40017a7e-0000-4000-8000-00000000cafe",
        organization_id: "b448f9cc-a842-4784-98e9-03c1a5872950",
        from: { phone_number: o.from, carrier: "T-Mobile USA, Inc.", line_type: "Wireless" },
        to: [{ phone_number: o.to, status: "webhook_delivered", carrier: "Telnyx", line_type: "Wireless" }],
        cc: [],
        text: o.text,
        subject: null,
        media: (o.media ?? []).map((url) => ({ url, content_type: "image/jpeg", sha256: null, size: null })),
        encoding: encodingOf(o.text),
        parts: segmentsOf(o.text),
        tags: [],
        cost: null,
        cost_breakdown: null,
        received_at: now,
        sent_at: null,
        completed_at: null,
        valid_until: null,
        webhook_url: null,
        webhook_failover_url: null,
        errors: [],
      },
    },
    meta: { attempt: 1, delivered_to: "" },
  };
}

// The GSM 03.38 default alphabet; the extension table's characters cost two septets each.
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";

function encodingOf(text: string): "GSM-7" | "UCS-2" {
  for (const ch of text) if (!GSM_BASIC.includes(ch) && !GSM_EXTENDED.includes(ch)) return "UCS-2";
  return "GSM-7";
}

/** Parts Telnyx bills: 160/153 septets (GSM-7) or 70/67 UTF-16 units (UCS-2) per part. */
function segmentsOf(text: string): number {
  if (encodingOf(text) === "GSM-7") {
    let septets = 0;
    for (const ch of text) septets += GSM_EXTENDED.includes(ch) ? 2 : 1;
    return septets <= 160 ? 1 : Math.ceil(septets / 153);
  }
  return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** The MDR fields `filter[...]` may name (the API rejects others with a 400). */
const MDR_FILTER_FIELDS = new Set([
  "record_type",
  "date_range",
  "direction",
  "cli",
  "cld",
  "status",
  "uuid",
  "created_at",
  "message_type",
  "profile_id",
]);

export async function startTelnyxEmulator(opts: TelnyxEmulatorOptions = {}): Promise<TelnyxEmulator> {
  const apiKey = opts.apiKey ?? `KEY0123456789ABCDEF_${randomUUID().replaceAll("-", "")}`;
  const messagingProfileId = opts.messagingProfileId ?? randomUUID();
  const signer = opts.privateKeyPem ? keyPairFrom(opts.privateKeyPem) : generateKeyPairSync("ed25519");
  const publicKey = signer.publicKey
    .export({ format: "der", type: "spki" })
    .subarray(SPKI_ED25519_PREFIX_LENGTH)
    .toString("base64");
  const sent: TelnyxSentMessage[] = [];
  const optedOut = new Set<string>();
  const invalidNumbers = new Set<string>();
  const faults: { fault: TelnyxFault; left: number }[] = [];
  let server: EmulatorServer | undefined;

  const sendErrors = (res: ServerResponse, status: number, errors: TelnyxError[], headers = {}) =>
    sendJson(res, status, { errors }, headers);

  function messageJson(m: TelnyxSentMessage): Record<string, unknown> {
    return {
      record_type: "message",
      direction: "outbound",
      id: m.id,
      type: "SMS",
      messaging_profile_id: m.messagingProfileId,
      organization_id: "b448f9cc-a842-4784-98e9-03c1a5872950",
      from: { phone_number: m.from, carrier: "Telnyx", line_type: "Wireless" },
      to: [{ phone_number: m.to, status: m.status, carrier: "T-Mobile USA, Inc.", line_type: "Wireless" }],
      cc: [],
      text: m.text,
      subject: null,
      media: [],
      webhook_url: m.webhookUrl,
      webhook_failover_url: null,
      encoding: m.encoding,
      parts: m.parts,
      tags: [],
      cost: null,
      cost_breakdown: null,
      tcr_campaign_id: null,
      tcr_campaign_billable: false,
      tcr_campaign_registered: null,
      received_at: m.createdAt.toISOString(),
      sent_at: m.sentAt?.toISOString() ?? null,
      completed_at: m.completedAt?.toISOString() ?? null,
      valid_until: new Date(m.createdAt.getTime() + 14_400_000).toISOString(),
      errors: m.errors,
    };
  }

  /** The MDR as `GET /v2/detail_records` lists it; `status` is the final one (absent while in flight). */
  function mdrJson(m: TelnyxSentMessage): Record<string, unknown> {
    const finalStatus: Partial<Record<TelnyxMessageStatus, string>> = {
      delivered: "delivered",
      delivery_failed: "failed",
      sending_failed: "gw_reject",
      delivery_unconfirmed: "dlr_unconfirmed",
    };
    return {
      record_type: "message_detail_record",
      uuid: m.id,
      user_id: "3ca7bd3d-7d82-4e07-9df4-009123068320",
      created_at: m.createdAt.toISOString(),
      updated_at: (m.completedAt ?? m.sentAt ?? m.createdAt).toISOString(),
      sent_at: m.sentAt?.toISOString() ?? null,
      completed_at: m.completedAt?.toISOString() ?? null,
      cli: m.from,
      cld: m.to,
      direction: "outbound",
      message_type: "SMS",
      profile_id: m.messagingProfileId,
      parts: m.parts,
      ...(finalStatus[m.status] ? { status: finalStatus[m.status] } : {}),
      errors: m.errors.map((e) => e.code),
      currency: "USD",
      cost: "0.004",
      rate: "0.004",
    };
  }

  function takeFault(): TelnyxFault | undefined {
    const next = faults[0];
    if (!next) return undefined;
    next.left -= 1;
    if (next.left <= 0) faults.shift();
    return next.fault;
  }

  function sendFault(res: ServerResponse, fault: TelnyxFault): void {
    const rateLimited = fault.status === 429;
    const code = fault.code ?? (rateLimited ? "10011" : "10007");
    const title = rateLimited ? "Too many requests" : "Unexpected error";
    const detail = rateLimited
      ? "You have exceeded the maximum number of allowed requests."
      : "An unexpected error occured.";
    sendErrors(
      res,
      fault.status,
      [{ code, title, detail }],
      rateLimited ? { "retry-after": String(fault.retryAfterSeconds ?? 1) } : {},
    );
  }

  function handleSend(res: ServerResponse, body: unknown): void {
    if (!isRecord(body)) {
      sendErrors(res, 400, [
        { code: "10015", title: "Bad Request", detail: "The request failed because it was not well-formed." },
      ]);
      return;
    }
    for (const field of ["to", "from", "text"] as const) {
      if (typeof body[field] !== "string" || body[field] === "") {
        sendErrors(res, 400, [
          {
            code: "10004",
            title: "Missing required parameter",
            detail: `The '${field}' parameter is required.`,
            source: { pointer: `/${field}` },
          },
        ]);
        return;
      }
    }
    const to = String(body.to);
    const from = String(body.from);
    const text = String(body.text);
    if (!E164.test(to) || invalidNumbers.has(to)) {
      sendErrors(res, 400, [
        {
          code: "40310",
          title: "Invalid 'to' address",
          detail: "The 'to' address should be a single valid number.",
          source: { pointer: "/to" },
        },
      ]);
      return;
    }
    if (optedOut.has(to)) {
      sendErrors(res, 409, [
        {
          code: "40300",
          title: "Blocked due to STOP message",
          detail: `Messages cannot be sent from ${from} to ${to} due to an existing block rule.`,
          source: { pointer: "/to" },
        },
      ]);
      return;
    }
    const message: TelnyxSentMessage = {
      id: randomUUID(),
      from,
      to,
      text,
      parts: segmentsOf(text),
      encoding: encodingOf(text),
      messagingProfileId:
        typeof body.messaging_profile_id === "string" ? body.messaging_profile_id : messagingProfileId,
      webhookUrl: typeof body.webhook_url === "string" ? body.webhook_url : null,
      status: "queued",
      errors: [],
      createdAt: new Date(),
      sentAt: null,
      completedAt: null,
    };
    sent.push(message);
    sendJson(res, 200, { data: messageJson(message) });
  }

  function handleDetailRecords(res: ServerResponse, query: Record<string, string>): void {
    const filters = new Map<string, string>();
    for (const [key, value] of Object.entries(query)) {
      const match = /^filter\[([a-z_]+)\](?:\[([a-z_]+)\])?$/.exec(key);
      if (!match?.[1]) continue;
      if (!MDR_FILTER_FIELDS.has(match[1])) {
        sendErrors(res, 400, [
          {
            code: "10015",
            title: "Bad Request",
            detail: `Invalid filter field: ${match[1]}`,
            source: { pointer: `/filter/${match[1]}` },
          },
        ]);
        return;
      }
      filters.set(match[2] ? `${match[1]}.${match[2]}` : match[1], value);
    }
    if (!filters.has("record_type")) {
      sendErrors(res, 400, [
        {
          code: "10004",
          title: "Missing required parameter",
          detail: "filter[record_type] is required.",
          source: { pointer: "/filter/record_type" },
        },
      ]);
      return;
    }
    const size = Number(query["page[size]"] ?? 20);
    const page = Number(query["page[number]"] ?? 1);
    if (!Number.isInteger(size) || size < 1 || size > 50 || !Number.isInteger(page) || page < 1) {
      sendErrors(res, 400, [
        {
          code: "10015",
          title: "Bad Request",
          detail: "Invalid page parameters",
          source: { pointer: "/page" },
        },
      ]);
      return;
    }
    const records = filters.get("record_type") === "messaging" ? sent.map(mdrJson) : [];
    const matching = records.filter((r) => matchesFilters(r, filters));
    const descending = query.sort === "-created_at";
    matching.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) * (descending ? -1 : 1));
    const total = matching.length;
    sendJson(res, 200, {
      data: matching.slice((page - 1) * size, page * size),
      meta: {
        page_number: page,
        page_size: size,
        total_pages: Math.max(1, Math.ceil(total / size)),
        total_results: total,
      },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest): Promise<void> {
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      sendErrors(res, 401, [
        {
          code: "10009",
          title: "Authentication failed",
          detail: "The required authentication headers were either invalid or not included in the request.",
        },
      ]);
      return;
    }
    const fault = takeFault();
    if (fault) {
      sendFault(res, fault);
      return;
    }
    const { method, path } = recorded;
    if (method === "POST" && path === "/v2/messages") return handleSend(res, recorded.body);
    const byId = /^\/v2\/messages\/([0-9a-f-]{36})$/.exec(path);
    if (method === "GET" && byId) {
      const message = sent.find((m) => m.id === byId[1]);
      if (message) return sendJson(res, 200, { data: messageJson(message) });
    }
    if (method === "GET" && path === "/v2/detail_records") return handleDetailRecords(res, recorded.query);
    if (emulator.conversations.handle(method, path, recorded.query, res)) return;
    sendErrors(res, 404, [
      {
        code: "10005",
        title: "Resource not found",
        detail: "The requested resource or URL could not be found.",
      },
    ]);
  }

  function statusEvent(
    messageId: string,
    o: {
      eventType?: "message.sent" | "message.finalized";
      status?: TelnyxMessageStatus;
      errorCode?: string;
    } = {},
  ): TelnyxEvent {
    const message = sent.find((m) => m.id === messageId);
    if (!message) throw new Error(`telnyx emulator: no sent message ${messageId}`);
    const eventType = o.eventType ?? "message.sent";
    const now = new Date();
    message.status = o.status ?? (eventType === "message.sent" ? "sent" : "delivered");
    message.sentAt ??= now;
    if (eventType === "message.finalized") message.completedAt = now;
    if (o.errorCode) message.errors = [{ code: o.errorCode, title: "Undeliverable" }];
    return {
      data: {
        record_type: "event",
        id: randomUUID(),
        event_type: eventType,
        occurred_at: now.toISOString(),
        payload: messageJson(message),
      },
      meta: { attempt: 1, delivered_to: message.webhookUrl ?? "" },
    };
  }

  const emulator: TelnyxEmulator = {
    url: "",
    apiBase: "",
    apiKey,
    messagingProfileId,
    publicKey,
    requests: [],
    conversations: new TelnyxConversations(),
    sent,
    optOut: (number) => void optedOut.add(number),
    optIn: (number) => void optedOut.delete(number),
    invalid: (number) => void invalidNumbers.add(number),
    failNext: (fault) => void faults.push({ fault, left: fault.times ?? 1 }),
    signTelnyxWebhook: (body, timestamp) => signWith(signer.privateKey, body, timestamp),
    statusEvent,
    async deliver(url, event, o = {}) {
      const rawBody = JSON.stringify({ ...event, meta: { ...event.meta, delivered_to: url } });
      const headers = signWith(signer.privateKey, rawBody, o.timestamp);
      const response = await fetch(url, { method: "POST", headers, body: rawBody });
      return { status: response.status, body: await response.text(), headers, rawBody };
    },
    reset() {
      sent.length = 0;
      optedOut.clear();
      invalidNumbers.clear();
      faults.length = 0;
      emulator.conversations.clear();
      emulator.requests.length = 0;
    },
    close: async () => {
      await server?.close();
    },
  };

  server = await startEmulatorServer(handle);
  emulator.url = server.url;
  emulator.apiBase = `${server.url}/v2`;
  emulator.requests = server.requests;
  return emulator;
}

/** Whether an MDR passes `filter[field]=value` (exact) and `filter[created_at][gte|lt]` (ISO time or date). */
function matchesFilters(record: Record<string, unknown>, filters: Map<string, string>): boolean {
  for (const [key, value] of filters) {
    if (key === "record_type" || key === "date_range") continue;
    if (key === "created_at.gte" || key === "created_at.lt") {
      const at = Date.parse(String(record.created_at));
      const bound = Date.parse(value);
      if (Number.isNaN(bound)) return false;
      if (key === "created_at.gte" ? at < bound : at >= bound) return false;
      continue;
    }
    if (String(record[key] ?? "") !== value) return false;
  }
  return true;
}
