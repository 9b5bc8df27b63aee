import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { MailboxRow } from "../../db/email-mailboxes";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { asHttp } from "../email-errors";
import { type ActingAdmin, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonContent, TenantParams } from "./schemas";

/** A tenant's connected Gmail mailboxes (docs/email.md, "Connect a mailbox"): never a credential. */
const MailboxSchema = z
  .object({
    connectionId: z.uuid(),
    address: z.string(),
    status: z.enum(["connected", "disconnected"]),
    reason: z.string().nullable().openapi({
      description: "Why it is disconnected: `disconnected_by_admin`, `refresh_token_revoked`",
    }),
    disconnectedAt: z.string().nullable(),
    watchExpiresAt: z.string().nullable().openapi({ description: "When Gmail stops pushing unless renewed" }),
    watchRenewedAt: z.string().nullable(),
    lastSyncAt: z.string().nullable(),
    connectedBy: z.string().nullable(),
    connectedAt: z.string().openapi({ description: "When it was first connected" }),
  })
  .openapi("Mailbox");

const MailboxParams = TenantParams.extend({
  connectionId: z.uuid().openapi({ param: { name: "connectionId", in: "path" } }),
});

const connectRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/email/connect",
  summary: "Start connecting a Gmail mailbox: a redirect to Google's consent screen (tenant admins)",
  request: {
    params: TenantParams,
    query: z.object({
      loginHint: z.email().max(320).optional().openapi({ description: "The mailbox to sign in as" }),
    }),
  },
  responses: {
    302: jsonContent(
      "Google's consent URL, in Location and in the body",
      z.object({ authorizationUrl: z.string() }),
    ),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/email/mailboxes",
  summary: "A tenant's Gmail mailboxes, their watch and last sync (tenant admins)",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The mailboxes", z.object({ mailboxes: z.array(MailboxSchema) })),
    ...errorResponses(400, 401, 403, 404),
  },
});

const disconnectRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/email/mailboxes/{connectionId}",
  summary: "Disconnect a mailbox: its access revoked at Google, its watch stopped, its token destroyed",
  request: { params: MailboxParams },
  responses: {
    200: jsonContent("The mailbox, disconnected", MailboxSchema),
    ...errorResponses(400, 401, 403, 404, 409, 502, 503),
  },
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function mailboxView(m: MailboxRow): z.infer<typeof MailboxSchema> {
  return {
    connectionId: m.connectionId,
    address: m.address,
    status: m.status,
    reason: m.disconnectedReason,
    disconnectedAt: iso(m.disconnectedAt),
    watchExpiresAt: iso(m.watchExpiresAt),
    watchRenewedAt: iso(m.watchRenewedAt),
    lastSyncAt: iso(m.syncedAt),
    connectedBy: m.connectedBy,
    connectedAt: new Date(m.createdAt).toISOString(),
  };
}

/** The audit's actor of an admin request. */
const actorOf = (c: Context<AppEnv>, acting: ActingAdmin) => ({
  ...acting,
  requestId: c.get("requestId"),
  clientAddress: c.get("clientAddress"),
});

const notServed = () =>
  new AppError(409, "email_not_configured", "E-mail is not configured on this deployment (docs/email.md)");

export function emailRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;
  const mailboxes = () => {
    if (!deps.email) throw notServed();
    return deps.email;
  };

  app.openapi(connectRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const { loginHint } = c.req.valid("query");
    const started = await asHttp(() => mailboxes().start(id, actorOf(c, acting), loginHint));
    return c.json(started, 302, { Location: started.authorizationUrl, "Cache-Control": "no-store" });
  });

  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const rows = await mailboxes().list(id);
    return c.json({ mailboxes: rows.map(mailboxView) }, 200);
  });

  app.openapi(disconnectRouteDef, async (c) => {
    const { id, connectionId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const row = await asHttp(() => mailboxes().disconnect(id, connectionId, actorOf(c, acting)));
    return c.json(mailboxView(row), 200);
  });

  return app;
}

/**
 * The generic `DELETE …/channels/{id}` of a `gmail` connection (routes/admin/channels.ts): the mailbox is
 * disconnected the same way first, so deleting it never leaves a live grant at Google.
 */
export async function releaseMailboxOf(
  c: Context<AppEnv>,
  deps: AdminDeps,
  acting: ActingAdmin,
  tenantId: string,
  channel: { id: string; kind: string },
): Promise<void> {
  if (channel.kind !== "gmail") return;
  // A mailbox with a grant and no OAuth client to revoke it with is refused (email_not_configured).
  const email = deps.email;
  if (!email) throw notServed();
  await asHttp(() => email.disconnect(tenantId, channel.id, actorOf(c, acting))).catch((error: unknown) => {
    // A connection whose mailbox row never was (a connect that stopped half-way) has no grant to release.
    if (error instanceof AppError && error.code === "not_found") return;
    throw error;
  });
}
