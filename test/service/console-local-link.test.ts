import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLocalSignInLink } from "../../service/src/console/sign-in/local-link";
import { auditRows } from "./admin-helpers";
import { setCookieLine } from "./console-sign-in-flow";
import { configIssues, raw, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * A deployment without an issuer: `npm start` prints a one-time sign-in link for the local platform admin
 * (single use, minutes long); in production there is no such link and the start-up says so.
 */

let t: Awaited<ReturnType<typeof testDatabase>>;
let svc: TestService;
const printed: string[] = [];

beforeAll(async () => {
  t = await testDatabase();
  svc = await startTestService(t.db, {}, { consoleLink: (line) => printed.push(line) });
  // Starting the service migrates a fresh database: slow on a busy machine.
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await t?.drop();
});

/** The link's path and query, opened on the test service (the printed one names localhost). */
const open = (link: string) => {
  const url = new URL(link);
  return fetch(`${svc.url}${url.pathname}${url.search}`, { redirect: "manual" });
};

describe("the local one-time link", () => {
  test("start-up prints it on a line of its own, and it signs the local platform admin in once", async () => {
    expect(printed).toHaveLength(1);
    const match = /^Console: (http:\/\/localhost:\d+\/console\/auth\/link\?token=[\w-]{43}) /.exec(
      printed[0] ?? "",
    );
    expect(match?.[1]).toContain(`localhost:${svc.port}`);
    const first = await open(match?.[1] ?? "");
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/console");
    const cookie = (setCookieLine(first, "sb_console") ?? "").split(";")[0] ?? "";
    const tenants = await fetch(`${svc.url}/api/v1/admin/tenants`, { headers: { cookie } });
    expect(tenants.status).toBe(200);
    expect((await auditRows(t.db, "console.signed_in")).map((r) => r.actor)).toContain("admin@localhost");
    const again = await open(match?.[1] ?? "");
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("used already");
    expect(setCookieLine(again, "sb_console")).toBeUndefined();
  });

  test("an expired link or a made-up one signs nobody in", async () => {
    const link = await createLocalSignInLink(t.db.sql, svc.url);
    await raw(
      t.db,
    )`update console_sign_in_links set expires_at = now() - interval '1 second' where used_at is null`;
    expect((await open(link)).status).toBe(410);
    expect((await open(`${svc.url}/console/auth/link?token=made-up`)).status).toBe(410);
  });

  test("the sign-in page says where the link is", async () => {
    const html = await (await fetch(`${svc.url}/console/sign-in`)).text();
    expect(html).toContain("Console:");
    expect(html).toContain("npm start");
  });
});

describe("in production without an issuer", () => {
  test("no link is made, the link route does not exist, and start-up warns", async () => {
    const lines: string[] = [];
    const prod = await startTestService(
      t.db,
      { NODE_ENV: "production" },
      { consoleLink: (l) => lines.push(l) },
    );
    try {
      expect(lines).toEqual([]);
      expect(prod.logs.events("console.no_sign_in")).toHaveLength(1);
      const link = await createLocalSignInLink(t.db.sql, prod.url);
      const res = await fetch(link, { redirect: "manual" });
      expect(res.status).toBe(404);
      expect(setCookieLine(res, "sb_console")).toBeUndefined();
      expect(await (await fetch(`${prod.url}/console/sign-in`)).text()).toContain("no sign-in configured");
    } finally {
      await prod.close();
    }
  });
});

describe("the issuer's configuration", () => {
  test("an issuer needs a client id, and https in production", () => {
    expect(configIssues({ OIDC_ISSUER: "https://id.example.com" })).toContain(
      "OIDC_CLIENT_ID: is required when OIDC_ISSUER is set",
    );
    const prod = { NODE_ENV: "production", SESSION_SIGNING_KEY: "k".repeat(32), SECRET_STORE_KEY: "x" };
    expect(configIssues({ ...prod, OIDC_ISSUER: "http://id.example.com", OIDC_CLIENT_ID: "c" })).toContain(
      "OIDC_ISSUER: must be an https:// URL in production",
    );
    expect(
      configIssues({ ...prod, OIDC_ISSUER: "https://id.example.com", OIDC_CLIENT_ID: "c" }).filter((i) =>
        i.startsWith("OIDC"),
      ),
    ).toEqual([]);
  });
});
