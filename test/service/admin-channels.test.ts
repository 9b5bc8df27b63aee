import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { inTenant } from "../../service/src/db/tenant-scope";
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
import { raw } from "./helpers";

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let a: Body;
let b: Body;
beforeAll(async () => {
  ({ db, svc, stop } = await adminSuite());
  a = await createTenant(svc, "channels-a");
  b = await createTenant(svc, "channels-b");
});
afterAll(async () => {
  await stop?.();
});

const SECRET = "intercom-client-secret-value-7f3a";
const TOKEN = "intercom-access-token-value-9c1d";
const channels = (tenant: Body) => `/api/v1/admin/tenants/${tenant.id}/channels`;
const intercom = (appId: string) => ({
  kind: "intercom",
  appId,
  clientSecret: SECRET,
  accessToken: TOKEN,
  adminId: "42",
});

describe("channel connections", () => {
  test("connect Intercom: credentials go to the secret store, never into the row or an answer", async () => {
    const admin = await asUser({ sub: "ch-admin-a", role: "tenant_admin", tenant: a.id });
    const res = await svc.call("POST", channels(a), intercom("app-a"), admin);
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
    const channel = JSON.parse(text) as Body;
    expect(channel).toMatchObject({
      kind: "intercom",
      publicId: "app-a",
      settings: { adminId: "42" },
      credentials: { clientSecret: "set", accessToken: "set" },
    });
    const listed = await svc.call("GET", channels(a), undefined, admin);
    const listText = await listed.text();
    expect(JSON.parse(listText).channels).toHaveLength(1);
    expect(listText).not.toContain(SECRET);
    // The row holds references; the store gives the values back in the tenant's scope.
    const [row] = await raw(db).unsafe<{ secretRefs: Record<string, string> }[]>(
      "select secret_refs from channel_connections where id = $1",
      [channel.id],
    );
    expect(JSON.stringify(row)).not.toContain(SECRET);
    const ref = row?.secretRefs.clientSecret as string;
    expect(await inTenant(a.id, () => svc.secretStore.get(ref))).toBe(SECRET);
    const [audit] = (await auditRows(db, "channel.created")).filter((r) => r.tenantId === a.id);
    expect(audit).toMatchObject({ actor: "ch-admin-a", target: channel.id });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
  });

  test("an app id another tenant holds is a 409, though that tenant's row is invisible here", async () => {
    const res = await svc.call("POST", channels(b), intercom("app-a"), asKey);
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("conflict");
    expect((await json(await svc.call("GET", channels(b), undefined, asKey))).channels).toEqual([]);
  });

  test("bad bodies are 400s: an unknown kind, a missing credential", async () => {
    expect((await svc.call("POST", channels(b), { kind: "carrier-pigeon", appId: "x" }, asKey)).status).toBe(
      400,
    );
    const missing = { kind: "intercom", appId: "app-b", clientSecret: SECRET };
    expect((await svc.call("POST", channels(b), missing, asKey)).status).toBe(400);
  });

  test("rotate a credential: the new value is stored, nothing echoed, audited by name", async () => {
    const created = await json(await svc.call("POST", channels(b), intercom("app-rot"), asKey));
    const path = `${channels(b)}/${created.id}/credentials`;
    const res = await svc.call("PUT", path, { accessToken: "rotated-token-value-123" }, asKey);
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain("rotated-token-value-123");
    const [row] = await raw(db).unsafe<{ secretRefs: Record<string, string> }[]>(
      "select secret_refs from channel_connections where id = $1",
      [created.id],
    );
    expect(await inTenant(b.id, () => svc.secretStore.get(row?.secretRefs.accessToken as string))).toBe(
      "rotated-token-value-123",
    );
    expect((await svc.call("PUT", path, { password: "x" }, asKey)).status).toBe(400);
    const [audit] = (await auditRows(db, "credential.rotated")).filter((r) => r.tenantId === b.id);
    expect(audit?.summary).toEqual({ credentials: ["accessToken"] });
  });

  test("delete: 204, its credentials destroyed, then 404; another tenant's admin gets 404", async () => {
    const created = await json(await svc.call("POST", channels(b), intercom("app-del"), asKey));
    const [row] = await raw(db).unsafe<{ secretRefs: Record<string, string> }[]>(
      "select secret_refs from channel_connections where id = $1",
      [created.id],
    );
    const adminOfA = await asUser({ sub: "ch-admin-a", role: "tenant_admin", tenant: a.id });
    expect((await svc.call("DELETE", `${channels(a)}/${created.id}`, undefined, adminOfA)).status).toBe(404);
    expect((await svc.call("DELETE", `${channels(b)}/${created.id}`, undefined, adminOfA)).status).toBe(404);
    expect((await svc.call("DELETE", `${channels(b)}/${created.id}`, undefined, asKey)).status).toBe(204);
    expect((await svc.call("DELETE", `${channels(b)}/${created.id}`, undefined, asKey)).status).toBe(404);
    await expect(
      inTenant(b.id, () => svc.secretStore.get(row?.secretRefs.clientSecret as string)),
    ).rejects.toThrow();
    const [audit] = (await auditRows(db, "channel.deleted")).filter((r) => r.target === created.id);
    expect(audit?.summary).toMatchObject({
      kind: "intercom",
      publicId: "app-del",
      credentialsDestroyed: true,
    });
  });
});
