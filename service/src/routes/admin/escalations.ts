import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type EscalationRow, findEscalation, listEscalations } from "../../db/escalations";
import { notificationsOf, setSlackWebhookRef, slackWebhookRef } from "../../db/notifications";
import { inTenant } from "../../db/tenant-scope";
import { escalationData, type TenantEscalations } from "../../engine/escalations";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { SecretStoreError } from "../../ports/secret-store";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonBody, jsonContent, Limit, TenantParams } from "./schemas";

const STATUSES = ["open", "claimed", "resolved"] as const;

const EscalationSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(STATUSES),
    channel: z.string(),
    conversationId: z.string().openapi({
      description: "The channel's conversation key (web: the session id; SMS: the phone number)",
    }),
    contactId: z.string().nullable(),
    sessionId: z.string().nullable(),
    reason: z.string(),
    summary: z.string().nullable(),
    claimedBy: z.string().nullable(),
    claimedAt: z.string().nullable(),
    resolvedBy: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Escalation");

const NotificationSchema = z
  .object({
    kind: z.enum(["email", "slack"]),
    to: z
      .string()
      .openapi({ description: "The e-mail address; `slack` for the tenant's webhook (a secret)" }),
    status: z.enum(["pending", "sent", "failed"]),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    sentAt: z.string().nullable(),
  })
  .openapi("EscalationNotification");

