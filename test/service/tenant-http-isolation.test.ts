import fc from "fast-check";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Sql } from "../../service/src/db/client";
import { inTenant } from "../../service/src/db/tenant-scope";
import { bearer, startTestService, type TestService, testDatabase } from "./helpers";
import {
  ISSUER,
  modelStack,
  type SeededTenant,
  SHARED,
  seedTenant,
  snapshot,
  tenantTables,
} from "./tenant-fixtures";
import { bTraces, type Callers, type Ids, ROUTES, type RouteRow } from "./tenant-http-routes";

/**
 * Issue 12, "every HTTP route as tenant A with B's ids gets nothing of B's": the admin API as A's tenant
 * admin, web chat as A's widget (X-Switchboard-Tenant) and as the default tenant, each with B's ids. The
 * table (tenant-http-routes.ts) must name every route of the OpenAPI document under the admin, chat,
 * sessions and widget paths, so a new route cannot skip isolation.
 */

const JWT_SECRET = "user-jwt-secret-0123456789abcdef0123456789";
const ADMIN_API_KEY = "http-isolation-admin-key-0123456789abcdef";
/** The routes that must each have a refused row. */
const COVERED_PATHS = /^\/api\/v1\/(admin|chat|sessions|widget)(\/|$)/;

let svc: TestService;
let sql: Sql;
let drop: () => Promise<void>;
let ids: Ids;
let b: SeededTenant;
let callers: Callers;
let tables: string[];
let bBefore: Record<string, unknown[]>;

const jwt = (sub: string, claims: Record<string, unknown> = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(JWT_SECRET));

