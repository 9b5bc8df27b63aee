import { type LookupAddress, type LookupOptions, lookup } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { Webhook } from "standardwebhooks";
import { isForbiddenAddress } from "../domain/network-address";
import type { SendResult, SignedDelivery, WebhookSender } from "../ports/webhook-sender";

export interface HttpWebhookSenderOptions {
  /** A receiver that has not answered by then has failed this attempt. @default 15_000 */
  timeoutMs?: number;
  /** Connect to loopback and private addresses too (local emulators, tests; never production). */
  allowLocal: boolean;
}

/**
 * Posts Standard Webhooks: signed by the `standardwebhooks` package over `id.timestamp.body` with the
 * endpoint's `whsec_` secret, sent as `webhook-id`, `webhook-timestamp` and `webhook-signature`. Redirects
 * are not followed (a 3xx is a failed attempt): a redirect could lead anywhere, the checks below included.
 * The address the request connects to is checked as it is resolved, so a name re-pointed at a private
 * address after registration is refused too.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export class HttpWebhookSender implements WebhookSender {
  private readonly timeoutMs: number;

  constructor(private readonly opts: HttpWebhookSenderOptions) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  async send(delivery: SignedDelivery): Promise<SendResult> {
    const started = performance.now();
    const timestamp = new Date();
    const signature = new Webhook(delivery.secret).sign(delivery.messageId, timestamp, delivery.body);
    const headers = {
      "content-type": "application/json",
      "user-agent": "Switchboard-Webhooks/1",
      "webhook-id": delivery.messageId,
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "webhook-signature": signature,
    };
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const statusCode = await this.post(delivery.url, headers, delivery.body);
      return {
        statusCode,
        error: statusCode >= 200 && statusCode < 300 ? null : `HTTP ${statusCode}`,
        durationMs: elapsed(),
      };
    } catch (error) {
      return { statusCode: null, error: describe(error), durationMs: elapsed() };
    }
  }

  private post(url: string, headers: Record<string, string>, body: string): Promise<number> {
    const target = new URL(url);
    // An address written in the URL is never looked up, so the lookup below would not see it.
    const literal = target.hostname.replace(/^\[|\]$/g, "");
    if (!this.opts.allowLocal && isIP(literal) !== 0 && isForbiddenAddress(literal)) {
      return Promise.reject(
        Object.assign(new Error(`${literal} is a forbidden address`), { code: "EFORBIDDEN" }),
      );
    }
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<number>((resolve, reject) => {
      const req = send(
        target,
        {
          method: "POST",
          headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
          timeout: this.timeoutMs,
          ...(this.opts.allowLocal ? {} : { lookup: guardedLookup }),
        },
        (res: IncomingMessage) => {
          // The answer's body is not kept (it is the receiver's); read and dropped so the socket is freed.
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  }
}

/** DNS resolution that refuses loopback, private and link-local answers (an IP literal is checked too). */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...(options as LookupOptions), all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, "", 4);
    const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
    if (forbidden || addresses.length === 0) {
      return callback(
        Object.assign(new Error(`${hostname} resolves to a forbidden address`), { code: "EFORBIDDEN" }),
        "",
        4,
      );
    }
    if ((options as LookupOptions).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0] as LookupAddress;
    return callback(null, first.address, first.family);
  });
};

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return (typeof code === "string" ? `${code}: ${message}` : message).slice(0, 300);
}
