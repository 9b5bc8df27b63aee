import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import type { Sql } from "../db/client";

export interface HealthDeps {
  sql: Sql;
  databaseKind: "server" | "embedded";
  modelProvider: () => { name: string; circuit: "closed" | "open" | "half-open" };
  knowledgeChunks: number;
  integrations: Record<string, boolean>;
  version: string;
  startedAt: number;
}

const HealthResponse = z
  .object({
    status: z.enum(["healthy", "degraded", "unhealthy"]),
    reasons: z.array(z.string()),
    version: z.string(),
    uptimeSeconds: z.number(),
    database: z.object({
      status: z.enum(["up", "down"]),
      kind: z.enum(["server", "embedded"]),
      latencyMs: z.number(),
    }),
    modelProvider: z.object({ name: z.string(), circuit: z.enum(["closed", "open", "half-open"]) }),
    knowledgeBase: z.object({ chunks: z.number().int() }),
    integrations: z.record(z.string(), z.boolean()),
  })
  .openapi("Health");

export function healthRoutes(deps: HealthDeps) {
  const app = new OpenAPIHono<AppEnv>();

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
      summary: "Readiness: 200 healthy or degraded (with reasons), 503 only when the database is unreachable",
      responses: {
        200: { description: "Ready", content: { "application/json": { schema: HealthResponse } } },
        503: { description: "Database down", content: { "application/json": { schema: HealthResponse } } },
      },
    }),
    async (c) => {
      const started = performance.now();
      const up = await Promise.race([
        deps.sql`select 1`.then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref()),
      ]);
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
      return c.json(
        {
          status,
          reasons,
          version: deps.version,
          uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
          database: { status: up ? ("up" as const) : ("down" as const), kind: deps.databaseKind, latencyMs },
          modelProvider: provider,
          knowledgeBase: { chunks: deps.knowledgeChunks },
          integrations: deps.integrations,
        },
        up ? 200 : 503,
      );
    },
  );
  return app;
}
