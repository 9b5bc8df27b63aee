import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { TRIALS_PER_MINUTE } from "../../service/src/routes/admin/settings-try";
import {
  type AdminService,
  adminSuite,
  asKey,
  asUser,
  auditRows,
  type Body,
  createTenant,
  json,
} from "./admin-helpers";
import { consoleHeaders, consoleLogin } from "./console-helpers";
import { raw } from "./helpers";

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let north: Body;
let south: Body;
beforeAll(async () => {
  ({ db, svc, stop } = await adminSuite());
  north = await createTenant(svc, "north-try", "North Try");
  south = await createTenant(svc, "south-try", "South Try");
  const doc = "# Opening hours\n\nThe north shop opens at 7am on weekdays and closes at 6pm.";
  const res = await svc.call("PUT", `/api/v1/admin/tenants/${north.id}/knowledge/hours`, doc, {
    ...asKey,
    "content-type": "text/markdown",
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await stop?.();
});

const tryPath = (tenant: Body) => `/api/v1/admin/tenants/${tenant.id}/settings/try`;
const count = async (table: string, tenantId: string) => {
  const [row] = await raw(db).unsafe<{ n: number }[]>(
    `select count(*)::int as n from ${table} where tenant_id = $1`,
    [tenantId],
  );
  return row?.n ?? 0;
};

describe("POST …/settings/try", () => {
  test("answers on the draft without saving it or the conversation; the call is in the ledger", async () => {
    const draft = { promptVariables: { businessName: "Draft Bakery" } };
    const res = await svc.call(
      "POST",
      tryPath(north),
      { settings: draft, message: "When does the shop open on weekdays?" },
      asKey,
    );
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.reply).toContain("7am");
    expect(body).toMatchObject({ outcome: "answered", confident: true, model: "local", sources: ["hours"] });
    expect(body.systemPrompt).toContain("You answer for Draft Bakery.");
    const settings = await json(
      await svc.call("GET", `/api/v1/admin/tenants/${north.id}/settings`, undefined, asKey),
    );
    expect(settings.settings).toEqual({});
    expect(await count("sessions", north.id)).toBe(0);
    expect(await count("messages", north.id)).toBe(0);
    const ledger = await raw(db)<{ purpose: string; channel: string; sessionId: string | null }[]>`
      select purpose, channel, session_id from usage_ledger where tenant_id = ${north.id}`;
    expect(ledger).toEqual([{ purpose: "try", channel: "console", sessionId: null }]);
  });

  test("a question the knowledge does not cover is not a confident answer", async () => {
    const body = await json(
      await svc.call("POST", tryPath(north), { message: "Do you sell submarines?" }, asKey),
    );
    expect(body.confident).toBe(false);
    expect(body.reply).toMatch(/don't have an answer/);
  });

  test("an invalid draft is a 400 with the settings' issues; nothing is run", async () => {
    const res = await svc.call(
      "POST",
      tryPath(north),
      { settings: { widget: { primaryColor: "red" } }, message: "hi" },
      asKey,
    );
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("invalid_settings");
  });

  test("audited as settings.tried with the sections tried, never the texts", async () => {
    const rows = await auditRows(db, "settings.tried");
    expect(rows.length).toBeGreaterThan(0);
    const text = JSON.stringify(rows);
    expect(text).not.toContain("submarines");
    expect(text).not.toContain("Draft Bakery");
    expect(rows[0]?.summary).toMatchObject({ draft: ["promptVariables"], outcome: "answered" });
  });

  test("another tenant's admin gets 404, an agent 403 (also through a console session)", async () => {
    const southAdmin = await asUser({ sub: "south-admin", role: "tenant_admin", tenant: south.id });
    const other = await svc.call("POST", tryPath(north), { message: "hours?" }, southAdmin);
    expect(other.status).toBe(404);
    const agent = await consoleLogin(db, { role: "agent", tenantId: north.id });
    const refused = await svc.call("POST", tryPath(north), { message: "hours?" }, consoleHeaders(agent));
    expect(refused.status).toBe(403);
    const admin = await consoleLogin(db, { role: "tenant_admin", tenantId: north.id });
    const noCsrf = await svc.call(
      "POST",
      tryPath(north),
      { message: "hours?" },
      consoleHeaders(admin, { csrf: false }),
    );
    expect(noCsrf.status).toBe(403);
    const ok = await svc.call("POST", tryPath(north), { message: "hours?" }, consoleHeaders(admin));
    expect(ok.status).toBe(200);
  });

  test(`at most ${TRIALS_PER_MINUTE} tries a minute per person (429 with Retry-After)`, async () => {
    const headers = await asUser({ sub: "busy-admin", role: "tenant_admin", tenant: south.id });
    const statuses: number[] = [];
    for (let i = 0; i <= TRIALS_PER_MINUTE; i++) {
      statuses.push((await svc.call("POST", tryPath(south), { message: `try ${i}` }, headers)).status);
    }
    // Two minute windows at most: a run crossing a minute boundary starts counting again.
    const refused = statuses.filter((s) => s === 429).length;
    const last = await svc.call("POST", tryPath(south), { message: "once more" }, headers);
    expect(refused + (last.status === 429 ? 1 : 0)).toBeGreaterThan(0);
    if (last.status === 429) expect(last.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});
