/**
 * Twilio Programmable Messaging emulator (REST API 2010-04-01) for the official `twilio` 6.x client, plus
 * signed webhooks exactly as Twilio sends them.
 *
 * Point the real SDK at it through a RequestClient whose requests to `https://api.twilio.com` are rewritten to
 * `emulator.url` (service/src/adapters/twilio.ts does so when given `apiBase`; the SDK's `edge`/`region`
 * only change the host name within twilio.com).
 *
 * Covered of the real service:
 * - HTTP Basic auth with the Account SID and auth token; anything else → 401 `{"code":20003,"message":
 *   "Authenticate",…}`. Another account's path → 404 code 20404.
 * - `POST /2010-04-01/Accounts/{AC…}/Messages.json` (form body `To`, `From` or `MessagingServiceSid`, `Body`
 *   or `MediaUrl`, `StatusCallback`) → 201 with the Message resource in snake_case (`sid` "SM…", `status`
 *   "queued", `num_segments` by GSM-7/UCS-2 length, `date_created` RFC 2822, `date_sent` null, `error_code`
 *   null, `direction` "outbound-api", `uri`, `subresource_uris`). The message then goes to `sent` (with
 *   `date_sent`) right after the answer, as Twilio's queue does within moments. Validation errors are
 *   Twilio's: 21604 (no To), 21603 (no From), 21602 (no Body), 21211 (To not E.164 or `invalid(number)`),
 *   21610 (`optOut(number)`: the recipient texted STOP).
 * - `GET …/Messages.json` with `To`, `From`, `DateSent`, `DateSent<`, `DateSent>` (a date means its midnight
 *   UTC; a message not yet sent has no date_sent and matches no DateSent filter), `PageSize` (default 50,
 *   max 1000), `Page`/`PageToken`; newest first; the real paging envelope (`messages`, `page`, `page_size`,
 *   `start`, `end`, `uri`, `first_page_uri`, `next_page_uri`, `previous_page_uri`).
 * - `GET …/Messages/{SM…}.json` (404 code 20404 when unknown).
 * - Errors are Twilio's JSON `{"code","message","more_info","status"}`; `failNext` injects 429 (code 20429,
 *   optional `Retry-After`) or 5xx (code 20500) for the next `times` API calls.
 *
 * `statusCallback(sid, status, errorCode?)` POSTs the form status callback to the message's StatusCallback,
 * signed with `X-Twilio-Signature`; `twilioInboundParams` + `signTwilioRequest` + `twilioForm` build an
 * inbound message webhook the same way. Signatures come from the SDK's own `getExpectedTwilioSignature`, so
 * service tests check the service against Twilio's helper, not against itself.
 *
 * Not covered: XML/CSV responses, Messaging Services' sender pools, scheduling, media subresources,
 * deletion/redaction, price, the SharedKey (HMAC-SHA256) webhook signatures of Webhook Rules.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import twilio from "twilio";
import { type EmulatorServer, type RecordedRequest, sendJson, startEmulatorServer } from "./http-server";

export type { RecordedRequest } from "./http-server";

export type TwilioMessageStatus =
  | "accepted"
  | "scheduled"
  | "queued"
  | "sending"
  | "sent"
  | "delivered"
  | "undelivered"
  | "failed"
  | "read"
  | "canceled"
  | "receiving"
  | "received";

/** A Message resource as the emulator keeps it (dates as Date; the wire form is built from it). */
export interface TwilioMessageRecord {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  status: TwilioMessageStatus;
  numSegments: number;
  numMedia: number;
  direction: "outbound-api" | "inbound";
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  errorCode: number | null;
  errorMessage: string | null;
  statusCallback: string | null;
  messagingServiceSid: string | null;
}

export interface TwilioFault {
  status: 429 | 500 | 502 | 503;
  /** Twilio's error code (default 20429 for 429, 20500 otherwise). */
  code?: number;
  /** How many API calls fail this way (default 1). */
  times?: number;
  /** Seconds, sent as `Retry-After` (429 only). */
  retryAfter?: number;
}

export interface TwilioEmulatorOptions {
  accountSid?: string;
  authToken?: string;
  /**
   * Where a public URL is reached from here (a service behind an edge or proxy): callbacks are signed
   * over the public URL, as Twilio signs them, and posted to this address. Default: the URL itself.
   */
  reach?: (publicUrl: string) => string;
}

