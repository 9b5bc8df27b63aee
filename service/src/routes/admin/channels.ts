import { randomUUID } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import { VOICE_TOKEN } from "../../channels/voice/url-token";
import {
  type ChannelConnection,
  deleteChannel,
  findChannel,
  insertChannel,
  listChannels,
  setChannelSecretRefs,
} from "../../db/channels";
import { inTenant } from "../../db/tenant-scope";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import type { Logger } from "../../logger";
import { recordAction, requireTenantRole } from "./access";
import { CHANNEL_KINDS, type ChannelKind, NewChannel } from "./channel-kinds";
import {
  ChannelParams,
  ChannelSchema,
  channelView,
  noSuchChannel,
  secretName,
  storeFailure,
} from "./channel-view";
import { type AdminDeps, isUniqueViolation } from "./deps";
import { releaseMailboxOf } from "./email";
import { errorResponses, jsonBody, jsonContent, TenantParams } from "./schemas";
import { voiceTokenRoutes } from "./voice-token";

const Rotation = z
  .record(z.string(), z.string().trim().min(1).max(4096))
  .refine((r) => Object.keys(r).length > 0, "name at least one credential")
  .openapi("CredentialRotation", { example: { accessToken: "<new token>" } });

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/channels",
  summary: "A tenant's channel connections, without credentials (platform admins, its tenant admins)",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The connections", z.object({ channels: z.array(ChannelSchema) })),
    ...errorResponses(400, 401, 403, 404),
  },
});

const createRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/channels",
  summary: "Connect a channel; its credentials go to the secret store (409 when its public id is taken)",
  request: { params: TenantParams, ...jsonBody(NewChannel) },
  responses: {
    201: jsonContent("The connection", ChannelSchema),
    ...errorResponses(400, 401, 403, 404, 409, 503),
  },
});

const rotateRouteDef = createRoute({
  method: "put",
  path: "/api/v1/admin/tenants/{id}/channels/{channelId}/credentials",
  summary: "Replace some of a connection's credentials (the earlier values are destroyed)",
  request: { params: ChannelParams, ...jsonBody(Rotation) },
  responses: {
    200: jsonContent("The connection", ChannelSchema),
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

const deleteRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/channels/{channelId}",
  summary: "Disconnect a channel and destroy its credentials",
  request: { params: ChannelParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404, 503) },
});

type NewChannelBody = Record<string, unknown> & { kind: string };

/**
 * The row first (the public id's uniqueness decides), then one secret per credential, given or generated;
 * all or nothing. The generated values come back once, for the answer (a voice URL's token).
 */
async function connect(deps: AdminDeps, tenantId: string, body: NewChannelBody) {
  const { sql, secrets } = deps;
  const kind = CHANNEL_KINDS[body.kind] as ChannelKind;
  const channelId = randomUUID();
  const publicId = kind.publicId(body);
  await insertChannel(sql, { id: channelId, kind: body.kind, publicId, settings: kind.settings(body) }).catch(
    (error: unknown) => {
      if (isUniqueViolation(error))
        throw new AppError(409, "conflict", `this ${body.kind} channel (${publicId}) is already connected`);
      throw error;
    },
  );
  const generated = Object.fromEntries(
    Object.entries(kind.generated ?? {}).map(([name, make]) => [name, make()]),
  );
  const values = {
    ...Object.fromEntries(kind.credentials.map((name) => [name, String(body[name])])),
    ...generated,
  };
  const refs: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(values))
      refs[name] = await secrets.put(secretName(tenantId, channelId, name), value);
  } catch (error) {
    // Nothing half-made stays: the row and the credentials stored so far go.
    await deleteChannel(sql, channelId);
    await Promise.allSettled(Object.values(refs).map((ref) => secrets.delete(ref)));
    storeFailure(error);
  }
  const row = (await setChannelSecretRefs(sql, channelId, refs)) as ChannelConnection;
  return { row, generated, summary: { kind: body.kind, publicId, credentials: Object.keys(values) } };
}

/**
 * New versions of the named credentials; a name the connection does not have is a 400, and so is one
 * Switchboard generates (the tenant does not choose it: it has its own re-issue route).
 */
async function rotate(deps: AdminDeps, channelId: string, values: Record<string, string>) {
  const channel = await findChannel(deps.sql, channelId);
  if (!channel) throw noSuchChannel();
  const generated = Object.keys(values).filter(
    (name) => name in (CHANNEL_KINDS[channel.kind]?.generated ?? {}),
  );
  if (generated.length > 0)
    throw new AppError(
      400,
      "validation_failed",
      `${generated.join(", ")} is issued by Switchboard, not chosen: re-issue it with POST …/channels/{channelId}/voice-token`,
    );
  const unknown = Object.keys(values).filter((name) => !channel.secretRefs[name]);
  if (unknown.length > 0)
    throw new AppError(400, "validation_failed", `no such credential on this channel: ${unknown.join(", ")}`);
  for (const [name, value] of Object.entries(values))
    await deps.secrets.rotate(channel.secretRefs[name] as string, value).catch(storeFailure);
  return channel;
}

/**
 * The row goes first, so nothing uses the credentials any more; a credential the store failed to
 * destroy is named in the log (by reference) and the audit row, for an operator to remove.
 */
async function disconnect(deps: AdminDeps, channelId: string, log: Logger) {
  const gone = await deleteChannel(deps.sql, channelId);
  if (!gone) throw noSuchChannel();
  const refs = Object.values(gone.secretRefs);
  const results = await Promise.allSettled(refs.map((ref) => deps.secrets.delete(ref)));
  const failed = refs.filter((_, i) => results[i]?.status === "rejected");
  if (failed.length > 0)
    log.warn({ event: "secret_store.delete_failed", refs: failed }, "channel credentials not destroyed");
  return { kind: gone.kind, publicId: gone.publicId, credentialsDestroyed: failed.length === 0 };
}

export function channelRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;

  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const channels = await inTenant(id, () => listChannels(sql));
    return c.json({ channels: channels.map((ch) => channelView(ch, deps.publicUrl)) }, 200);
  });

  app.openapi(createRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const { row, generated } = await inTenant(id, async () => {
      const made = await connect(deps, id, c.req.valid("json") as NewChannelBody);
      await recordAction(c, sql, acting, {
        action: "channel.created",
        target: made.row.id,
        summary: made.summary,
      });
      return made;
    });
    return c.json(channelView(row, deps.publicUrl, generated[VOICE_TOKEN]), 201);
  });

  app.openapi(rotateRouteDef, async (c) => {
    const { id, channelId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const values = c.req.valid("json");
    const updated = await inTenant(id, async () => {
      const channel = await rotate(deps, channelId, values);
      const summary = { credentials: Object.keys(values) };
      await recordAction(c, sql, acting, { action: "credential.rotated", target: channelId, summary });
      return channel;
    });
    return c.json(channelView(updated, deps.publicUrl), 200);
  });

  app.openapi(deleteRouteDef, async (c) => {
    const { id, channelId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const channel = await inTenant(id, () => findChannel(sql, channelId));
    if (channel) await releaseMailboxOf(c, deps, acting, id, channel);
    await inTenant(id, async () => {
      const summary = await disconnect(deps, channelId, c.get("log"));
      await recordAction(c, sql, acting, { action: "channel.deleted", target: channelId, summary });
    });
    return c.body(null, 204);
  });

  app.route("/", voiceTokenRoutes(deps));
  return app;
}
