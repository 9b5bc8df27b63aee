import {
  type SmsDeliveryStatus,
  type SmsProviderClient,
  SmsProviderError,
  type SmsSendRequest,
  type SmsSent,
} from "../ports/sms";

/**
 * Voxie through its REST API with `fetch`: there is no maintained npm client (`npm view voxie`: 404).
 *
 * Documented (https://docs.voxie.com/reference/authentication): api.voxie.com takes Bearer JWTs issued per
 * team from an app.voxie.com API token —
 *   POST https://app.voxie.com/api/v3/teams/{teamId}/issue-personal-access-token
 *   Authorization: Bearer <API token>   {"name": "…", "scopes": [...]}
 * — valid 4 hours, to be cached and reused, at most 10 issued per minute per team; resources sit under
 * https://api.voxie.com/team/{teamId}/… (the documented example is GET …/subscriptions).
 *
 * NOT documented anywhere we could find (docs.voxie.com, its message events, public code): the shape of the
 * token response, and any endpoint that sends a message. `send` therefore uses the best-evidenced guess —
 * POST {apiBase}/team/{teamId}/messages with the field names of Voxie's own message events (`channel`,
 * `from`, `to`, `content`) — and must be confirmed with Voxie before a tenant relies on it.
 */

export interface VoxieClientOptions {
  teamId: string;
  /** The team's API token from app.voxie.com/settings#/api, exchanged for 4-hour access tokens. Never logged. */
  apiKey: string;
  /** VOXIE_API_BASE. @default "https://api.voxie.com" */
  apiBase?: string | undefined;
  /** Where access tokens are issued. @default "https://app.voxie.com" */
  appBase?: string | undefined;
  /** Scopes requested for the access token (Voxie documents no scope for sending; unconfirmed). */
  scopes?: readonly string[] | undefined;
  /** @default 10_000 */
  timeoutMs?: number | undefined;
  now?: () => number;
}

/** Voxie's access tokens live 4 hours; one is renewed this long before that, so no send meets an expired one. */
const TOKEN_LIFETIME_MS = 4 * 3_600_000;
const RENEW_MARGIN_MS = 5 * 60_000;
const DEFAULT_SCOPES = ["contacts:read", "contacts:manage", "notifications:trigger"];

interface AccessToken {
  value: string;
  expiresAt: number;
}

type Json = Record<string, unknown>;

const trimSlash = (url: string) => url.replace(/\/+$/, "");

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
function retryAt(header: string | null, now: number): Date | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return new Date(now + seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? new Date(date) : undefined;
}

async function readJson(res: Response): Promise<Json> {
  try {
    const body: unknown = await res.json();
    return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Json) : {};
  } catch {
    return {};
  }
}

/** Voxie's error body is undocumented: a `code` or `error` string is kept as the provider's code if present. */
function providerCode(body: Json): string | undefined {
  for (const key of ["code", "error_code", "error"]) {
    const value = body[key];
    if (typeof value === "string" || typeof value === "number") return String(value);
  }
  return undefined;
}

/** An HTTP refusal in the port's terms: 429 try later, 5xx unavailable, any other 4xx permanent. */
async function refusal(res: Response, what: string, now: number): Promise<SmsProviderError> {
  const body = await readJson(res);
  const code = providerCode(body);
  if (res.status === 429) {
    return new SmsProviderError(
      "voxie",
      "rate_limited",
      429,
      code,
      `${what}: rate limited`,
      retryAt(res.headers.get("retry-after"), now),
    );
  }
  const kind = res.status >= 500 ? "unavailable" : "rejected";
  return new SmsProviderError("voxie", kind, res.status, code, `${what}: HTTP ${res.status}`);
}

function firstString(body: Json, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = body[key];
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  }
  return undefined;
}

const STATUSES = new Set<SmsDeliveryStatus>([
  "queued",
  "sending",
  "sent",
  "delivered",
  "undelivered",
  "failed",
]);

