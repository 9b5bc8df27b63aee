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
  404: "Not found (also: a session of another identity)",
  413: "Body too large",
  415: "Content-Type must be application/json",
  429: "Rate limited or over budget; see Retry-After",
  503: "At capacity or not configured; see Retry-After",
};
