import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestService, type TestService, testDatabase } from "./helpers";

/** Security headers on the demo page, the widget script and the API (the CSP in a browser: test/browser). */

let svc: TestService;
let httpsSvc: TestService;
let drop: () => Promise<void>;
beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  [svc, httpsSvc] = await Promise.all([
    startTestService(t.db),
    startTestService(t.db, { PUBLIC_URL: "https://support.example.com" }),
  ]);
});
afterAll(async () => {
  await Promise.all([svc?.close(), httpsSvc?.close()]);
  await drop?.();
});

/** `{ directive: "value …" }` of a Content-Security-Policy header. */
function csp(res: Response): Record<string, string> {
  const header = res.headers.get("content-security-policy") ?? "";
  return Object.fromEntries(
    header
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name, values.join(" ")]),
  );
}

describe("demo page (GET /)", () => {
  test("a nonce-based CSP that the page's style sheet and the widget's script tag carry", async () => {
    const res = await svc.get("/");
    const policy = csp(res);
    const nonce = /^'nonce-([A-Za-z0-9+/=]+)'$/.exec(policy["script-src"] ?? "")?.[1];
    expect(nonce).toBeDefined();
    expect(policy).toMatchObject({
      "default-src": "'none'",
      "style-src": `'nonce-${nonce}'`,
      "connect-src": "'self'",
      "base-uri": "'none'",
      "frame-ancestors": "'none'",
    });
    expect(Object.values(policy).join(" ")).not.toContain("unsafe-inline");
    const html = await res.text();
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).toMatch(
      new RegExp(`<script src="/widget.js" defer nonce="${nonce?.replace(/[+/=]/g, "\\$&")}"`),
    );
    // A fresh nonce every time.
    const again = csp(await svc.get("/"))["script-src"];
    expect(again).not.toBe(policy["script-src"]);
  });

  test("not framed, no sniffing, no referrer", async () => {
    const res = await svc.get("/");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });
});

describe("HSTS only over https", () => {
  test("plain http: none", async () => {
    expect((await svc.get("/")).headers.get("strict-transport-security")).toBeNull();
    expect(
      (await svc.get("/", { "x-forwarded-proto": "http" })).headers.get("strict-transport-security"),
    ).toBeNull();
  });
  test("https as the front end reports it (X-Forwarded-Proto)", async () => {
    const res = await svc.get("/api/v1/health", { "x-forwarded-proto": "https" });
    expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
  });
  test("PUBLIC_URL is https: on every response", async () => {
    expect((await httpsSvc.get("/healthz")).headers.get("strict-transport-security")).toMatch(/^max-age=/);
  });
});

describe("the API and its errors", () => {
  test("JSON answers, errors included, carry the headers too", async () => {
    for (const res of [await svc.get("/api/v1/health"), await svc.get("/no/such/route")]) {
      expect(csp(res)).toMatchObject({ "default-src": "'none'", "frame-ancestors": "'none'" });
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    }
  });
});

describe("/widget.js", () => {
  test("any site may load it (CORP cross-origin, CORS *), never sniffed", async () => {
    const res = await svc.get("/widget.js", { origin: "https://shop.example" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