/** A guest session started over HTTP (with a widget key, if given): its token and session id. */
async function guestOf(headers: Record<string, string>, message: string) {
  const res = await svc.post("/api/v1/chat", { message }, headers);
  if (res.status !== 200) throw new Error(`guest: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { sessionToken: string; sessionId: string };
  return { headers: bearer(body.sessionToken), sessionId: body.sessionId };
}

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  sql = t.db.sql;
  svc = await startTestService(t.db, {
    JWT_SECRET,
    JWT_ISSUER: ISSUER,
    ADMIN_API_KEY,
    RATE_LIMIT_CLIENT_PER_MINUTE: "100000",
    RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "1000",
  });
  const stack = await modelStack(sql);
  const a = await seedTenant(sql, stack, "alpha");
  b = await seedTenant(sql, stack, "bravo");
  const aKey = { "x-switchboard-tenant": a.widgetKey };
  const aGuest = await guestOf(aKey, "alpha widget hello");
  const bGuest = await guestOf({ "x-switchboard-tenant": b.widgetKey }, "bravo widget hello");
  ids = { a, b, aWidgetSessionId: aGuest.sessionId };
  callers = {
    defaultGuest: (await guestOf({}, "hello")).headers,
    defaultAlice: bearer(await jwt("alice")),
    aAdmin: bearer(await jwt("alpha-admin", { tenant_id: a.id, role: "tenant_admin" })),
    aWidget: { ...aKey, ...aGuest.headers },
    aAlice: { ...aKey, ...bearer(await jwt("alice", { tenant_id: a.id })) },
    aKeyBToken: { ...aKey, ...bGuest.headers },
    platform: bearer(ADMIN_API_KEY),
  };
  tables = await tenantTables(sql);
  bBefore = await inTenant(b.id, () => snapshot(sql, tables));
}, 60_000);
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

async function call(row: Pick<RouteRow, "route" | "path" | "body" | "as">) {
  const path = row.path(ids);
  const body = row.body?.(ids);
  const sent = typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body);
  const type = typeof body === "string" ? "text/markdown" : "application/json";
  const res = await fetch(`${svc.url}${path}`, {
    method: row.route.split(" ")[0],
    headers: { ...callers[row.as], ...(sent === undefined ? {} : { "content-type": type }) },
    body: sent,
  });
  return { status: res.status, text: await res.text(), request: `${path} ${sent ?? ""}` };
}

/** B's traces in an answer, except those A itself sent (a 409 names the public id A asked for). */
const leaked = (text: string, request: string) =>
  bTraces(b).filter((trace) => text.includes(trace) && !request.includes(trace));

describe("every HTTP route, as tenant A with B's ids", () => {
  test.each(
    ROUTES.map((row) => [`${row.route}: ${row.name}, as ${row.as}`, row] as const),
  )("%s", async (_name, row) => {
    const { status, text, request } = await call(row);
    if (row.sees) {
      expect({ status, sees: text.includes(row.sees(ids)) }).toEqual({ status: 200, sees: true });
      return;
    }
    expect({ status, body: text }).toEqual({ status: expect.toBeOneOf(row.status ?? []), body: text });
    expect(leaked(text, request)).toEqual([]);
    expect(await inTenant(b.id, () => snapshot(sql, tables))).toEqual(bBefore);
  });

  test("every admin, chat, sessions and widget route of the OpenAPI document has a refused row", async () => {
    const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .filter(([path]) => COVERED_PATHS.test(path))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.length).toBeGreaterThanOrEqual(20);
    const refused = new Set(ROUTES.filter((row) => row.status).map((row) => row.route));
    expect(documented.filter((route) => !refused.has(route))).toEqual([]);
    // And no row names a route that does not exist (a renamed route would leave its rows testing a 404).
    expect(ROUTES.map((row) => row.route).filter((route) => !documented.includes(route))).toEqual([]);
  });
});

describe("random admin paths, ids and bodies, as A's tenant admin", () => {
  const templates = () => [...new Set(ROUTES.filter((r) => r.route.includes("/admin/")).map((r) => r.route))];
  const uuid = fc.uuid();
  const params = () => ({
    id: fc.oneof(fc.constantFrom(ids.a.id, b.id), uuid),
    slug: fc.oneof(
      fc.constantFrom(b.ownDocumentSlug, SHARED.documentSlug),
      fc.stringMatching(/^[a-z]{1,8}$/),
    ),
    userId: fc.oneof(fc.constant(b.tenantUserId), uuid),
    channelId: fc.oneof(fc.constant(b.channelConnectionId), uuid),
    contactId: fc.oneof(fc.constant(b.personContactId), uuid),
    leadId: fc.oneof(fc.constant(b.leadId), uuid),
    email: fc.constant(SHARED.email),
    callId: fc.oneof(fc.constant(b.callId), uuid),
  });
  const bodies = (route: string) =>
    fc.oneof(
      // The table's own bodies for the route (valid ones), else loose objects and Markdown.
      fc.constantFrom<unknown>(
        "# alpha\n\nalpha text",
        ...ROUTES.filter((r) => r.route === route && r.body).map((r) => r.body?.(ids)),
      ),
      fc.dictionary(fc.constantFrom("role", "status", "subject", "systemPrompt", "kind"), fc.string()),
    );
  const request = () =>
    fc
      .constantFrom(...templates())
      .chain((route) =>
        fc.record({ route: fc.constant(route), values: fc.record(params()), body: bodies(route) }),
      );

  test("never a 2xx on B's path, never anything of B's, B's rows never change", async () => {
    await fc.assert(
      fc.asyncProperty(request(), async ({ route, values, body }) => {
        const path =
          route.split(" ")[1]?.replace(/\{(\w+)\}/g, (_, k: keyof typeof values) => values[k]) ?? "";
        const method = route.split(" ")[0] ?? "GET";
        const sent = method === "GET" || method === "DELETE" ? undefined : body;
        const res = await call({ route, path: () => path, body: () => sent, as: "aAdmin" });
        const onB = values.id === b.id;
        expect({
          route,
          path,
          onB2xx: onB && res.status < 300,
          leaked: leaked(res.text, res.request),
        }).toEqual({
          route,
          path,
          onB2xx: false,
          leaked: [],
        });
        expect(await inTenant(b.id, () => snapshot(sql, tables))).toEqual(bBefore);
      }),
      { numRuns: 80 },
    );
  }, 120_000);
});
