import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { putDocument } from "../../service/src/db/knowledge";
import { createTenant, updateTenant } from "../../service/src/db/platform";
import { inTenant } from "../../service/src/db/tenant-scope";
import type { Tenant, TenantSettings } from "../../service/src/domain/tenant";
import { documentChunks } from "../../service/src/engine/knowledge";
import { bearer, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * Web chat per tenant (issue 12): the widget key picks the tenant, answers come from that tenant's
 * knowledge only, credentials of another tenant are refused, a suspended tenant answers nothing, and
 * each tenant's allowed origins decide which pages may use its chat.
 */

const JWT_SECRET = "tenant-web-test-secret-0123456789abcdef012";
const SESSION_KEY = "tenant-web-session-signing-key-0123456789ab";
const DEPLOYMENT_ORIGIN = "https://deploy.example.com";
const ACME_ORIGIN = "https://acme.example";

let db: Database;
let drop: () => Promise<void>;
let svc: TestService;
let acme: Tenant;
let globex: Tenant;
let closed: Tenant;

interface ChatBody {
  sessionId: string;
  reply: string;
  sessionToken?: string;
}
interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

async function tenantWith(slug: string, body: string, settings: TenantSettings = {}) {
  const tenant = await createTenant(db.sql, { slug, name: slug, settings });
  const doc = { slug: "returns", title: `${slug} returns`, body };
  await inTenant(tenant.id, () => putDocument(db.sql, doc, documentChunks(doc)));
  return tenant;
}

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startTestService(db, {
    JWT_SECRET,
    SESSION_SIGNING_KEY: SESSION_KEY,
    CORS_ORIGINS: DEPLOYMENT_ORIGIN,
    RATE_LIMIT_CLIENT_PER_MINUTE: "1000",
    RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "1000",
  });
  // Distinct tenants, created before any request names them: no directory or engine cache is involved.
  acme = await tenantWith("acme", "Acme takes back anvils for a refund within 30 days of delivery.", {
    widget: { allowedOrigins: [ACME_ORIGIN], title: "Acme help", primaryColor: "#112233", position: "left" },
  });
  globex = await tenantWith("globex", "Globex takes back rockets for a refund within 90 days of launch.");
  closed = await tenantWith("closed", "Closed takes back nothing.");
  await updateTenant(db.sql, closed.id, { status: "suspended" });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

const key = (tenant: Tenant) => ({ "x-switchboard-tenant": tenant.widgetKey });
const ask = (headers: Record<string, string> = {}, message = "How do refunds work?") =>
  svc.post("/api/v1/chat", { message }, headers);
const userToken = (claims: Record<string, unknown>, sub = `u_${randomUUID()}`) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(JWT_SECRET));

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ErrorBody;
  expect(body.error).toEqual({ code, message: expect.any(String), requestId: expect.any(String) });
  return body.error;
}

async function reply(res: Response): Promise<ChatBody> {
  expect(res.status).toBe(200);
  return (await res.json()) as ChatBody;
}

describe("the widget key picks the tenant", () => {
  test("each key answers from its own tenant's knowledge only; no key is the default tenant", async () => {
    const a = await reply(await ask(key(acme)));
    expect(a.reply).toContain("anvils");
    expect(a.reply).not.toContain("rockets");
    const b = await reply(await ask(key(globex)));
    expect(b.reply).toContain("rockets");
    expect(b.reply).not.toContain("anvils");
    const d = await reply(await ask());
    expect(d.reply).not.toMatch(/anvils|rockets/);
  });

  test("a streamed reply runs in its tenant's scope to the end", async () => {
    const res = await ask({ ...key(globex), accept: "text/event-stream" });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split(/\n\n/).filter(Boolean);
    const deltas = events
      .filter((e) => e.startsWith("event: delta"))
      .map((e) => (JSON.parse(e.replace(/^[\s\S]*?data: /, "")) as { text: string }).text)
      .join("");
    expect(deltas).toContain("rockets");
    const done = events.find((e) => e.startsWith("event: done")) ?? "";
    expect(done).toContain("rockets");
    expect(done).not.toContain("anvils");
  });

  test("an unknown or malformed key is 404 unknown_tenant", async () => {
    await expectError(await ask({ "x-switchboard-tenant": "pk_nobody_has_this_key" }), 404, "unknown_tenant");
    await expectError(await ask({ "x-switchboard-tenant": "../../etc" }), 404, "unknown_tenant");
  });

  test("a suspended tenant's chat, history and widget look are 403 tenant_suspended", async () => {
    const err = await expectError(await ask(key(closed)), 403, "tenant_suspended");
    expect(err.message).toMatch(/unavailable/);
    await expectError(await svc.get("/api/v1/widget/config", key(closed)), 403, "tenant_suspended");
    await expectError(
      await svc.get(`/api/v1/sessions/${randomUUID()}/messages`, key(closed)),
      403,
      "tenant_suspended",
    );
  });
});

