import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import type { IntercomBridge } from "../channels/intercom";
import { AppError } from "../errors";
import { type InternalAuthOptions, internalAuth } from "../middleware/internal-auth";
import { errorResponses } from "./schemas";

export interface InternalDeps {
  bridge: IntercomBridge | undefined;
  auth: InternalAuthOptions;
}

/** Called by Cloud Scheduler (poll) and Cloud Tasks (outbox tasks) only. */
export function internalRoutes(deps: InternalDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.use("/internal/*", internalAuth(deps.auth));
  const bridge = () => {
    if (!deps.bridge)
      throw new AppError(503, "intercom_not_configured", "The Intercom bridge is not configured");
    return deps.bridge;
  };

  app.openapi(
    createRoute({
      method: "post",
      path: "/internal/poll",
      summary: "Find customer messages the webhooks missed and re-dispatch stale outbox rows",
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
    }),
    async (c) => c.json(await bridge().poll(), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/internal/tasks/outbox/{id}",
      summary: "Process one outbox row (a Cloud Tasks push target)",
      request: { params: z.object({ id: z.uuid() }) },
      responses: {
        200: {
          description: "Done, or handed back to the queue with a later schedule",
          content: { "application/json": { schema: z.object({ outcome: z.string() }) } },
        },
        ...errorResponses(400, 401, 503),
      },
    }),
    // Always 200 once the row is safe in the outbox: retries are scheduled by the bridge itself (it knows
    // Intercom's reset time), so Cloud Tasks must not retry on its own as well.
    async (c) => c.json({ outcome: await bridge().process(c.req.valid("param").id) }, 200),
  );
  return app;
}
