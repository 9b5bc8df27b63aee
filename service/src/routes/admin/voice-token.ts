import { createRoute } from "@hono/zod-openapi";
import { newVoiceToken, VOICE_TOKEN } from "../../channels/voice/url-token";
import { type ChannelConnection, findChannel, setChannelSecretRefs } from "../../db/channels";
import { inTenant } from "../../db/tenant-scope";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import {
  ChannelParams,
  ChannelSchema,
  channelView,
  noSuchChannel,
  secretName,
  storeFailure,
} from "./channel-view";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonContent } from "./schemas";

const reissueRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/channels/{channelId}/voice-token",
  summary:
    "Re-issue a Telnyx connection's dynamic-variables URL token: the answer shows the new URL (once); the old one stops verifying",
  request: { params: ChannelParams },
  responses: {
    200: jsonContent("The connection, with its new dynamic-variables URL", ChannelSchema),
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

/**
 * A new random token in place of the old (its secret's earlier versions destroyed); a connection made
 * before it had one gets its first. The caller is in the tenant's scope.
 */
async function reissue(deps: AdminDeps, tenantId: string, channelId: string) {
  const channel = await findChannel(deps.sql, channelId);
  if (!channel) throw noSuchChannel();
  if (channel.kind !== "telnyx")
    throw new AppError(400, "validation_failed", "only a telnyx connection has a voice URL token");
  const token = newVoiceToken();
  const ref = channel.secretRefs[VOICE_TOKEN];
  if (ref) {
    await deps.secrets.rotate(ref, token).catch(storeFailure);
    return { row: channel, token };
  }
  const added = await deps.secrets
    .put(secretName(tenantId, channelId, VOICE_TOKEN), token)
    .catch(storeFailure);
  const refs = { ...channel.secretRefs, [VOICE_TOKEN]: added };
  return { row: (await setChannelSecretRefs(deps.sql, channelId, refs)) as ChannelConnection, token };
}

export function voiceTokenRoutes(deps: AdminDeps) {
  const app = createRouter();

  app.openapi(reissueRouteDef, async (c) => {
    const { id, channelId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, deps.sql, id, ["tenant_admin"]);
    const { row, token } = await inTenant(id, async () => {
      const issued = await reissue(deps, id, channelId);
      const summary = { credentials: [VOICE_TOKEN] };
      await recordAction(c, deps.sql, acting, { action: "credential.rotated", target: channelId, summary });
      return issued;
    });
    return c.json(channelView(row, deps.publicUrl, token), 200);
  });

  return app;
}
