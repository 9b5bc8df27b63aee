import type { Context } from "hono";
import type { OidcClient } from "./oidc";

/** How people sign in to this deployment's console (compose/http-app.ts builds it from the configuration). */
export interface SignInOptions {
  /** The issuer's client; undefined without OIDC_ISSUER. */
  oidc?: OidcClient | undefined;
  /** OIDC_REDIRECT_URL; unset: PUBLIC_URL (else the address the browser used) + /console/auth/callback. */
  redirectUrl?: string | undefined;
  /** The one-time local link works (no issuer, not production). */
  localLinks: boolean;
  /** PUBLIC_URL: https there means Secure cookies; also the base of absolute URLs. */
  publicUrl?: string | undefined;
}

export const CALLBACK_PATH = "/console/auth/callback";

/** Whether the browser talks https to us (directly, or to the proxy in front). */
export function isHttps(c: Context, publicUrl: string | undefined): boolean {
  if (publicUrl?.startsWith("https:") || c.req.url.startsWith("https:")) return true;
  return c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

/** The service's origin as the browser sees it: PUBLIC_URL, else the request's own. */
export function publicOrigin(c: Context, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  const url = new URL(c.req.url);
  if (isHttps(c, undefined)) url.protocol = "https:";
  return url.origin;
}

export function redirectUri(c: Context, opts: SignInOptions): string {
  return opts.redirectUrl ?? `${publicOrigin(c, opts.publicUrl)}${CALLBACK_PATH}`;
}

/**
 * Where to go after sign-in: a console path of this origin only (`/console…`, no `//` or `\` that a browser
 * would read as another host); anything else is dropped, so the sign-in cannot be an open redirect.
 */
export function safeNext(next: string | undefined | null): string | null {
  if (!next || next.length > 2000) return null;
  if (!/^\/console(?:[/?#]|$)/.test(next)) return null;
  if (next.includes("//") || next.includes("\\")) return null;
  return next;
}
