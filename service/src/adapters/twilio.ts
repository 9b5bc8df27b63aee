import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient";
import type Response from "twilio/lib/http/response";
import {
  type SmsDeliveryStatus,
  type SmsFailureKind,
  type SmsProviderClient,
  SmsProviderError,
  type SmsSendRequest,
  type SmsSent,
  type SmsSentEarlier,
} from "../ports/sms";
import { TWILIO_STATUSES } from "../ports/sms-statuses";

/**
 * Twilio Programmable Messaging through the official client (`twilio` 6.x), one client per connection
 * (account). Retries are the outbox's job: the SDK's own 429 retry stays off.
 */
export interface TwilioSmsClientOptions {
  accountSid: string;
  authToken: string;
  /** TWILIO_API_BASE: another origin for `https://api.twilio.com` (an emulator). */
  apiBase?: string | undefined;
  /** Socket inactivity timeout per request (default 10 s). */
  timeoutMs?: number | undefined;
}

const TWILIO_API = "https://api.twilio.com";

/**
 * Messages sent this long before `since` still count in `sentSince`: Twilio's dates have whole seconds and
 * its clock is not ours.
 */
const CLOCK_ALLOWANCE_MS = 5_000;

/** Twilio's codes for a recipient that cannot get SMS: not a number, not a mobile, not reachable by SMS. */
const INVALID_NUMBER_CODES = new Set([21211, 21614, 21612]);
/** Attempt to send to unsubscribed recipient (the customer texted STOP). */
const OPTED_OUT_CODE = 21610;
const TOO_MANY_REQUESTS_CODE = 20429;

/**
 * An HTTP answer Twilio refused with, as the request client saw it: unlike the SDK's RestException it keeps
 * the response headers (a 429's Retry-After). Carries no request detail, so no credential.
 */
class TwilioRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    readonly retryAfter: string | undefined,
  ) {
    super(`Twilio answered HTTP ${status}`);
  }
}

function errorCode(body: unknown): number | undefined {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  const code = (parsed as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : typeof code === "string" && code !== "" ? Number(code) : undefined;
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== "object") return undefined;
  const value = (headers as Record<string, unknown>)[name];
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * The SDK's request client, sent to `apiBase` instead of api.twilio.com when one is given (the SDK's
 * `edge`/`region` options only change the host within twilio.com), and turning a refusal into
 * `TwilioRefused` while its headers are still at hand.
 */
class TwilioRequestClient extends twilio.RequestClient {
  constructor(
    private readonly apiBase: string | undefined,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true });
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const uri =
      this.apiBase && opts.uri.startsWith(TWILIO_API)
        ? this.apiBase + opts.uri.slice(TWILIO_API.length)
        : opts.uri;
    const response = await super.request<TData>({ ...opts, uri });
    if (response.statusCode >= 400) {
      throw new TwilioRefused(
        response.statusCode,
        errorCode(response.body),
        header(response.headers, "retry-after"),
      );
    }
    return response;
  }
}

function retryAt(retryAfter: string | undefined, now: number): Date | undefined {
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return new Date(now + seconds * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : new Date(date);
}

function failureKind(status: number, code: number | undefined): SmsFailureKind {
  if (code === OPTED_OUT_CODE) return "opted_out";
  if (code !== undefined && INVALID_NUMBER_CODES.has(code)) return "invalid_number";
  if (status === 429 || code === TOO_MANY_REQUESTS_CODE) return "rate_limited";
  if (status >= 500) return "unavailable";
  return "rejected";
}

/**
 * Any failure of a call, as the SMS channel handles it. Messages name the status and Twilio's code only:
 * Twilio's own text can quote the recipient's number, and an HTTP library error carries the request's
 * Authorization header, so neither is passed on.
 */
function twilioFailure(error: unknown, now = Date.now()): unknown {
  if (error instanceof TwilioRefused || error instanceof twilio.RestException) {
    const code = error.code === undefined || Number.isNaN(error.code) ? undefined : error.code;
    const kind = failureKind(error.status, code);
    const wait =
      error instanceof TwilioRefused && kind === "rate_limited" ? retryAt(error.retryAfter, now) : undefined;
    const suffix = code === undefined ? "" : ` (code ${code})`;
    return new SmsProviderError(
      "twilio",
      kind,
      error.status,
      code?.toString(),
      `Twilio refused: HTTP ${error.status}${suffix}`,
      wait,
    );
  }
  const network = (error as { isAxiosError?: unknown; code?: unknown } | null) ?? {};
  if (network.isAxiosError === true) {
    const reason = typeof network.code === "string" ? network.code : "no response";
    return new SmsProviderError("twilio", "unavailable", 0, undefined, `Twilio did not answer: ${reason}`);
  }
  return error;
}

function status(value: string | undefined | null): SmsDeliveryStatus {
  return (value && TWILIO_STATUSES[value]) || "queued";
}

export function twilioSmsClient(opts: TwilioSmsClientOptions): SmsProviderClient {
  const apiBase = opts.apiBase?.replace(/\/+$/, "");
  const client = twilio(opts.accountSid, opts.authToken, {
    httpClient: new TwilioRequestClient(apiBase, opts.timeoutMs ?? 10_000),
    autoRetry: false,
  });

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw twilioFailure(error);
    }
  }

  return {
    provider: "twilio",

    async send(request: SmsSendRequest): Promise<SmsSent> {
      const message = await call(() =>
        client.messages.create({
          to: request.to,
          from: request.from,
          body: request.text,
          ...(request.statusCallbackUrl ? { statusCallback: request.statusCallbackUrl } : {}),
        }),
      );
      const segments = Number(message.numSegments);
      return {
        providerMessageId: message.sid,
        status: status(message.status),
        segments: Number.isInteger(segments) && segments > 0 ? segments : undefined,
      };
    },

    /**
     * Lists by sender and recipient only and keeps what was created since `since`. Twilio's `DateSent>`
     * filter is documented by the day, and a message still queued (Twilio holds messages beyond the
     * number's throughput) has no date_sent yet, so it would miss exactly the send a crash left unknown.
     */
    async sentSince(query): Promise<SmsSentEarlier[]> {
      const messages = await call(() => client.messages.list({ from: query.from, to: query.to, limit: 20 }));
      const earliest = query.since.getTime() - CLOCK_ALLOWANCE_MS;
      return messages
        .filter((m) => m.dateCreated instanceof Date && m.dateCreated.getTime() >= earliest)
        .map((m) => ({
          providerMessageId: m.sid,
          to: m.to,
          from: m.from,
          text: m.body,
          status: status(m.status),
          sentAt: m.dateSent ?? m.dateCreated,
        }))
        .sort((a, b) => b.sentAt.getTime() - a.sentAt.getTime());
    },
  };
}
