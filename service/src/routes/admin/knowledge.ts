import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteDocument, getDocument, listDocuments, putDocument } from "../../db/knowledge";
import { inTenant } from "../../db/tenant-scope";
import { DOCUMENT_SLUG, type Tenant } from "../../domain/tenant";
import { documentChunks } from "../../engine/knowledge";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { type ActingAdmin, recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonContent, TenantParams } from "./schemas";

const DocumentParams = TenantParams.extend({
  slug: z
    .string()
    .regex(DOCUMENT_SLUG, "lowercase letters, digits and '-', at most 64")
    .openapi({ param: { name: "slug", in: "path" }, example: "refunds" }),
});

const DocumentSummary = z
  .object({ slug: z.string(), title: z.string(), origin: z.enum(["files", "api"]), updatedAt: z.string() })
  .openapi("KnowledgeDocumentSummary");
const DocumentSchema = DocumentSummary.extend({ body: z.string() }).openapi("KnowledgeDocument");
const PutDocument = z
  .object({ title: z.string().trim().min(1).max(200), body: z.string().min(1) })
  .openapi("PutKnowledgeDocument");
const PutResult = DocumentSummary.extend({ chunks: z.number().int(), knowledgeVersion: z.string() });

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/knowledge",
  summary: "A tenant's knowledge documents (platform admins, its tenant admins)",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The documents, by slug", z.object({ documents: z.array(DocumentSummary) })),
    ...errorResponses(400, 401, 403, 404),
  },
});

const getRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/knowledge/{slug}",
  summary: "One knowledge document with its Markdown body",
  request: { params: DocumentParams },
  responses: { 200: jsonContent("The document", DocumentSchema), ...errorResponses(400, 401, 403, 404) },
});

const putRouteDef = createRoute({
  method: "put",
  path: "/api/v1/admin/tenants/{id}/knowledge/{slug}",
  summary:
    "Create or replace a document: Markdown (`text/markdown`, titled by its first `# ` heading, else the slug) or JSON `{title, body}`",
  request: {
    params: DocumentParams,
    body: {
      required: false,
      content: {
        "application/json": { schema: PutDocument },
        "text/markdown": { schema: z.string() },
        "text/plain": { schema: z.string() },
      },
    },
  },
  responses: { 200: jsonContent("Stored", PutResult), ...errorResponses(400, 401, 403, 404, 413, 415) },
});

const deleteRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/knowledge/{slug}",
  summary: "Delete a document and its chunks",
  request: { params: DocumentParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404) },
});

const summaryOf = (d: { slug: string; title: string; origin: "files" | "api"; updatedAt: Date }) => ({
  slug: d.slug,
  title: d.title,
  origin: d.origin,
  updatedAt: new Date(d.updatedAt).toISOString(),
});

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The document a PUT sends, in either form, refused above the size limit (413) or empty (400). */
async function documentOf(c: Context<AppEnv>, slug: string, maxBytes: number) {
  const tooLarge = () =>
    new AppError(413, "payload_too_large", `A document's body is at most ${maxBytes} bytes`);
  if (/\bjson\b/i.test(c.req.header("content-type") ?? "")) {
    const { title, body } = (c.req as unknown as { valid(t: "json"): z.infer<typeof PutDocument> }).valid(
      "json",
    );
    if (Buffer.byteLength(body) > maxBytes) throw tooLarge();
    return { slug, title, body };
  }
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge();
  let body: string;
  try {
    body = strictUtf8.decode(bytes);
  } catch {
    throw new AppError(400, "invalid_encoding", "The document is not valid UTF-8");
  }
  if (!body.trim()) throw new AppError(400, "validation_failed", "The document is empty");
  const title = /^#\s+(.+)$/m.exec(body)?.[1]?.trim().slice(0, 200) || slug;
  return { slug, title, body };
}

export function knowledgeRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;
  const allowed = ["tenant_admin"] as const;
  /** After a change: this instance's engine of the tenant is rebuilt with the new knowledge. */
  const changed = (tenant: Tenant) => deps.tenants.forget({ id: tenant.id });
  const audit = (c: Context<AppEnv>, acting: ActingAdmin, action: string, slug: string, summary?: object) =>
    recordAction(c, sql, acting, { action, target: slug, summary: { ...summary } });

  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, allowed);
    const documents = await inTenant(id, () => listDocuments(sql));
    return c.json({ documents: documents.map(summaryOf) }, 200);
  });

  app.openapi(getRouteDef, async (c) => {
    const { id, slug } = c.req.valid("param");
    await requireTenantRole(c, sql, id, allowed);
    const doc = await inTenant(id, () => getDocument(sql, slug));
    if (!doc) throw new AppError(404, "not_found", "No such document");
    return c.json({ ...summaryOf(doc), body: doc.body }, 200);
  });

  app.openapi(putRouteDef, async (c) => {
    const { id, slug } = c.req.valid("param");
    const { acting, tenant } = await requireTenantRole(c, sql, id, allowed);
    const doc = await documentOf(c, slug, deps.documentMaxBytes);
    const chunks = documentChunks(doc);
    const stored = await inTenant(id, async () => {
      const knowledgeVersion = await putDocument(sql, doc, chunks, "api");
      await audit(c, acting, "knowledge.put", slug, {
        bytes: Buffer.byteLength(doc.body),
        chunks: chunks.length,
      });
      return { knowledgeVersion, saved: await getDocument(sql, slug) };
    });
    changed(tenant);
    const saved = stored.saved ?? { ...doc, origin: "api" as const, updatedAt: new Date() };
    return c.json(
      { ...summaryOf(saved), chunks: chunks.length, knowledgeVersion: stored.knowledgeVersion },
      200,
    );
  });

  app.openapi(deleteRouteDef, async (c) => {
    const { id, slug } = c.req.valid("param");
    const { acting, tenant } = await requireTenantRole(c, sql, id, allowed);
    const deleted = await inTenant(id, async () => {
      const gone = await deleteDocument(sql, slug);
      if (gone) await audit(c, acting, "knowledge.deleted", slug);
      return gone;
    });
    if (!deleted) throw new AppError(404, "not_found", "No such document");
    changed(tenant);
    return c.body(null, 204);
  });

  return app;
}
