import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { InboundRequest, WebhookVerifier } from "../../pipeline/channel";
import { type FormFields, parseForm } from "./form";

/**
 * Twilio's `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, url + every field's name and value)), the
 * names in sorted order and a repeated name once per distinct value, its values sorted — exactly as the
 * official helper (twilio-node `getExpectedTwilioSignature`) builds it, so both accept the same requests.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
export function twilioSignature(authToken: string, url: string, fields: FormFields): string {
  let data = url;
  for (const name of [...fields.keys()].sort()) {
    for (const value of [...new Set(fields.get(name))].sort()) data += name + value;
  }
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}

/**
 * The URL as Twilio may have signed it. Twilio has signed some callbacks with the port and some without
 * (an https URL's `:443`, a non-standard port), so — like the official validator — the URL is tried as
 * configured, without its port and with the scheme's default port. All variants are keyed by the same
 * secret: accepting them admits no request the auth token did not sign.
 */
export function urlVariants(url: string): string[] {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) return [url];
  const [, scheme = "", authority = "", rest = ""] = match;
  const at = authority.lastIndexOf("@");
  const userInfo = authority.slice(0, at + 1);
  const hostAndPort = authority.slice(at + 1);
  // A colon only starts the port after an IPv6 literal's closing bracket.
  const colon = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  const host = colon === -1 ? hostAndPort : hostAndPort.slice(0, colon);
  const withoutPort = scheme + userInfo + host + rest;
  const defaultPort = scheme.toLowerCase() === "https://" ? ":443" : ":80";
  const withPort = colon === -1 ? scheme + userInfo + host + defaultPort + rest : url;
  return [...new Set([url, withoutPort, withPort])];
}

function sameText(received: string, expected: string): boolean {
  const a = Buffer.from(received, "utf8");
  const b = Buffer.from(expected, "utf8");
  // A length differs only for a malformed header; equal lengths are compared in constant time.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies one request. A form body is signed through its fields. A JSON body (Twilio then puts
 * `bodySHA256=<hex SHA-256 of the body>` in the URL) is signed through the URL alone, and the body's
 * hash must match that parameter.
 */
export function verifyTwilioRequest(authToken: string, request: InboundRequest): boolean {
  const header = request.header("x-twilio-signature")?.trim();
  if (!header) return false;
  const bodyHash = bodySha256Param(request.url);
  const fields: FormFields = bodyHash === undefined ? parseForm(request.body) : new Map();
  let signed = false;
  for (const url of urlVariants(request.url)) {
    if (sameText(header, twilioSignature(authToken, url, fields))) signed = true;
  }
  if (!signed) return false;
  if (bodyHash === undefined) return true;
  return sameText(bodyHash.toLowerCase(), createHash("sha256").update(request.body).digest("hex"));
}

function bodySha256Param(url: string): string | undefined {
  const query = url.indexOf("?");
  if (query === -1) return undefined;
  const value = new URLSearchParams(url.slice(query + 1).split("#")[0]).get("bodySHA256");
  return value ?? undefined;
}

/** Synchronous: nothing to fetch, so the acknowledgement waits for nothing. */
export function twilioVerifier(authToken: string): WebhookVerifier {
  return { verify: (request) => verifyTwilioRequest(authToken, request) };
}