describe("credentials are bound to their tenant", () => {
  test("a user JWT's tenant claim picks the tenant; with another tenant's key it is 403 tenant_mismatch", async () => {
    const token = await userToken({ tenant_id: acme.id });
    expect((await reply(await ask(bearer(token)))).reply).toContain("anvils");
    expect((await reply(await ask({ ...bearer(token), ...key(acme) }))).reply).toContain("anvils");
    await expectError(await ask({ ...bearer(token), ...key(globex) }), 403, "tenant_mismatch");
    const unknown = await userToken({ tenant_id: randomUUID() });
    await expectError(await ask(bearer(unknown)), 404, "unknown_tenant");
  });

  test("a guest token minted through one tenant's widget is refused on another's", async () => {
    const first = await reply(await ask(key(acme)));
    const token = first.sessionToken ?? "";
    const again = await svc.post(
      "/api/v1/chat",
      { message: "How do refunds work?", sessionId: first.sessionId },
      { ...bearer(token), ...key(acme) },
    );
    expect((await reply(again)).sessionId).toBe(first.sessionId);
    await expectError(await ask({ ...bearer(token), ...key(globex) }), 403, "tenant_mismatch");
    // Nor without a key (the default tenant): the token names its tenant.
    expect((await reply(await ask(bearer(token)))).reply).toContain("anvils");
  });

  test("a guest token from before tenants stays valid for the default tenant only", async () => {
    const legacy = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("switchboard")
      .setAudience("switchboard-session")
      .setSubject(`anon:${randomUUID()}`)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SESSION_KEY));
    expect((await ask(bearer(legacy))).status).toBe(200);
    await expectError(await ask({ ...bearer(legacy), ...key(acme) }), 403, "tenant_mismatch");
  });

  test("a session of tenant B read through tenant A's key is 404, even by the same user", async () => {
    // A deployment-wide user (no tenant claim) may chat on any widget: only the database keeps them apart.
    const token = await userToken({});
    const inB = await reply(await ask({ ...bearer(token), ...key(globex) }));
    const path = `/api/v1/sessions/${inB.sessionId}/messages`;
    expect((await svc.get(path, { ...bearer(token), ...key(globex) })).status).toBe(200);
    await expectError(await svc.get(path, { ...bearer(token), ...key(acme) }), 404, "not_found");
    await expectError(await svc.get(path, bearer(token)), 404, "not_found");
    // Nor can the turn continue it there.
    const cont = await svc.post(
      "/api/v1/chat",
      { message: "And rockets?", sessionId: inB.sessionId },
      { ...bearer(token), ...key(acme) },
    );
    await expectError(cont, 404, "not_found");
  });
});

describe("each tenant's allowed origins", () => {
  const acmeMessages = () =>
    inTenant(acme.id, async () => Number((await db.sql`select count(*)::int as n from messages`)[0]?.n));

  test("a tenant's own origins replace the deployment's; a refused origin reaches no model", async () => {
    const allowed = await ask({ ...key(acme), origin: ACME_ORIGIN });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ACME_ORIGIN);
    expect(allowed.headers.get("vary")).toMatch(/origin/i);
    expect((await reply(allowed)).reply).toContain("anvils");

    const before = await acmeMessages();
    const refused = await ask({ ...key(acme), origin: DEPLOYMENT_ORIGIN });
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    await expectError(refused, 403, "origin_not_allowed");
    expect(await acmeMessages()).toBe(before);
  });

  test("a tenant without its own origins has the deployment's CORS_ORIGINS", async () => {
    const allowed = await ask({ ...key(globex), origin: DEPLOYMENT_ORIGIN });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(DEPLOYMENT_ORIGIN);
    expect(allowed.status).toBe(200);
    await expectError(await ask({ ...key(globex), origin: ACME_ORIGIN }), 403, "origin_not_allowed");
    // The service's own pages (the demo page) are same-origin, whatever the lists say.
    expect((await ask({ ...key(globex), origin: svc.url })).status).toBe(200);
  });

  test("any origin's preflight may send the tenant header; the request decides", async () => {
    const res = await fetch(`${svc.url}/api/v1/chat`, {
      method: "OPTIONS",
      headers: {
        origin: "https://anyone.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-switchboard-tenant",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://anyone.example");
    expect(res.headers.get("access-control-allow-headers")).toMatch(/X-Switchboard-Tenant/i);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("an allowed page can read a refused token (the widget then starts a new session)", async () => {
    const res = await ask({ ...key(acme), origin: ACME_ORIGIN, authorization: "Bearer not.a.token" });
    expect(res.headers.get("access-control-allow-origin")).toBe(ACME_ORIGIN);
    await expectError(res, 401, "invalid_token");
    const other = await ask({ ...key(acme), origin: DEPLOYMENT_ORIGIN, authorization: "Bearer not.a.token" });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("an allowed page can read that the tenant is suspended", async () => {
    const res = await ask({ ...key(closed), origin: DEPLOYMENT_ORIGIN });
    expect(res.headers.get("access-control-allow-origin")).toBe(DEPLOYMENT_ORIGIN);
    await expectError(res, 403, "tenant_suspended");
  });
});

describe("GET /api/v1/widget/config", () => {
  test("the tenant's public look only; nothing for a tenant without one", async () => {
    const res = await svc.get("/api/v1/widget/config", { ...key(acme), origin: ACME_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(ACME_ORIGIN);
    expect(await res.json()).toEqual({ title: "Acme help", primaryColor: "#112233", position: "left" });
    expect(await (await svc.get("/api/v1/widget/config", key(globex))).json()).toEqual({});
    expect(await (await svc.get("/api/v1/widget/config")).json()).toEqual({});
  });
});