export interface TwilioCallbackResult {
  url: string;
  status: number;
  body: string;
  params: Record<string, string>;
}

export interface TwilioEmulator {
  url: string;
  accountSid: string;
  authToken: string;
  requests: RecordedRequest[];
  /** Every message sent through the API, in order. */
  sent: TwilioMessageRecord[];
  messages: Map<string, TwilioMessageRecord>;
  /** The recipient texted STOP: sends to it answer 400 code 21610. */
  optOut(number: string): void;
  /** Twilio considers the number invalid: sends to it answer 400 code 21211. */
  invalid(number: string): void;
  failNext(fault: TwilioFault): void;
  /** Moves a message to `status` and POSTs its signed status callback; resolves with the receiver's answer. */
  statusCallback(sid: string, status: TwilioMessageStatus, errorCode?: number): Promise<TwilioCallbackResult>;
  reset(): void;
  close(): Promise<void>;
}

const API_VERSION = "2010-04-01";

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString("hex");
}

/** Twilio's dates: RFC 2822 in GMT (`Mon, 30 Nov 2026 18:20:13 +0000`). */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

/** The string Twilio signs over and the header it sends: base64 HMAC-SHA1 of the URL and sorted params. */
export function signTwilioRequest(
  authToken: string,
  url: string,
  params: Record<string, string | string[]>,
): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/** A form body as Twilio posts it (`application/x-www-form-urlencoded`, spaces as `+`, repeated keys repeated). */
export function twilioForm(params: Record<string, string | string[]>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
  }
  return form.toString();
}

/** The fields of Twilio's "A message comes in" webhook for an SMS (or MMS with `media`). */
export function twilioInboundParams(opts: {
  from: string;
  to: string;
  body: string;
  accountSid?: string;
  messageSid?: string;
  messagingServiceSid?: string;
  media?: { url: string; contentType: string }[];
}): Record<string, string> {
  const messageSid = opts.messageSid ?? sid(opts.media?.length ? "MM" : "SM");
  const params: Record<string, string> = {
    ToCountry: "US",
    ToState: "CA",
    SmsMessageSid: messageSid,
    NumMedia: String(opts.media?.length ?? 0),
    ToCity: "SAN FRANCISCO",
    FromZip: "94105",
    SmsSid: messageSid,
    FromState: "CA",
    SmsStatus: "received",
    FromCity: "SAN FRANCISCO",
    Body: opts.body,
    FromCountry: "US",
    To: opts.to,
    ToZip: "94103",
    NumSegments: String(segments(opts.body)),
    ReferralNumMedia: "0",
    MessageSid: messageSid,
    AccountSid: opts.accountSid ?? sid("AC"),
    From: opts.from,
    ApiVersion: API_VERSION,
  };
  if (opts.messagingServiceSid) params.MessagingServiceSid = opts.messagingServiceSid;
  for (const [i, item] of (opts.media ?? []).entries()) {
    params[`MediaUrl${i}`] = item.url;
    params[`MediaContentType${i}`] = item.contentType;
  }
  return params;
}

// GSM 03.38 basic set; the extension characters cost two septets.
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION = "^{}\\[~]|€\f";

/** Segments the way carriers count them: GSM-7 160/153 septets, otherwise UCS-2 70/67 code units. */
export function segments(text: string): number {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (GSM_BASIC.includes(ch)) septets += 1;
    else if (GSM_EXTENSION.includes(ch)) septets += 2;
    else gsm = false;
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
}

const E164 = /^\+[1-9]\d{6,14}$/;

function errorBody(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function sendTwilioError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, errorBody(status, code, message), { "twilio-request-id": sid("RQ"), ...headers });
}

