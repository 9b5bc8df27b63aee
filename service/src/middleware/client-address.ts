import { isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/app-env";

export interface ClientAddressOptions {
  /**
   * Proxies in front of the service that each append to `X-Forwarded-For`: 1 for Cloud Run alone, 2 for
   * a Google external Application Load Balancer in front of Cloud Run, 0 when clients connect directly.
   * @default 0
   */
  trustedProxyHops?: number;
}

/** When the socket's peer is unknown (a request that did not come through a Node server). */
export const UNKNOWN_ADDRESS = "unknown";

/**
 * Resolves the client's address once, for every later use (limits, logs), and sets it as
 * `clientAddress` on the context.
 */
export function clientAddress(opts: ClientAddressOptions = {}): MiddlewareHandler<AppEnv> {
  const hops = opts.trustedProxyHops ?? 0;
  return async function clientAddressMiddleware(c, next) {
    c.set("clientAddress", resolveClientAddress(c.req.header("x-forwarded-for"), socketAddress(c), hops));
    await next();
  };
}

/**
 * The entry `hops` places from the right of `X-Forwarded-For`: the address the outermost trusted proxy
 * saw. Every proxy appends, so whatever a client wrote itself stays to the left of it and is never read.
 * With no proxy, too few entries (the request did not come through the proxies) or an entry that is not
 * an IP address, the socket's peer: a client can make none of them say something else.
 */
export function resolveClientAddress(forwardedFor: string | undefined, socket: string, hops: number): string {
  if (hops === 0 || !forwardedFor) return socket;
  // Node joins repeated X-Forwarded-For headers with ", " in arrival order, so one split covers both.
  const entries = forwardedFor.split(",");
  if (entries.length < hops) return socket;
  return normalizeAddress(entries[entries.length - hops] ?? "") ?? socket;
}

/** A bare, lower-case IP address (no brackets, port or zone; IPv4-mapped IPv6 as IPv4), or undefined. */
export function normalizeAddress(raw: string): string | undefined {
  let value = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1]) value = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
  value = value.replace(/%.*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(value);
  if (mapped?.[1]) value = mapped[1];
  return isIP(value) ? value : undefined;
}

function socketAddress(c: Context<AppEnv>): string {
  try {
    return normalizeAddress(getConnInfo(c).remote.address ?? "") ?? UNKNOWN_ADDRESS;
  } catch {
    // app.request() in tests, or another runtime: no socket to read.
    return UNKNOWN_ADDRESS;
  }
}
