import type { Context, MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";

export interface SecurityHeadersOptions {
  /** The service's public URL: when it is https, every response carries HSTS. */
  publicUrl?: string | undefined;
}

/** Two years, the preload list's minimum; subdomains of a Switchboard host are Switchboard's too. */
const HSTS = "max-age=63072000; includeSubDomains";

/**
 * One policy for every response. Only the demo page (`GET /`) is a document that runs anything: its inline
 * style sheet and the widget's script tag carry the per-response nonce (`c.get("secureHeadersNonce")`), and
 * the widget hands that nonce on to the style sheet it builds in its shadow root, so neither needs
 * 'unsafe-inline'. The widget talks to its own origin only (connect-src 'self'). No page or API answer may
 * be framed (frame-ancestors, and X-Frame-Options for old browsers). The API, webhooks and internal
 * routes answer JSON, which runs nothing: they get the same policy with 'none' for scripts and styles, a
 * header built once instead of a random nonce and a new header per request.
 * https://hono.dev/docs/middleware/builtin/secure-headers
 */
export function securityHeaders(opts: SecurityHeadersOptions = {}): MiddlewareHandler {
  const page = headersWith(NONCE);
  const data = headersWith("'none'");
  const consolePage = consoleHeaders();
  const alwaysHttps = opts.publicUrl?.startsWith("https:") ?? false;
  return async function securityHeadersMiddleware(c, next) {
    const policy = DATA_ONLY.test(c.req.path) ? data : CONSOLE.test(c.req.path) ? consolePage : page;
    await policy(c, next);
    if (alwaysHttps || overHttps(c)) c.res.headers.set("Strict-Transport-Security", HSTS);
  };
}

/** Paths that answer data, never a document. */
const DATA_ONLY = /^\/(?:api|webhooks|internal)\//;
/** The web console's pages (console/): documents with their own scripts and forms. */
const CONSOLE = /^\/console(?:\/|$)/;

/**
 * The console loads its script and style sheet from /console/assets ('self'; a page's nonce for the widget
 * it previews), posts its forms to itself, and may frame its own pages (the widget's live preview), nobody
 * else may frame it.
 */
function consoleHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'", NONCE],
      styleSrc: ["'self'", NONCE],
      connectSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      frameSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'self'"],
    },
    xFrameOptions: "SAMEORIGIN",
    referrerPolicy: "same-origin",
    strictTransportSecurity: false,
    overwrite: false,
  });
}

function headersWith(scriptsAndStyles: typeof NONCE | "'none'"): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [scriptsAndStyles],
      styleSrc: [scriptsAndStyles],
      connectSrc: ["'self'"],
      // The demo page's empty favicon (`data:,`), so the browser does not fetch /favicon.ico.
      imgSrc: ["data:"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    // Added below, only where the browser reached us over https (it ignores HSTS over http anyway).
    strictTransportSecurity: false,
    // A route that sets one of these itself keeps it: /widget.js is loaded by every embedding site, so it
    // answers Cross-Origin-Resource-Policy: cross-origin instead of same-origin.
    overwrite: false,
  });
}

/** The scheme the client used, as the front end (Cloud Run, the load balancer) reports it. */
function overHttps(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return forwarded ? forwarded === "https" : new URL(c.req.url).protocol === "https:";
}