class VoxieSmsClient implements SmsProviderClient {
  readonly provider = "voxie" as const;
  private readonly apiBase: string;
  private readonly appBase: string;
  private readonly now: () => number;
  private cached: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;

  constructor(private readonly opts: VoxieClientOptions) {
    this.apiBase = trimSlash(opts.apiBase ?? "https://api.voxie.com");
    this.appBase = trimSlash(opts.appBase ?? "https://app.voxie.com");
    this.now = opts.now ?? Date.now;
  }

  private async call(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        redirect: "error",
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch {
      // The cause may name the URL; it never holds a credential, but nothing of it is needed either.
      throw new SmsProviderError("voxie", "unavailable", 0, undefined, `${what}: no answer`);
    }
  }

  /** The cached access token, issued again when none is left or it is about to expire. */
  private accessToken(): Promise<AccessToken> {
    const cached = this.cached;
    if (cached && cached.expiresAt - RENEW_MARGIN_MS > this.now()) return Promise.resolve(cached);
    // One issuance shared by concurrent sends: Voxie issues at most 10 tokens a minute per team.
    this.pending ??= this.issue()
      .then((token) => {
        this.cached = token;
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** Forgets a token Voxie refused, unless another send already replaced it. */
  private invalidate(token: AccessToken): void {
    if (this.cached === token) this.cached = undefined;
  }

  private async issue(): Promise<AccessToken> {
    const what = "voxie token issue";
    const res = await this.call(
      `${this.appBase}/api/v3/teams/${encodeURIComponent(this.opts.teamId)}/issue-personal-access-token`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.opts.apiKey}`,
          accept: "application/json",
          "content-type": "application/json",
        },
        body: JSON.stringify({ name: "Switchboard", scopes: this.opts.scopes ?? DEFAULT_SCOPES }),
      },
      what,
    );
    if (!res.ok) throw await refusal(res, what, this.now());
    const body = await readJson(res);
    // The response shape is undocumented: the OAuth name, Laravel Passport's, or a bare `token`.
    const value = firstString(body, ["access_token", "accessToken", "token"]);
    if (!value)
      throw new SmsProviderError(
        "voxie",
        "unavailable",
        res.status,
        undefined,
        `${what}: no token in the answer`,
      );
    const expiresIn = Number(body.expires_in);
    const lifetime = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : TOKEN_LIFETIME_MS;
    return { value, expiresAt: this.now() + lifetime };
  }

  private async post(token: AccessToken, request: SmsSendRequest): Promise<Response> {
    return this.call(
      `${this.apiBase}/team/${encodeURIComponent(this.opts.teamId)}/messages`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${token.value}`,
          accept: "application/json",
          "content-type": "application/json",
        },
        body: JSON.stringify({ channel: "sms", from: request.from, to: request.to, content: request.text }),
      },
      "voxie send",
    );
  }

  async send(request: SmsSendRequest): Promise<SmsSent> {
    const token = await this.accessToken();
    let res = await this.post(token, request);
    if (res.status === 401) {
      // Refused before anything was sent: a revoked or expired token. One fresh token, one more try.
      this.invalidate(token);
      res = await this.post(await this.accessToken(), request);
    }
    if (!res.ok) throw await refusal(res, "voxie send", this.now());
    const body = await readJson(res);
    const data = typeof body.data === "object" && body.data !== null ? (body.data as Json) : body;
    const status = firstString(data, ["status"]);
    return {
      // Sent, whatever the answer holds: a missing id must not turn a delivered text into a retried one.
      providerMessageId: firstString(data, ["message_id", "id"]) ?? "",
      status: status && STATUSES.has(status as SmsDeliveryStatus) ? (status as SmsDeliveryStatus) : "queued",
    };
  }
}

/** One Voxie team as an SMS provider. No `sentSince`: Voxie documents no way to list sent messages. */
export function voxieSmsClient(opts: VoxieClientOptions): SmsProviderClient {
  return new VoxieSmsClient(opts);
}
