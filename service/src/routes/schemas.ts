import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_failed" }),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const UsageSchema = z
  .object({
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    cachedTokens: z.number().int(),
    thoughtsTokens: z.number().int(),
    costUsd: z.number(),
  })
  .openapi("Usage");

/** The widget's tenant header (middleware/tenant.ts), documented on every route that reads it. */
export const TenantHeaders = z.object({
  "x-switchboard-tenant": z.string().optional().openapi({
    description: "The widget public key of the tenant (`data-tenant`); without it, the default tenant",
    example: "pk_default",
  }),
});

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status] ?? "Error",
        content: { "application/json": { schema: ErrorSchema } },
      },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input; `details` lists the offending fields",
  401: "Invalid credentials",
  403: "Refused: the tenant is suspended (`tenant_suspended`), the credentials are another tenant's (`tenant_mismatch`), or the page's origin is not allowed (`origin_not_allowed`)",
  404: "Not found (also: a session of another identity or tenant; `unknown_tenant`: no such widget key)",
  413: "Body too large",
  415: "Content-Type must be application/json",
  429: "Rate limited or over budget; see Retry-After",
  503: "At capacity or not configured; see Retry-After",
};
