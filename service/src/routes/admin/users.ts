import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Sql } from "../../db/client";
import { inTenant } from "../../db/tenant-scope";
import {
  addTenantUser,
  changeTenantUserRole,
  listTenantUsers,
  removeTenantUser,
  type TenantUser,
} from "../../db/tenant-users";
import type { TenantRole } from "../../domain/identity";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonBody, jsonContent, TenantParams } from "./schemas";

/** The roles a tenant gives its people; platform admins are the deployment's, not a tenant's. */
const TenantUserRole = z.enum(["tenant_admin", "agent"]);

const UserSchema = z
  .object({
    id: z.uuid(),
    subject: z.string(),
    email: z.string().nullable(),
    role: z.string(),
    createdAt: z.string(),
  })
  .openapi("TenantUser");

const NewUser = z
  .object({
    subject: z.string().trim().min(1).max(320).optional().openapi({
      description:
        "The JWT `sub` they sign in with; leave it out to add a person by e-mail (`email:<address>`), whom a console sign-in matches by the issuer's verified address",
      example: "auth0|5f7c",
    }),
    email: z.email().max(320).optional(),
    role: TenantUserRole,
  })
  .refine((u) => u.subject !== undefined || u.email !== undefined, "give a subject or an e-mail address")
  .openapi("NewTenantUser");

const UserParams = TenantParams.extend({
  userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }),
});

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/users",
  summary: "A tenant's users and their roles (platform admins, its tenant admins)",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The users", z.object({ users: z.array(UserSchema) })),
    ...errorResponses(400, 401, 403, 404),
  },
});

const addRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/users",
  summary: "Give a person a role in the tenant; it wins over the role claim of their token",
  request: { params: TenantParams, ...jsonBody(NewUser) },
  responses: { 201: jsonContent("The user", UserSchema), ...errorResponses(400, 401, 403, 404, 409) },
});

const changeRouteDef = createRoute({
  method: "patch",
  path: "/api/v1/admin/tenants/{id}/users/{userId}",
  summary: "Change a user's role",
  request: { params: UserParams, ...jsonBody(z.object({ role: TenantUserRole })) },
  responses: { 200: jsonContent("The user", UserSchema), ...errorResponses(400, 401, 403, 404, 409) },
});

const removeRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/users/{userId}",
  summary: "Remove a user (their token's own claims apply again)",
  request: { params: UserParams },
  responses: { 204: { description: "Removed" }, ...errorResponses(400, 401, 403, 404, 409) },
});

const view = (u: TenantUser) => ({ ...u, createdAt: new Date(u.createdAt).toISOString() });
const noSuchUser = () => new AppError(404, "not_found", "No such user");

/**
 * A person may not remove themselves nor take away their own admin role: a tenant whose last admin did so
 * by mistake would need a platform admin to get back in. Another admin of the tenant can.
 */
async function refuseSelf(c: Context<AppEnv>, sql: Sql, userId: string, role?: TenantRole) {
  const subject = c.get("admin")?.subject;
  if (!subject || role === "tenant_admin") return;
  const target = (await listTenantUsers(sql)).find((u) => u.id === userId);
  if (target?.subject === subject)
    throw new AppError(
      409,
      "conflict",
      "you cannot remove yourself or give up your own admin role; ask another admin",
    );
}

export function userRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;
  const allowed = ["tenant_admin"] as const;

  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, allowed);
    const users = await inTenant(id, () => listTenantUsers(sql));
    return c.json({ users: users.map(view) }, 200);
  });

  app.openapi(addRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, allowed);
    const input = c.req.valid("json");
    const user = await inTenant(id, async () => {
      const added = await addTenantUser(sql, { ...input, subject: input.subject ?? `email:${input.email}` });
      if (!added) throw new AppError(409, "conflict", "this subject is already one of the tenant's users");
      const summary = { subject: added.subject, role: added.role };
      await recordAction(c, sql, acting, { action: "user.created", target: added.id, summary });
      return added;
    });
    return c.json(view(user), 201);
  });

  app.openapi(changeRouteDef, async (c) => {
    const { id, userId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, allowed);
    const { role } = c.req.valid("json");
    const user = await inTenant(id, async () => {
      await refuseSelf(c, sql, userId, role);
      const changed = await changeTenantUserRole(sql, userId, role);
      if (!changed) throw noSuchUser();
      const summary = { subject: changed.user.subject, from: changed.before, to: role };
      await recordAction(c, sql, acting, { action: "user.role_changed", target: userId, summary });
      return changed.user;
    });
    return c.json(view(user), 200);
  });

  app.openapi(removeRouteDef, async (c) => {
    const { id, userId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, allowed);
    await inTenant(id, async () => {
      await refuseSelf(c, sql, userId);
      const removed = await removeTenantUser(sql, userId);
      if (!removed) throw noSuchUser();
      const summary = { subject: removed.subject, role: removed.role };
      await recordAction(c, sql, acting, { action: "user.deleted", target: userId, summary });
    });
    return c.body(null, 204);
  });

  return app;
}
