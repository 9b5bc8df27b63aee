import type Telnyx from "telnyx";
import { APIError } from "telnyx";
import {
  type SmsDeliveryStatus,
  type SmsFailureKind,
  type SmsProviderClient,
  SmsProviderError,
  type SmsSendRequest,
  type SmsSent,
  type SmsSentEarlier,
} from "../ports/sms";
import { TELNYX_STATUSES } from "../ports/sms-statuses";
import { type TelnyxAccountOptions, telnyxAccount } from "./telnyx-client";

export interface TelnyxSmsClientOptions extends TelnyxAccountOptions {
  /** Sent with every message when the connection names one (the number's profile decides otherwise). */
  messagingProfileId?: string | undefined;
}

/** Telnyx error codes (https://developers.telnyx.com/api/errors/…) and what they mean for the channel. */
const OPTED_OUT = "40300"; // Blocked due to STOP message (HTTP 409)
const RATE_LIMITED = "10011"; // Too many requests (HTTP 429)
/**
 * The number cannot receive texts: 40310 invalid 'to' address (HTTP 400), 40012 invalid destination
 * number, 40001 not routable (a landline), 40008 undeliverable (the carrier refused the number).
 */
const INVALID_NUMBER = new Set(["40310", "40012", "40001", "40008"]);

const statusOf = (raw: unknown): SmsDeliveryStatus =>
  (typeof raw === "string" ? TELNYX_STATUSES[raw] : undefined) ?? "queued";

/** How many recent messages reconciliation reads: it only looks back over one interrupted send. */
const RECONCILE_PAGE_SIZE = 20;

/** A tenant's Telnyx account sending and reconciling texts (telnyx-client.ts: no SDK retries or logging). */
export function telnyxSmsClient(opts: TelnyxSmsClientOptions): SmsProviderClient {
  const client = telnyxAccount(opts);
  return {
    provider: "telnyx",
    send: (request) => send(client, opts, request),
    sentSince: (query) => sentSince(client, query),
  };
}

async function send(client: Telnyx, opts: TelnyxSmsClientOptions, request: SmsSendRequest): Promise<SmsSent> {
  const response = await call(() =>
    client.messages.send({
      to: request.to,
      from: request.from,
      text: request.text,
      ...(opts.messagingProfileId ? { messaging_profile_id: opts.messagingProfileId } : {}),
      ...(request.statusCallbackUrl ? { webhook_url: request.statusCallbackUrl } : {}),
    }),
  );
  const id = response.data?.id;
  // Accepted without an id: the message may be out, so this is no refusal to retry blindly; reconciliation
  // (sentSince) decides whether it went.
  if (!id) throw new Error("Telnyx accepted the message but named no message id");
  return {
    providerMessageId: id,
    status: statusOf(response.data?.to?.[0]?.status),
    segments: typeof response.data?.parts === "number" ? response.data.parts : undefined,
  };
}

/**
 * Telnyx has no "list messages" endpoint; its message detail records (MDRs, `GET /v2/detail_records` with
 * `filter[record_type]=messaging`) list what an account sent, filterable by sender (`cli`), recipient
 * (`cld`), direction and `created_at`. MDRs carry no text, so each found message is read back
 * (`GET /v2/messages/{id}`) for the text reconciliation compares. The filters are applied again here, so a
 * filter the API ignored cannot make another conversation's message count.
 */
async function sentSince(
  client: Telnyx,
  query: { from: string; to: string; since: Date },
): Promise<SmsSentEarlier[]> {
  const page = await call(() =>
    client.detailRecords.list({
      filter: {
        record_type: "messaging",
        direction: "outbound",
        cli: query.from,
        cld: query.to,
        created_at: { gte: query.since.toISOString() },
      },
      sort: ["-created_at"],
      "page[size]": RECONCILE_PAGE_SIZE,
    }),
  );
  const found: SmsSentEarlier[] = [];
  for (const record of page.data) {
    const mdr = record as unknown as Record<string, unknown>;
    const createdAt = new Date(String(mdr.created_at ?? ""));
    const matches =
      typeof mdr.uuid === "string" &&
      mdr.cli === query.from &&
      mdr.cld === query.to &&
      createdAt.getTime() >= query.since.getTime();
    if (!matches) continue;
    const message = await readMessage(client, mdr.uuid as string);
    if (message) found.push({ ...message, from: query.from, to: query.to, sentAt: createdAt });
  }
  return found.sort((a, b) => b.sentAt.getTime() - a.sentAt.getTime());
}

/** A sent message's text and status; undefined when Telnyx no longer has it (404). */
async function readMessage(
  client: Telnyx,
  id: string,
): Promise<{ providerMessageId: string; text: string; status: SmsDeliveryStatus } | undefined> {
  try {
    const { data } = await client.messages.retrieve(id);
    // Outbound messages list recipients as objects; the SDK's union also admits an inbound one's strings.
    const to: unknown = data && "to" in data ? data.to?.[0] : undefined;
    const status = typeof to === "object" && to !== null ? (to as { status?: unknown }).status : undefined;
    return { providerMessageId: id, text: data?.text ?? "", status: statusOf(status) };
  } catch (error) {
    if (error instanceof APIError && error.status === 404) return undefined;
    throw toSmsError(error);
  }
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toSmsError(error);
  }
}

interface TelnyxApiError {
  code?: unknown;
  title?: unknown;
}

function firstError(body: unknown): TelnyxApiError | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const errors = (body as { errors?: unknown }).errors;
  return Array.isArray(errors) && typeof errors[0] === "object" && errors[0] !== null
    ? (errors[0] as TelnyxApiError)
    : undefined;
}

/**
 * The SDK's error in the channel's terms. The message names the status, Telnyx's code and its title only:
 * never the request (which carried the API key) nor Telnyx's `detail` (it quotes both phone numbers).
 */
export function toSmsError(error: unknown): SmsProviderError {
  if (error instanceof SmsProviderError) return error;
  if (!(error instanceof APIError) || error.status === undefined) {
    const what = error instanceof Error ? error.name : "unknown error";
    return new SmsProviderError("telnyx", "unavailable", 0, undefined, `Telnyx did not answer (${what})`);
  }
  const status = error.status;
  const first = firstError(error.error);
  const code =
    typeof first?.code === "string" || typeof first?.code === "number" ? String(first.code) : undefined;
  const title = typeof first?.title === "string" ? first.title.slice(0, 120) : undefined;
  const kind = failureKind(status, code);
  const retryAt = kind === "rate_limited" ? retryAfter(error.headers) : undefined;
  const described = code ? ` ${code}${title ? ` ${title}` : ""}` : "";
  return new SmsProviderError("telnyx", kind, status, code, `Telnyx answered ${status}${described}`, retryAt);
}

function failureKind(status: number, code: string | undefined): SmsFailureKind {
  if (status === 429 || code === RATE_LIMITED) return "rate_limited";
  if (code === OPTED_OUT) return "opted_out";
  if (code && INVALID_NUMBER.has(code)) return "invalid_number";
  if (status >= 500) return "unavailable";
  return "rejected";
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfter(headers: Headers | undefined): Date | undefined {
  const value = headers?.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return new Date(Date.now() + Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : new Date(at);
}
