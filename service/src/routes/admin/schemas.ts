import { z } from "@hono/zod-openapi";
import type { Tenant } from "../../domain/tenant";

/** Every admin route answers with the uniform error body; these are the statuses they share. */
export { errorResponses } from "../schemas";

export const TenantParams = z.object({
  id: z
    .uuid()
    .openapi({ param: { name: "id", in: "path" }, example: "00000000-0000-4000-8000-000000000001" }),
});

export const TenantSchema = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(["active", "suspended"]),
    settings: z.record(z.string(), z.unknown()),
    widgetKey: z.string().openapi({ description: "The widget's public key (`data-tenant`); not a secret" }),
    knowledgeVersion: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Tenant");

/** A tenant as the API shows it (dates as ISO strings). */
export function tenantView(t: Tenant): z.infer<typeof TenantSchema> {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    status: t.status,
    settings: t.settings as Record<string, unknown>,
    widgetKey: t.widgetKey,
    knowledgeVersion: t.knowledgeVersion,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { "application/json": { schema } } },
});

export const jsonContent = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

/** Page sizes of the listings: 50 unless asked, at most 500. */
export const Limit = z.coerce.number().int().min(1).max(500).default(50);
