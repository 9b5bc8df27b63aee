import Telnyx from "telnyx";

export interface TelnyxAccountOptions {
  apiKey: string;
  /** TELNYX_API_BASE: another API host with its `/v2` (an emulator, `http://127.0.0.1:PORT/v2`). */
  apiBase?: string | undefined;
  timeoutMs?: number | undefined;
}

const DEFAULT_API_BASE = "https://api.telnyx.com/v2";

/**
 * A tenant's Telnyx account through the official client (7.x), as the SMS and voice adapters use it. The
 * SDK's own retries are off: the pipeline retries with backoff and must see each refusal. Its logging is
 * off too, so nothing it might print about a request (the Authorization header included) reaches the
 * service's logs. The base URL and public key are explicit, so TELNYX_BASE_URL / TELNYX_PUBLIC_KEY in the
 * environment cannot redirect a tenant's key.
 */
export function telnyxAccount(opts: TelnyxAccountOptions): Telnyx {
  return new Telnyx({
    apiKey: opts.apiKey,
    baseURL: opts.apiBase ?? DEFAULT_API_BASE,
    publicKey: null,
    maxRetries: 0,
    timeout: opts.timeoutMs ?? 15_000,
    logLevel: "off",
  });
}
