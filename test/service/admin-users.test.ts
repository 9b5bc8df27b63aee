import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
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

let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let a: Body;
let b: Body;
beforeAll(async () => {
  ({ db, svc, stop } = await adminSuite());
  a = await createTenant(svc, "users-a");
  b = await createTenant(svc, "users-b");
});
afterAll(async () => {
  await stop?.();
});

const users = (tenant: Body) => `/api/v1/admin/tenants/${tenant.id}/users`;

describe("a tenant's users", () => {
  test("a tenant admin adds, lists, re-roles and removes users; each step is audited", async () => {
    const admin = await asUser({ sub: "boss-a", role: "tenant_admin", tenant: a.id });
    const created = await svc.call(
      "POST",
      users(a),
      { subject: "alice", email: "alice@example.com", role: "agent" },
      admin,
    );
    expect(created.status).toBe(201);
    const alice = await json(created);
    expect(alice).toMatchObject({ subject: "alice", email: "alice@example.com", role: "agent" });
    const dup = await svc.call("POST", users(a), { subject: "alice", role: "tenant_admin" }, admin);
    expect(dup.status).toBe(409);
    const list = await json(await svc.call("GET", users(a), undefined, admin));
    expect(list.users.map((u: Body) => u.subject)).toEqual(["alice"]);

    const promoted = await svc.call("PATCH", `${users(a)}/${alice.id}`, { role: "tenant_admin" }, admin);
    expect((await json(promoted)).role).toBe("tenant_admin");
    // Alice's own token says agent; the tenant's table now says tenant admin, and wins.
    const aliceToken = await asUser({ sub: "alice", role: "agent", tenant: a.id });
    expect((await svc.call("GET", users(a), undefined, aliceToken)).status).toBe(200);

    expect((await svc.call("DELETE", `${users(a)}/${alice.id}`, undefined, admin)).status).toBe(204);
    expect((await svc.call("DELETE", `${users(a)}/${alice.id}`, undefined, admin)).status).toBe(404);
    // Removed: her token's own role (agent) applies again.
    expect((await svc.call("GET", users(a), undefined, aliceToken)).status).toBe(403);

    const actions = ["user.created", "user.role_changed", "user.deleted"];
    for (const action of actions) {
      const rows = (await auditRows(db, action)).filter((r) => r.tenantId === a.id);
      expect(rows, action).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor: "boss-a", role: "tenant_admin", target: alice.id });
    }
    const [change] = (await auditRows(db, "user.role_changed")).filter((r) => r.tenantId === a.id);
    expect(change?.summary).toEqual({ subject: "alice", from: "agent", to: "tenant_admin" });
  });

  test("bad input is a 400: an unknown role, platform_admin, a missing subject, a userId that is no uuid", async () => {
    expect((await svc.call("POST", users(a), { subject: "x", role: "owner" }, asKey)).status).toBe(400);
    expect((await svc.call("POST", users(a), { subject: "x", role: "platform_admin" }, asKey)).status).toBe(
      400,
    );
    expect((await svc.call("POST", users(a), { role: "agent" }, asKey)).status).toBe(400);
    expect((await svc.call("PATCH", `${users(a)}/nope`, { role: "agent" }, asKey)).status).toBe(400);
  });

  test("another tenant's admin sees none of them and cannot touch them (404)", async () => {
    const bob = await json(await svc.call("POST", users(a), { subject: "bob", role: "agent" }, asKey));
    const adminOfB = await asUser({ sub: "boss-b", role: "tenant_admin", tenant: b.id });
    expect((await svc.call("GET", users(a), undefined, adminOfB)).status).toBe(404);
    // B's own path with A's user id: B's scope does not see the row.
    expect(
      (await svc.call("PATCH", `${users(b)}/${bob.id}`, { role: "tenant_admin" }, adminOfB)).status,
    ).toBe(404);
    expect((await svc.call("DELETE", `${users(b)}/${bob.id}`, undefined, adminOfB)).status).toBe(404);
    const list = await json(await svc.call("GET", users(a), undefined, asKey));
    expect(list.users.find((u: Body) => u.subject === "bob")?.role).toBe("agent");
  });

  test("an agent may not manage users (403)", async () => {
    const agent = await asUser({ sub: "agent-a", role: "agent", tenant: a.id });
    expect((await svc.call("GET", users(a), undefined, agent)).status).toBe(403);
    expect((await svc.call("POST", users(a), { subject: "eve", role: "tenant_admin" }, agent)).status).toBe(
      403,
    );
  });
});
