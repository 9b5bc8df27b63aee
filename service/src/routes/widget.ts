import { Hono } from "hono";
import type { SecureHeadersVariables } from "hono/secure-headers";
import type { AppEnv } from "../http/app-env";
import { widgetScript } from "../widget/assets";
import { demoPage } from "../widget/demo-page";

/** The embeddable chat widget (`GET /widget.js`) and a page to try it on (`GET /`). */
export function widgetRoutes() {
  // Read when the app is built: a missing file fails start-up rather than the first visitor.
  const script = widgetScript();
  const app = new Hono<{ Variables: AppEnv["Variables"] & SecureHeadersVariables }>();

  app.get("/widget.js", (c) => {
    c.header("content-type", "application/javascript; charset=utf-8");
    // Short: site owners embed an unversioned URL and should get fixes within minutes.
    c.header("cache-control", "public, max-age=300");
    // Any site may load the script, also as a CORS request (`<script crossorigin>`, e.g. with subresource
    // integrity) and from pages that require CORP; what it may call is decided by CORS on /api/*.
    c.header("cross-origin-resource-policy", "cross-origin");
    c.header("access-control-allow-origin", "*");
    c.header("x-content-type-options", "nosniff");
    return c.body(script);
  });

  app.get("/", (c) => {
    // Behind Cloud Run's front end the service itself sees http; the snippet must show the public scheme.
    const url = new URL(c.req.url);
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
    const origin = `${proto === "https" || proto === "http" ? proto : url.protocol.replace(":", "")}://${url.host}`;
    c.header("cache-control", "no-cache");
    // The nonce of this response's Content-Security-Policy (middleware/security-headers.ts).
    return c.html(demoPage(origin, c.get("secureHeadersNonce") ?? ""));
  });

  return app;
}