export async function startTwilioEmulator(opts: TwilioEmulatorOptions = {}): Promise<TwilioEmulator> {
  const accountSid = opts.accountSid ?? sid("AC");
  const authToken = opts.authToken ?? randomBytes(16).toString("hex");
  const messages = new Map<string, TwilioMessageRecord>();
  const sent: TwilioMessageRecord[] = [];
  const optedOut = new Set<string>();
  const invalidNumbers = new Set<string>();
  const faults: TwilioFault[] = [];
  const accountPath = `/${API_VERSION}/Accounts/${accountSid}`;

  function wire(m: TwilioMessageRecord): Record<string, unknown> {
    const uri = `${accountPath}/Messages/${m.sid}.json`;
    return {
      account_sid: m.accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
      date_updated: rfc2822(m.dateUpdated),
      direction: m.direction,
      error_code: m.errorCode,
      error_message: m.errorMessage,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: String(m.numMedia),
      num_segments: String(m.numSegments),
      price: null,
      price_unit: "USD",
      sid: m.sid,
      status: m.status,
      subresource_uris: {
        media: `${accountPath}/Messages/${m.sid}/Media.json`,
        feedback: `${accountPath}/Messages/${m.sid}/Feedback.json`,
      },
      to: m.to,
      uri,
    };
  }

  function authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (!match?.[1]) return false;
    return Buffer.from(match[1], "base64").toString("utf8") === `${accountSid}:${authToken}`;
  }

  function takeFault(): TwilioFault | undefined {
    const fault = faults[0];
    if (!fault) return undefined;
    const left = (fault.times ?? 1) - 1;
    if (left <= 0) faults.shift();
    else fault.times = left;
    return fault;
  }

  /** Twilio's 400 for a send it refuses, as [code, message], or undefined to accept it. */
  function refusal(form: URLSearchParams): [number, string] | undefined {
    const to = form.get("To");
    if (!to) return [21604, "A 'To' phone number is required."];
    if (!form.get("From") && !form.get("MessagingServiceSid"))
      return [21603, "A 'From' phone number is required."];
    if (!form.get("Body") && form.getAll("MediaUrl").length === 0)
      return [21602, "Message body is required."];
    if (!E164.test(to) || invalidNumbers.has(to))
      return [21211, `Invalid 'To' Phone Number: ${to.slice(0, 6)}XXXX`];
    if (optedOut.has(to)) return [21610, "Attempt to send to unsubscribed recipient"];
    return undefined;
  }

  function create(res: ServerResponse, form: URLSearchParams): void {
    const refused = refusal(form);
    if (refused) {
      sendTwilioError(res, 400, ...refused);
      return;
    }
    const to = form.get("To") ?? "";
    const from = form.get("From");
    const messagingServiceSid = form.get("MessagingServiceSid");
    const body = form.get("Body") ?? "";
    const mediaUrls = form.getAll("MediaUrl");
    const now = new Date();
    const message: TwilioMessageRecord = {
      sid: sid(mediaUrls.length > 0 ? "MM" : "SM"),
      accountSid,
      to,
      from: from ?? "",
      body,
      status: "queued",
      numSegments: segments(body),
      numMedia: mediaUrls.length,
      direction: "outbound-api",
      dateCreated: now,
      dateUpdated: now,
      dateSent: null,
      errorCode: null,
      errorMessage: null,
      statusCallback: form.get("StatusCallback"),
      messagingServiceSid,
    };
    messages.set(message.sid, message);
    sent.push(message);
    sendJson(res, 201, wire(message), { "twilio-request-id": sid("RQ") });
    // Twilio's queue hands the message to the carrier within moments of the answer.
    setImmediate(() => {
      if (message.status !== "queued") return;
      message.status = "sent";
      message.dateSent = new Date();
      message.dateUpdated = message.dateSent;
    });
  }

  function dateFilter(value: string | null): Date | undefined {
    if (!value) return undefined;
    const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }

  function list(res: ServerResponse, query: URLSearchParams): void {
    const pageSize = Math.min(Math.max(Number(query.get("PageSize") ?? 50) || 50, 1), 1000);
    const to = query.get("To");
    const from = query.get("From");
    const after = dateFilter(query.get("DateSent>"));
    const before = dateFilter(query.get("DateSent<"));
    const on = query.get("DateSent");
    const matching = [...messages.values()]
      .filter((m) => (to ? m.to === to : true) && (from ? m.from === from : true))
      .filter((m) => {
        if (!after && !before && !on) return true;
        if (!m.dateSent) return false;
        if (after && m.dateSent < after) return false;
        if (before && m.dateSent > before) return false;
        if (on && m.dateSent.toISOString().slice(0, 10) !== on) return false;
        return true;
      })
      .sort((a, b) => (b.dateSent ?? b.dateCreated).getTime() - (a.dateSent ?? a.dateCreated).getTime());
    const page = Math.max(Number(query.get("Page") ?? 0) || 0, 0);
    const token = query.get("PageToken");
    const tokenIndex = token ? matching.findIndex((m) => `PA${m.sid}` === token) : -1;
    const start = tokenIndex >= 0 ? tokenIndex + 1 : page * pageSize;
    const items = matching.slice(start, start + pageSize);
    const base = new URLSearchParams();
    for (const key of ["To", "From", "DateSent", "DateSent<", "DateSent>"]) {
      const value = query.get(key);
      if (value !== null) base.set(key, value);
    }
    base.set("PageSize", String(pageSize));
    const pageUri = (n: number, extra?: Record<string, string>) => {
      const q = new URLSearchParams(base);
      q.set("Page", String(n));
      for (const [k, v] of Object.entries(extra ?? {})) q.set(k, v);
      return `${accountPath}/Messages.json?${q.toString()}`;
    };
    const last = items.at(-1);
    const hasNext = start + pageSize < matching.length && last !== undefined;
    sendJson(res, 200, {
      first_page_uri: pageUri(0),
      end: items.length === 0 ? 0 : start + items.length - 1,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      messages: items.map(wire),
      uri: `${accountPath}/Messages.json?${query.toString()}`,
      page_size: pageSize,
      start,
      next_page_uri: hasNext ? pageUri(page + 1, { PageToken: `PA${last.sid}` }) : null,
      page,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest): Promise<void> {
    if (!authorized(req)) {
      return sendTwilioError(res, 401, 20003, "Authenticate", {
        "www-authenticate": 'Basic realm="Twilio API"',
      });
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = recorded.path;
    const notFound = () => sendTwilioError(res, 404, 20404, `The requested resource ${path} was not found`);
    if (!path.startsWith(`${accountPath}/`)) return notFound();
    const fault = takeFault();
    if (fault) {
      const code = fault.code ?? (fault.status === 429 ? 20429 : 20500);
      const headers: Record<string, string> =
        fault.status === 429 && fault.retryAfter !== undefined
          ? { "retry-after": String(fault.retryAfter) }
          : {};
      return sendTwilioError(
        res,
        fault.status,
        code,
        fault.status === 429 ? "Too Many Requests" : "Internal Server Error",
        headers,
      );
    }
    const rest = path.slice(accountPath.length);
    if (rest === "/Messages.json" && req.method === "POST")
      return create(res, new URLSearchParams(recorded.rawBody));
    if (rest === "/Messages.json" && req.method === "GET") return list(res, url.searchParams);
    const one = /^\/Messages\/((?:SM|MM)[0-9a-f]{32})\.json$/.exec(rest);
    if (one?.[1] && req.method === "GET") {
      const message = messages.get(one[1]);
      return message ? sendJson(res, 200, wire(message)) : notFound();
    }
    return notFound();
  }

  const server: EmulatorServer = await startEmulatorServer(handle);

  async function statusCallback(
    messageSid: string,
    status: TwilioMessageStatus,
    errorCode?: number,
  ): Promise<TwilioCallbackResult> {
    const message = messages.get(messageSid);
    if (!message) throw new Error(`no message ${messageSid}`);
    if (!message.statusCallback) throw new Error(`message ${messageSid} has no StatusCallback`);
    message.status = status;
    message.dateUpdated = new Date();
    if (errorCode !== undefined) message.errorCode = errorCode;
    const params: Record<string, string> = {
      SmsSid: message.sid,
      SmsStatus: status,
      MessageStatus: status,
      To: message.to,
      MessageSid: message.sid,
      AccountSid: accountSid,
      From: message.from,
      ApiVersion: API_VERSION,
    };
    if (errorCode !== undefined) params.ErrorCode = String(errorCode);
    if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
    const url = message.statusCallback;
    const response = await fetch(opts.reach?.(url) ?? url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "x-twilio-signature": signTwilioRequest(authToken, url, params),
        "i-twilio-idempotency-token": randomBytes(16).toString("hex"),
        "user-agent": "TwilioProxy/1.1",
      },
      body: twilioForm(params),
    });
    return { url, status: response.status, body: await response.text(), params };
  }

  return {
    url: server.url,
    accountSid,
    authToken,
    requests: server.requests,
    sent,
    messages,
    optOut: (number) => void optedOut.add(number),
    invalid: (number) => void invalidNumbers.add(number),
    failNext: (fault) => void faults.push({ ...fault }),
    statusCallback,
    reset() {
      messages.clear();
      sent.length = 0;
      optedOut.clear();
      invalidNumbers.clear();
      faults.length = 0;
      server.requests.length = 0;
    },
    close: () => server.close(),
  };
}
