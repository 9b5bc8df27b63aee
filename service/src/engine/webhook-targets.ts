import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { isForbiddenAddress } from "../domain/network-address";

/**
 * Where a tenant's webhooks may go. An endpoint URL is the tenant's to choose, so without these rules it
 * would make the service post to its own network (the metadata server, the database, other services):
 * https only, and never a loopback, private or link-local address. Locally (the emulators, tests) the
 * deployment allows http to localhost and private addresses (WEBHOOK_ALLOW_LOCAL_TARGETS). The sender
 * checks the address it actually connects to again (adapters/webhook-sender.ts): DNS may change after
 * registration.
 */

export interface TargetPolicy {
  /** http://localhost and loopback or private addresses allowed (never in production). */
  allowLocal: boolean;
}

export type TargetCheck = { ok: true; url: string } | { ok: false; reason: string };

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The URL's own rules (no DNS): a URL, https (or http to localhost when allowed), no credentials in it. */
export function checkTargetUrl(raw: string, policy: TargetPolicy): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "url must be an absolute URL" };
  }
  if (url.username || url.password)
    return { ok: false, reason: "url must not carry a user name or password" };
  const local = LOCAL_HOSTS.has(url.hostname.toLowerCase());
  if (url.protocol === "http:" && !(local && policy.allowLocal)) {
    return { ok: false, reason: "url must be https (http only to localhost, outside production)" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, reason: "url must be https" };
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!policy.allowLocal && (local || (isIP(host) !== 0 && isForbiddenAddress(host)))) {
    return { ok: false, reason: "url must not point at a loopback, private or link-local address" };
  }
  return { ok: true, url: url.toString() };
}

export type Resolve = (host: string) => Promise<string[]>;

const resolveAll: Resolve = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/**
 * The URL's rules, and (unless local targets are allowed) every address its host resolves to: a name
 * that resolves to a private address is refused like the address itself.
 */
export async function checkTarget(
  raw: string,
  policy: TargetPolicy,
  resolve: Resolve = resolveAll,
): Promise<TargetCheck> {
  const checked = checkTargetUrl(raw, policy);
  if (!checked.ok || policy.allowLocal) return checked;
  const host = new URL(checked.url).hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0) return checked;
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    return { ok: false, reason: `url's host ${host} does not resolve` };
  }
  if (addresses.length === 0 || addresses.some(isForbiddenAddress)) {
    return { ok: false, reason: "url must not point at a loopback, private or link-local address" };
  }
  return checked;
}
