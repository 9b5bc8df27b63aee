import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import type { Sql } from "../../db/client";
import { duePending, listDeliveries, replayDelivery } from "../../db/event-deliveries";
import { recordTestEvent } from "../../db/outbound-events";
import { inTenant } from "../../db/tenant-scope";
import {
  deleteEndpoint,
  disableEndpoint,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  updateEndpoint,
} from "../../db/webhook-endpoints";
import { dispatchDeliveries, envelope, newMessageId } from "../../engine/outbound-events";
import { newWebhookSecret, webhookSecretKind } from "../../engine/webhook-secrets";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import type { WebhookAdminDeps } from "./webhook-deps";
import {
  createDef,
  deleteDef,
  deliveriesDef,
  deliveryView,
  endpointView,
  getDef,
  listDef,
  replayDef,
  rotateDef,
  testDef,
  updateDef,
} from "./webhook-routes";

const noSuchEndpoint = () => new AppError(404, "not_found", "No such webhook endpoint");

async function allowedTarget(hooks: WebhookAdminDeps, url: string): Promise<string> {
  const checked = await hooks.checkTarget(url);
  if (!checked.ok) throw new AppError(400, "invalid_webhook_url", checked.reason);
  return checked.url;
}

/** Where an endpoint's URL goes in the audit log: its host (a Zapier URL's path is its credential). */
const hostOf = (url: string) => new URL(url).host;

/**
 * A tenant's webhook endpoints (docs/webhooks.md), for its tenant admins: registered with a `whsec_`
 * secret kept in the secret store and shown once, their delivery log, replays and a test event. Every
 * change is audited, never with the secret.
 */
export function webhookEndpointRoutes(deps: AdminDeps, hooks: WebhookAdminDeps) {
  const app = createRouter();
  app.route("/", endpointRoutes(deps, hooks));
  app.route("/", endpointChangeRoutes(deps, hooks));
  app.route("/", deliveryRoutes(deps, hooks));
  return app;
}

/** Only the tenant's admins manage its endpoints and read their deliveries. */
const tenantAdmin = (deps: AdminDeps) => (c: Context<AppEnv>, id: string) =>
  requireTenantRole(c, deps.sql, id, ["tenant_admin"]);

/** Register, list and read endpoints. */
function endpointRoutes(deps: AdminDeps, hooks: WebhookAdminDeps) {
  const app = createRouter();
  const { sql, secrets } = deps;
  const admin = tenantAdmin(deps);

  app.openapi(createDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const input = c.req.valid("json");
    const url = await allowedTarget(hooks, input.url);
    const endpointId = randomUUID();
    const secret = newWebhookSecret();
    const ref = await secrets.put({ tenantId: id, kind: webhookSecretKind(endpointId) }, secret);
    try {
      const endpoint = await inTenant(id, async () => {
        const row = await insertEndpoint(sql, {
          id: endpointId,
          url,
          events: input.events,
          description: input.description ?? null,
          secretName: ref,
        });
        const summary = { host: hostOf(url), events: input.events };
        await recordAction(c, sql, acting, {
          action: "webhook_endpoint.created",
          target: endpointId,
          summary,
        });
        return row;
      });
      return c.json({ endpoint: endpointView(endpoint), secret }, 201);
    } catch (error) {
      await secrets.delete(ref).catch(() => {});
      throw error;
    }
  });

  app.openapi(listDef, async (c) => {
    const { id } = c.req.valid("param");
    await admin(c, id);
    const endpoints = await inTenant(id, () => listEndpoints(sql));
    return c.json({ endpoints: endpoints.map(endpointView) }, 200);
  });

  app.openapi(getDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    await admin(c, id);
    const endpoint = await inTenant(id, () => findEndpoint(sql, endpointId));
    if (!endpoint) throw noSuchEndpoint();
    return c.json(endpointView(endpoint), 200);
  });

  return app;
}

