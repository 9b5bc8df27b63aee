import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  type ContactRow,
  callsOfContact,
  findContact,
  listContacts,
  sessionsOfContact,
} from "../../db/contacts";
import { leadsOfContact } from "../../db/leads";
import { inTenant } from "../../db/tenant-scope";
import { toE164 } from "../../domain/phone";
import { erasePerson } from "../../engine/erasure";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { Cursor, decodeCursor, pageOf } from "./keyset";
import { LeadSchema, leadView } from "./lead-view";
import { errorResponses, jsonContent, Limit, TenantParams } from "./schemas";

export const ContactSchema = z
  .object({
    id: z.uuid(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    company: z.string().nullable(),
    intercomContactId: z.string().nullable(),
    channels: z.array(z.string()).openapi({ description: "The channels the person came through" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Contact");

export function contactView(c: ContactRow): z.infer<typeof ContactSchema> {
  return {
    id: c.id,
    name: c.name,
    email: c.email,
    phone: c.phone,
    company: c.company,
    intercomContactId: c.intercomContactId,
    channels: c.channels,
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

const ContactParams = TenantParams.extend({
  contactId: z.uuid().openapi({ param: { name: "contactId", in: "path" } }),
});

const EmailParams = TenantParams.extend({
  email: z
    .email()
    .max(320)
    .openapi({ param: { name: "email", in: "path" }, example: "ada@example.com" }),
});

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/contacts",
  summary: "The tenant's contacts, newest first; `q` searches name, e-mail, phone and company",
  request: {
    params: TenantParams,
    query: z.object({ q: z.string().trim().min(1).max(200).optional(), cursor: Cursor, limit: Limit }),
  },
  responses: {
    200: jsonContent(
      "A page of contacts",
      z.object({ contacts: z.array(ContactSchema), nextCursor: z.string().nullable() }),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const Conversation = z.object({
  id: z.uuid(),
  channel: z.string(),
  summary: z.string().nullable(),
  turns: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const Call = z.object({
  id: z.uuid(),
  fromNumber: z.string().nullable(),
  toNumber: z.string().nullable(),
  durationSec: z.number().nullable(),
  reason: z.string().nullable(),
  summary: z.string().nullable(),
  transcript: z.unknown().openapi({ description: "[{ role, text, createdAt }], oldest first" }),
  endedAt: z.string().nullable(),
  createdAt: z.string(),
});

const detailRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/contacts/{contactId}",
  summary: "A contact with their conversations, calls (summaries and transcripts) and leads",
  request: { params: ContactParams },
  responses: {
    200: jsonContent(
      "The contact",
      z.object({
        contact: ContactSchema,
        conversations: z.array(Conversation),
        calls: z.array(Call),
        leads: z.array(LeadSchema),
      }),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const Erased = z.object({ erased: z.literal(true), counts: z.record(z.string(), z.number()) });

const eraseByIdRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/contacts/{contactId}",
  summary:
    "GDPR erasure of a contact: their handles, conversations, calls, leads and texts (emits contact.erased)",
  request: { params: ContactParams },
  responses: { 200: jsonContent("Erased", Erased), ...errorResponses(400, 401, 403, 404) },
});

const eraseByEmailRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/contacts/email/{email}",
  summary:
    "GDPR erasure of the contact with this e-mail address and everything of theirs (emits contact.erased)",
  request: { params: EmailParams },
  responses: { 200: jsonContent("Erased", Erased), ...errorResponses(400, 401, 403, 404) },
});

/** A search for a phone number finds it however it is written. */
function searchTerm(q: string | undefined): string | undefined {
  if (!q || !/\d/.test(q) || /[a-z@]/i.test(q)) return q;
  return toE164(q) ?? q;
}

/**
 * The people the tenant's channels know (contacts merged across phone, e-mail and Intercom): listed and
 * searched by tenant admins and agents, erased by tenant admins.
 */
export function contactDirectoryRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;

  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, ["tenant_admin", "agent"]);
    const q = c.req.valid("query");
    const after = decodeCursor(q.cursor);
    const rows = await inTenant(id, () =>
      listContacts(sql, { q: searchTerm(q.q), limit: q.limit + 1, after }),
    );
    const { page, nextCursor } = pageOf(rows, q.limit);
    return c.json({ contacts: page.map(contactView), nextCursor }, 200);
  });

  app.openapi(detailRouteDef, async (c) => {
    const { id, contactId } = c.req.valid("param");
    await requireTenantRole(c, sql, id, ["tenant_admin", "agent"]);
    const found = await inTenant(id, async () => {
      const contact = await findContact(sql, contactId);
      if (!contact) return undefined;
      const [conversations, calls, leads] = await Promise.all([
        sessionsOfContact(sql, contactId, 100),
        callsOfContact(sql, contactId, 100),
        leadsOfContact(sql, contactId),
      ]);
      return { contact, conversations, calls, leads };
    });
    if (!found) throw new AppError(404, "contact_not_found", "No such contact");
    const iso = (d: Date) => new Date(d).toISOString();
    return c.json(
      {
        contact: contactView(found.contact),
        conversations: found.conversations.map((s) => ({
          ...s,
          createdAt: iso(s.createdAt),
          updatedAt: iso(s.updatedAt),
        })),
        calls: found.calls.map((k) => ({
          ...k,
          endedAt: k.endedAt ? iso(k.endedAt) : null,
          createdAt: iso(k.createdAt),
        })),
        leads: found.leads.map(leadView),
      },
      200,
    );
  });

  const erase = async (
    c: Context<AppEnv>,
    tenantId: string,
    who: { externalId: string; email?: string; contactIds?: string[] },
  ) => {
    const { acting } = await requireTenantRole(c, sql, tenantId, ["tenant_admin"]);
    const result = await inTenant(tenantId, async () => {
      const erased = await erasePerson(
        { sql, key: deps.erasureKey, log: c.get("log"), events: deps.events },
        {
          externalId: who.externalId,
          userIdentityIds: [],
          contactId: null,
          email: who.email,
          contactIds: who.contactIds,
          actor: acting.actor,
          requestId: c.get("requestId"),
        },
      );
      if (!erased.erasureId) return erased;
      // The target is the erasure's record, never the person; the summary is row counts.
      await recordAction(c, sql, acting, {
        action: "erasure.completed",
        target: String(erased.erasureId),
        summary: { counts: erased.counts, channel: "contacts" },
      });
      return erased;
    });
    if (!result.erasureId) throw new AppError(404, "contact_not_found", "Nothing is kept of this person");
    return { erased: true as const, counts: { ...result.counts } };
  };

  app.openapi(eraseByIdRouteDef, async (c) => {
    const { id, contactId } = c.req.valid("param");
    return c.json(await erase(c, id, { externalId: `contact:${contactId}`, contactIds: [contactId] }), 200);
  });

  app.openapi(eraseByEmailRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const email = c.req.valid("param").email.toLowerCase();
    return c.json(await erase(c, id, { externalId: `email:${email}`, email }), 200);
  });

  return app;
}