const EscalationParams = TenantParams.extend({
  escalationId: z.uuid().openapi({ param: { name: "escalationId", in: "path" } }),
});

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/escalations",
  summary: "The tenant's escalations, oldest first (the queue's order), optionally of one status",
  request: {
    params: TenantParams,
    query: z.object({
      status: z.enum(STATUSES).optional(),
      limit: Limit,
      after: z.uuid().optional().openapi({ description: "The previous page's `nextAfter`" }),
    }),
  },
  responses: {
    200: jsonContent(
      "The escalations",
      z.object({ escalations: z.array(EscalationSchema), nextAfter: z.string().nullable() }),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const getRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/escalations/{escalationId}",
  summary: "One escalation, with how its notifications to the team went",
  request: { params: EscalationParams },
  responses: {
    200: jsonContent(
      "The escalation",
      EscalationSchema.extend({ notifications: z.array(NotificationSchema) }).openapi("EscalationDetail"),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const claimRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/escalations/{escalationId}/claim",
  summary: "Claim an escalation: the bot stays silent on its conversation (409 when someone else has it)",
  request: { params: EscalationParams },
  responses: {
    200: jsonContent("Claimed by the caller", EscalationSchema),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const resolveRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/escalations/{escalationId}/resolve",
  summary:
    "Resolve an escalation (escalation.resolved); the bot resumes unless the tenant's settings say not",
  request: { params: EscalationParams },
  responses: {
    200: jsonContent("Resolved (resolving again changes nothing)", EscalationSchema),
    ...errorResponses(400, 401, 403, 404),
  },
});

const SlackWebhook = z
  .object({
    url: z.url().max(2048).openapi({ example: "https://hooks.slack.com/services/T000/B000/XXXX" }),
  })
  .openapi("SlackWebhook");

const slackPutRouteDef = createRoute({
  method: "put",
  path: "/api/v1/admin/tenants/{id}/escalations/slack-webhook",
  summary: "Set the Slack incoming webhook new escalations are posted to (kept in the secret store)",
  request: { params: TenantParams, ...jsonBody(SlackWebhook) },
  responses: {
    200: jsonContent("Set", z.object({ slack: z.literal("set") })),
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

const slackDeleteRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/escalations/slack-webhook",
  summary: "Stop posting escalations to Slack (the webhook URL is destroyed)",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("Removed", z.object({ slack: z.literal("none") })),
    ...errorResponses(400, 401, 403, 404),
  },
});

const noSuchEscalation = () => new AppError(404, "escalation_not_found", "No such escalation");

function view(row: EscalationRow): z.infer<typeof EscalationSchema> {
  return escalationData(row);
}

/** Slack's webhooks are https on hooks.slack.com; `hosts` may add others (an emulator, a proxy). */
function checkSlackUrl(url: string, hosts: readonly string[]) {
  const parsed = new URL(url);
  const local = parsed.hostname === "127.0.0.1" || parsed.hostname === "localhost";
  if (!hosts.includes(parsed.hostname))
    throw new AppError(
      400,
      "validation_failed",
      `url must be a Slack incoming webhook (${hosts.join(", ")})`,
    );
  if (parsed.protocol !== "https:" && !local)
    throw new AppError(400, "validation_failed", "url must be https");
}

function storeUnavailable(error: unknown): never {
  if (error instanceof SecretStoreError)
    throw new AppError(
      503,
      "secret_store_unavailable",
      "The secret store did not accept the webhook; retry",
      {
        headers: { "Retry-After": "5" },
      },
    );
  throw error;
}

/**
 * Escalations of one tenant for its agents and admins: the queue, claim and resolve (audited, the actor is
 * the caller), and where the team is told (the Slack webhook; e-mail recipients are the tenant's
 * `escalations.emails` setting). Every statement runs in the tenant's scope.
 */
export function escalationRoutes(
  deps: AdminDeps & { escalations: TenantEscalations; slackHosts: readonly string[] },
) {
  const app = createRouter();
  const { sql, escalations } = deps;
  const people = ["tenant_admin", "agent"] as const;

  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { status, limit, after } = c.req.valid("query");
    await requireTenantRole(c, sql, id, people);
    const rows = await inTenant(id, () => listEscalations(sql, { status, limit: limit + 1, afterId: after }));
    const page = rows.slice(0, limit);
    const nextAfter = rows.length > limit ? (page.at(-1)?.id ?? null) : null;
    return c.json({ escalations: page.map(view), nextAfter }, 200);
  });

  app.openapi(getRouteDef, async (c) => {
    const { id, escalationId } = c.req.valid("param");
    await requireTenantRole(c, sql, id, people);
    const found = await inTenant(id, async () => {
      const row = await findEscalation(sql, escalationId);
      return row ? { row, notifications: await notificationsOf(sql, row.id) } : undefined;
    });
    if (!found) throw noSuchEscalation();
    const notifications = found.notifications.map((n) => ({
      kind: n.kind,
      to: n.kind === "email" ? n.target : "slack",
      status: n.status,
      attempts: n.attempts,
      lastError: n.lastError,
      sentAt: n.sentAt ? new Date(n.sentAt).toISOString() : null,
    }));
    return c.json({ ...view(found.row), notifications }, 200);
  });

  app.openapi(claimRouteDef, async (c) => {
    const { id, escalationId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, people);
    const claimed = await inTenant(id, async () => {
      const result = await escalations.claim(escalationId, acting.actor);
      if (typeof result !== "string")
        await recordAction(c, sql, acting, {
          action: "escalation.claimed",
          target: escalationId,
          summary: { channel: result.channel },
        });
      return result;
    });
    if (claimed === "not_found") throw noSuchEscalation();
    if (claimed === "claimed_by_other")
      throw new AppError(409, "escalation_claimed", "Someone else has claimed this escalation");
    if (claimed === "resolved") throw new AppError(409, "escalation_resolved", "This escalation is resolved");
    return c.json(view(claimed), 200);
  });

  app.openapi(resolveRouteDef, async (c) => {
    const { id, escalationId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, people);
    const done = await inTenant(id, async () => {
      const result = await escalations.resolve(escalationId, acting.actor);
      if (result?.resolved)
        await recordAction(c, sql, acting, {
          action: "escalation.resolved",
          target: escalationId,
          summary: { channel: result.row.channel },
        });
      return result;
    });
    if (!done) throw noSuchEscalation();
    return c.json(view(done.row), 200);
  });

  app.route("/", slackWebhookRoutes(deps));
  return app;
}

/** Where the tenant's team is told on Slack: its incoming webhook, set or removed by tenant admins. */
function slackWebhookRoutes(deps: AdminDeps & { slackHosts: readonly string[] }) {
  const app = createRouter();
  const { sql } = deps;

  app.openapi(slackPutRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { url } = c.req.valid("json");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    checkSlackUrl(url, deps.slackHosts);
    await inTenant(id, async () => {
      const existing = await slackWebhookRef(sql);
      const ref = existing
        ? await deps.secrets.rotate(existing, url).catch(storeUnavailable)
        : await deps.secrets.put({ tenantId: id, kind: "slack-webhook-url" }, url).catch(storeUnavailable);
      await setSlackWebhookRef(sql, ref);
      await recordAction(c, sql, acting, { action: "escalations.slack_set", target: id, summary: {} });
    });
    return c.json({ slack: "set" as const }, 200);
  });

  app.openapi(slackDeleteRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    await inTenant(id, async () => {
      const previous = await setSlackWebhookRef(sql, null);
      if (previous) await destroy(c, deps, previous);
      await recordAction(c, sql, acting, { action: "escalations.slack_removed", target: id, summary: {} });
    });
    return c.json({ slack: "none" as const }, 200);
  });

  return app;
}

/** The URL goes for good; a store that fails now leaves an orphan secret, logged by its reference only. */
async function destroy(c: Context<AppEnv>, deps: AdminDeps, ref: string) {
  await deps.secrets
    .delete(ref)
    .catch((error: unknown) =>
      c
        .get("log")
        .warn({ event: "secret_store.delete_failed", refs: [ref], error }, "Slack webhook not destroyed"),
    );
}
