import { createRoute, z } from "@hono/zod-openapi";
import type { InboundPipeline } from "../channels/pipeline/pipeline";
import { DEFAULT_TENANT_ID } from "../db/tenant-scope";
import { type PurgeResult, RETENTION_KINDS } from "../engine/retention";
import { runSweeps, type Sweep } from "../engine/sweeps";
import { AppError } from "../http/errors";
import { createRouter } from "../http/router";
import { type InternalAuthOptions, internalAuth } from "../middleware/internal-auth";
import type { TaskRunner } from "../ports/task-queue";
import { errorResponses } from "./schemas";

export interface InternalDeps {
  /** The inbound pipeline of the asynchronous channels; undefined when none is configured. */
  pipeline: InboundPipeline | undefined;
  auth: InternalAuthOptions;
  /** The retention purge (engine/retention.ts), bound to the database and the configured policy. */
  retention: () => Promise<PurgeResult>;
  /** The handlers of the other task kinds (event deliveries, notifications); absent: none run here. */
  tasks?: TaskRunner | undefined;
  /**
   * Periodic work beside the pipeline's poll, each named and run on every poll (Cloud Scheduler calls
   * /internal/poll; locally a timer): due deliveries and notifications re-dispatched, quiet conversations
   * extracted. Each returns its counts; one failing does not stop the others.
   */
  sweeps?: readonly Sweep[] | undefined;
  /** Renews the Gmail watches that are due (compose/email.ts); absent: e-mail is not configured. */
  renewWatches?: (() => Promise<Record<string, number>>) | undefined;
}

const PurgeResultSchema = z
  .object({
    done: z.boolean().openapi({ description: "False when the time budget ran out first: call again" }),
    purged: z.object(Object.fromEntries(RETENTION_KINDS.map((k) => [k, z.number().int()]))),
    rounds: z.number().int(),
    durationMs: z.number().int(),
  })
  .openapi("RetentionResult");

const pollRoute = createRoute({
  method: "post",
  path: "/internal/poll",
  summary: "Every channel catches up on messages no webhook announced; stale outbox rows are re-dispatched",
  responses: {
    200: {
      description: "Poll result",
      content: {
        "application/json": {
          schema: z.object({
            conversations: z.number(),
            queued: z.number(),
            redispatched: z.number(),
            sweeps: z.record(z.string(), z.record(z.string(), z.number())),
          }),
        },
      },
    },
    ...errorResponses(401, 503),
  },
});

const otherTaskRoute = createRoute({
  method: "post",
  path: "/internal/tasks/{kind}/{id}",
  summary:
    "Run one task of another kind: an outbound event delivery, a team notification, a mailbox sync (Cloud Tasks)",
  request: {
    params: z.object({ kind: z.enum(["event-delivery", "notification", "mailbox-sync"]), id: z.uuid() }),
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ tenantId: z.uuid() }) } },
    },
  },
  responses: {
    200: {
      description: "Done, or rescheduled by the handler itself",
      content: { "application/json": { schema: z.object({ outcome: z.string() }) } },
    },
    ...errorResponses(400, 401, 404),
  },
});

const retentionRoute = createRoute({
  method: "post",
  path: "/internal/retention",
  summary: "Delete data older than the retention limits, in bounded batches; counts per kind",
  responses: {
    200: {
      description: "Rows deleted per kind of data",
      content: { "application/json": { schema: PurgeResultSchema } },
    },
    ...errorResponses(401, 403),
  },
});

const outboxTaskRoute = createRoute({
  method: "post",
  path: "/internal/tasks/outbox/{id}",
  summary: "Answer the conversation of one outbox row, of any channel (a Cloud Tasks push target)",
  request: {
    params: z.object({ id: z.uuid() }),
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.object({
            outboxId: z.uuid().optional(),
            tenantId: z.uuid().optional().openapi({
              description: "The row's tenant; tasks queued before tenants carry none: the default tenant",
            }),
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "Done, or handed back to the queue with a later schedule",
      content: { "application/json": { schema: z.object({ outcome: z.string() }) } },
    },
    ...errorResponses(400, 401, 503),
  },
});

const renewWatchesRoute = createRoute({
  method: "post",
  path: "/internal/email/renew-watches",
  summary: "Renew the Gmail watch of every connected mailbox that is due (Cloud Scheduler, daily)",
  responses: {
    200: {
      description: "Mailboxes due, renewed, disconnected (refresh token revoked), failed (retried next time)",
      content: { "application/json": { schema: z.record(z.string(), z.number()) } },
    },
    ...errorResponses(401, 503),
  },
});

/**
 * Called by Cloud Scheduler (poll, retention) and Cloud Tasks (outbox tasks) only. The task and poll routes
 * serve the inbound pipeline, whichever channel a row belongs to (the row names it); their paths are the
 * ones Cloud Tasks has tasks in flight for and Cloud Scheduler targets.
 */
export function internalRoutes(deps: InternalDeps) {
  const app = createRouter();
  app.use("/internal/*", internalAuth(deps.auth));
  const pipeline = () => {
    // Intercom is the only asynchronous channel so far: no pipeline means no Intercom bridge.
    if (!deps.pipeline)
      throw new AppError(503, "intercom_not_configured", "The Intercom bridge is not configured");
    return deps.pipeline;
  };
  app.openapi(pollRoute, async (c) => {
    const polled = deps.pipeline
      ? await deps.pipeline.poll()
      : { conversations: 0, queued: 0, redispatched: 0 };
    return c.json({ ...polled, sweeps: await runSweeps(deps.sweeps ?? [], c.get("log")) }, 200);
  });
  app.openapi(retentionRoute, async (c) => c.json(await deps.retention(), 200));
  app.openapi(renewWatchesRoute, async (c) => {
    if (!deps.renewWatches)
      throw new AppError(
        503,
        "email_not_configured",
        "E-mail is not configured: set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET",
      );
    return c.json(await deps.renewWatches(), 200);
  });
  // Always 200 once the row is safe in the outbox: retries are scheduled by the pipeline itself (it knows
  // the provider's reset time), so Cloud Tasks must not retry on its own as well.
  app.openapi(outboxTaskRoute, async (c) => {
    // The row's tenant, from the task; tasks queued before tenants (and bodiless calls) are the default's.
    const tenantId = c.req.valid("json").tenantId ?? DEFAULT_TENANT_ID;
    return c.json({ outcome: await pipeline().process(c.req.valid("param").id, tenantId) }, 200);
  });
  // Like outbox tasks, always 200 once the handler ran: it reschedules its own retries with backoff.
  app.openapi(otherTaskRoute, async (c) => {
    const { kind, id } = c.req.valid("param");
    if (!deps.tasks?.has(kind)) throw new AppError(404, "not_found", `no ${kind} tasks run here`);
    return c.json({ outcome: await deps.tasks.run(kind, id, c.req.valid("json").tenantId) }, 200);
  });
  return app;
}
