import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { databaseResponds, type Sql } from "../db/client";
import type { AppEnv } from "../http/app-env";
import { createRouter } from "../http/router";

export interface HealthDeps {
  sql: Sql;
  databaseKind: "server" | "embedded";
  modelProvider: () => { name: string; circuit: "closed" | "open" | "half-open" };
  knowledgeChunks: number;
  integrations: Record<string, boolean>;
  version: string;
  startedAt: number;
}

export interface HealthRoutesDeps extends HealthDeps {
  /** Admin and internal callers see the details; everyone else only the status and version. */
  mayShowDetails(c: Context<AppEnv>): Promise<boolean>;
}

const details = "(admin and internal callers only)";
const HealthResponse = z
  .object({
    status: z.enum(["healthy", "degraded", "unhealthy"]),
    // Public: the release smoke test checks that the new revision is the one answering.
    version: z.string(),
    reasons: z
      .array(z.string())
      .optional()
      .openapi({ description: `Why not healthy ${details}` }),
    uptimeSeconds: z.number().optional().openapi({ description: details }),
    database: z
      .object({
        status: z.enum(["up", "down"]),
        kind: z.enum(["server", "embedded"]),
        latencyMs: z.number(),
      })
      .optional()
      .openapi({ description: details }),
    modelProvider: z
      .object({ name: z.string(), circuit: z.enum(["closed", "open", "half-open"]) })
      .optional()
      .openapi({ description: details }),
    knowledgeBase: z.object({ chunks: z.number().int() }).optional().openapi({ description: details }),
    integrations: z.record(z.string(), z.boolean()).optional().openapi({ description: details }),
  })
  .openapi("Health");

async function readiness(deps: HealthDeps) {
  const started = performance.now();
  const up = await databaseResponds(deps.sql, 2000);
  const latencyMs = Math.round(performance.now() - started);
  const provider = deps.modelProvider();
  const reasons: string[] = [];
  if (!up) reasons.push("database unreachable");
  if (provider.circuit !== "closed")
    reasons.push(`${provider.name} circuit ${provider.circuit}: answering with fallbacks`);
  if (provider.name === "local" && deps.knowledgeChunks === 0)
    reasons.push("local provider with an empty knowledge base");
  const status: "healthy" | "degraded" | "unhealthy" = !up
    ? "unhealthy"
    : reasons.length > 0
      ? "degraded"
      : "healthy";
  return {
    status,
    version: deps.version,
    reasons,
    uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
    database: { status: up ? ("up" as const) : ("down" as const), kind: deps.databaseKind, latencyMs },
    modelProvider: provider,
    knowledgeBase: { chunks: deps.knowledgeChunks },
    integrations: deps.integrations,
  };
}

export function healthRoutes(deps: HealthRoutesDeps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      summary: "Liveness: the process serves HTTP (no dependency is checked)",
      responses: {
        200: {
          description: "Alive",
          content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
        },
      },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/health",
      summary:
        "Readiness: 200 healthy or degraded, 503 only when the database is unreachable; the reasons and what is configured only for admin and internal callers",
      responses: {
        200: { description: "Ready", content: { "application/json": { schema: HealthResponse } } },
        503: { description: "Database down", content: { "application/json": { schema: HealthResponse } } },
      },
    }),
    async (c) => {
      const report = await readiness(deps);
      const code = report.database.status === "up" ? 200 : 503;
      if (await deps.mayShowDetails(c)) return c.json(report, code);
      return c.json({ status: report.status, version: report.version }, code);
    },
  );
  return app;
}