/** Change or re-enable an endpoint, delete it, and rotate its secret. */
function endpointChangeRoutes(deps: AdminDeps, hooks: WebhookAdminDeps) {
  const app = createRouter();
  const { sql, secrets } = deps;
  const admin = tenantAdmin(deps);

  app.openapi(updateDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const change = c.req.valid("json");
    const url = change.url === undefined ? undefined : await allowedTarget(hooks, change.url);
    const { endpoint, kept } = await inTenant(id, async () => {
      const row = await updateEndpoint(sql, endpointId, {
        url,
        events: change.events,
        description: change.description,
        enable: change.enabled,
      });
      if (!row) throw noSuchEndpoint();
      // Switched off by an admin: kept off (deliveries wait, as with an open circuit) until enabled again.
      const current =
        change.enabled === false
          ? ((await disableEndpoint(sql, endpointId, "disabled_by_admin")) ?? row)
          : row;
      const summary = changeSummary(url, change);
      await recordAction(c, sql, acting, { action: "webhook_endpoint.updated", target: endpointId, summary });
      // Enabled again: what it kept while disabled goes out now (the rest, past this batch, by the sweep).
      const due = change.enabled ? await duePending(sql, endpointId, new Date(), 500) : [];
      return { endpoint: current, kept: due };
    });
    await dispatchDeliveries(hooks.queue, hooks.log, id, kept);
    return c.json(endpointView(endpoint), 200);
  });

  app.openapi(deleteDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const deleted = await inTenant(id, async () => {
      const row = await deleteEndpoint(sql, endpointId);
      if (!row) throw noSuchEndpoint();
      await recordAction(c, sql, acting, { action: "webhook_endpoint.deleted", target: endpointId });
      return row;
    });
    hooks.secretCache.forget(deleted.secretName);
    await secrets.delete(deleted.secretName);
    return c.body(null, 204);
  });

  app.openapi(rotateDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const endpoint = await inTenant(id, () => findEndpoint(sql, endpointId));
    if (!endpoint) throw noSuchEndpoint();
    const secret = newWebhookSecret();
    await secrets.rotate(endpoint.secretName, secret);
    hooks.secretCache.forget(endpoint.secretName);
    await inTenant(id, () =>
      recordAction(c, sql, acting, { action: "webhook_endpoint.secret_rotated", target: endpointId }),
    );
    return c.json({ secret }, 200);
  });

  return app;
}

/** What an endpoint change touched, for the audit log: the host, never the URL (it may carry a token). */
function changeSummary(
  url: string | undefined,
  change: {
    events?: readonly string[] | undefined;
    description?: string | null | undefined;
    enabled?: boolean | undefined;
  },
) {
  return {
    ...(url ? { host: hostOf(url) } : {}),
    ...(change.events ? { events: change.events } : {}),
    ...(change.description !== undefined ? { description: true } : {}),
    ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
  };
}

/** An endpoint's delivery log, a replay of one delivery, and a test event. */
function deliveryRoutes(deps: AdminDeps, hooks: WebhookAdminDeps) {
  const app = createRouter();
  const { sql } = deps;
  const admin = tenantAdmin(deps);

  app.openapi(deliveriesDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    await admin(c, id);
    const { limit, before } = c.req.valid("query");
    const page = await inTenant(id, async () => {
      if (!(await findEndpoint(sql, endpointId))) throw noSuchEndpoint();
      return listDeliveries(sql, endpointId, { beforeSeq: before, limit });
    });
    const nextBefore = page.length === limit ? (page.at(-1)?.seq ?? null) : null;
    return c.json({ deliveries: page.map(deliveryView), nextBefore }, 200);
  });

  app.openapi(replayDef, async (c) => {
    const { id, endpointId, deliveryId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const replayed = await inTenant(id, async () => {
      await requireEnabled(sql, endpointId);
      const row = await replayDelivery(sql, endpointId, deliveryId, new Date());
      if (!row) throw new AppError(404, "not_found", "No such delivery of this endpoint");
      await recordAction(c, sql, acting, { action: "webhook_delivery.replayed", target: deliveryId });
      return row;
    });
    await dispatchDeliveries(hooks.queue, hooks.log, id, [replayed]);
    return c.json({ deliveryId: replayed.id }, 202);
  });

  app.openapi(testDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const webhookId = newMessageId();
    const data = { message: "A test event from Switchboard", endpointId };
    const delivery = await inTenant(id, async () => {
      await requireEnabled(sql, endpointId);
      const event = {
        id: webhookId,
        type: "webhook.test",
        orderingKey: null,
        payload: envelope("webhook.test", data, new Date()),
      };
      const row = await recordTestEvent(sql, endpointId, event);
      if (!row) throw noSuchEndpoint();
      await recordAction(c, sql, acting, { action: "webhook_endpoint.test_sent", target: endpointId });
      return row;
    });
    await dispatchDeliveries(hooks.queue, hooks.log, id, [delivery]);
    return c.json({ deliveryId: delivery.id, webhookId }, 202);
  });

  return app;
}

/** Replays and tests go to enabled endpoints only (a disabled one holds them: enable it first). */
async function requireEnabled(sql: Sql, endpointId: string) {
  const endpoint = await findEndpoint(sql, endpointId);
  if (!endpoint) throw noSuchEndpoint();
  if (endpoint.status !== "enabled") {
    throw new AppError(
      409,
      "endpoint_disabled",
      "the endpoint is disabled: enable it first (PATCH enabled: true)",
    );
  }
}
