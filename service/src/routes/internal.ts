import { createRoute, z } from "@hono/zod-openapi";
import type { InboundPipeline } from "../channels/pipeline/pipeline";
import { DEFAULT_TENANT_ID } from "../db/tenant-scope";
import { type PurgeResult, RETENTION_KINDS } from "../engine/retention";
import { AppError } from "../http/errors";
import { createRouter } from "../http/router";
import { type InternalAuthOptions, internalAuth } from "../middleware/internal-auth";
import { errorResponses } from "./schemas";

export interface InternalDeps {
  /** The inbound pipeline of the asynchronous channels; undefined when none is configured. */
  pipeline: InboundPipeline | undefined;
  auth: InternalAuthOptions;
  /** The retention purge (engine/retention.ts), bound to the database and the configured policy. */
  retention: () => Promise<PurgeResult>;
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
          schema: z.object({ conversations: z.number(), queued: z.number(), redispatched: z.number() }),
        },
      },
    },
    ...errorResponses(401, 503),
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
  app.openapi(pollRoute, async (c) => c.json(await pipeline().poll(), 200));
  app.openapi(retentionRoute, async (c) => c.json(await deps.retention(), 200));
  // Always 200 once the row is safe in the outbox: retries are scheduled by the pipeline itself (it knows
  // the provider's reset time), so Cloud Tasks must not retry on its own as well.
  app.openapi(outboxTaskRoute, async (c) => {
    // The row's tenant, from the task; tasks queued before tenants (and bodiless calls) are the default's.
    const tenantId = c.req.valid("json").tenantId ?? DEFAULT_TENANT_ID;
    return c.json({ outcome: await pipeline().process(c.req.valid("param").id, tenantId) }, 200);
  });
  return app;
}
