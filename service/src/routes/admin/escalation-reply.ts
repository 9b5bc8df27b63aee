import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type AgentReplies, ReplyNotSent } from "../../channels/pipeline/agent-reply";
import type { EscalationRow } from "../../db/escalations";
import { findEscalation } from "../../db/escalations";
import { inTenant } from "../../db/tenant-scope";
import type { TenantEscalations } from "../../engine/escalations";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { type ActingAdmin, recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonBody, jsonContent, TenantParams } from "./schemas";

const ReplyBody = z
  .object({
    text: z.string().trim().min(1).max(4000).openapi({ example: "Hi, this is Sam from support: …" }),
    replyId: z.uuid().openapi({
      description: "Made by the client once per reply: the same id sends once, whatever the retries",
    }),
  })
  .openapi("EscalationReplyRequest");

const ReplySchema = z
  .object({
    replyId: z.string(),
    escalationId: z.string(),
    channel: z.string(),
    status: z.enum(["pending", "sent", "failed"]).openapi({
      description: "`pending`: a send was begun and never confirmed (it is not repeated)",
    }),
    outcome: z.string().nullable().openapi({ description: "Why it did not reach the customer" }),
    duplicate: z.boolean().openapi({ description: "This replyId was used before: nothing more was sent" }),
    sentAt: z.string().nullable(),
  })
  .openapi("EscalationReply");

const replyRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/escalations/{escalationId}/reply",
  summary:
    "Answer the customer on the channel they came from (claims an open escalation for the caller first)",
  request: {
    params: TenantParams.extend({
      escalationId: z.uuid().openapi({ param: { name: "escalationId", in: "path" } }),
    }),
    ...jsonBody(ReplyBody),
  },
  responses: {
    200: jsonContent("The reply's record (sent, or why not)", ReplySchema),
    ...errorResponses(400, 401, 403, 404, 409, 502),
  },
});

/**
 * A person answers an escalated conversation. Who may: the person who claimed it, or a tenant admin; an
 * open escalation is claimed for the person answering (audited as a claim), since whoever answers has
 * it. A resolved one is closed (409); a voice call cannot be answered in writing (409, call back). An
 * e-mail is answered in the customer's thread, keyed by the replyId (channels/email/sender.ts).
 */
export function escalationReplyRoutes(
  deps: AdminDeps & { escalations: TenantEscalations; replies: AgentReplies },
) {
  const app = createRouter();
  const { sql } = deps;
  app.openapi(replyRouteDef, async (c) => {
    const { id, escalationId } = c.req.valid("param");
    const { text, replyId } = c.req.valid("json");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin", "agent"]);
    const result = await inTenant(id, async () => {
      const escalation = await answerable(c, deps, acting, escalationId);
      const sent = await deps.replies.send(id, escalation, { id: replyId, text, author: acting.actor });
      if (!sent.duplicate)
        await recordAction(c, sql, acting, {
          action: "escalation.replied",
          target: escalationId,
          summary: { channel: escalation.channel, replyId, status: sent.row.status },
        });
      return sent;
    }).catch(notSent);
    const { row, duplicate } = result;
    return c.json(
      {
        replyId: row.id,
        escalationId: row.escalationId,
        channel: row.channel,
        status: row.status,
        outcome: row.outcome,
        duplicate,
        sentAt: row.sentAt ? new Date(row.sentAt).toISOString() : null,
      },
      200,
    );
  });
  return app;
}

/** The escalation, when this person may answer it now (claiming it when open). */
async function answerable(
  c: Context<AppEnv>,
  deps: AdminDeps & { escalations: TenantEscalations },
  acting: ActingAdmin,
  escalationId: string,
): Promise<EscalationRow> {
  const found = await findEscalation(deps.sql, escalationId);
  if (!found) throw new AppError(404, "escalation_not_found", "No such escalation");
  if (found.status === "resolved")
    throw new AppError(409, "escalation_resolved", "This escalation is resolved");
  if (found.channel === "voice")
    throw new AppError(
      409,
      "channel_not_answerable",
      "A phone call cannot be answered in writing: call back",
    );
  if (found.status === "claimed") {
    const admin = acting.role === "tenant_admin" || acting.role === "platform_admin";
    if (found.claimedBy !== acting.actor && !admin)
      throw new AppError(409, "escalation_claimed", "Someone else has claimed this escalation");
    return found;
  }
  const claimed = await deps.escalations.claim(escalationId, acting.actor);
  if (typeof claimed === "string")
    throw new AppError(409, "escalation_claimed", "Someone else has claimed this escalation");
  await recordAction(c, deps.sql, acting, {
    action: "escalation.claimed",
    target: escalationId,
    summary: { channel: claimed.channel },
  });
  return claimed;
}

function notSent(error: unknown): never {
  if (error instanceof ReplyNotSent)
    throw new AppError(
      502,
      error.retryable ? "upstream_refused" : "reply_unconfirmed",
      error.retryable
        ? `${error.upstream} refused the reply; try again`
        : `${error.upstream} did not confirm the reply; it is not sent again`,
    );
  throw error;
}
