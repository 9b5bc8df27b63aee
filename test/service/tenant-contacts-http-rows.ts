import { SHARED } from "./tenant-fixtures";
import type { RouteRow } from "./tenant-http-routes";

/**
 * The contacts and leads routes (issue 14) in tenant-http-isolation.test.ts's table: as A's tenant admin
 * on B's path (404, as for a tenant that does not exist), on A's own path with B's ids (404: row-level
 * security hides them), and controls that show the same requests do answer where they should.
 */
const T = "/api/v1/admin/tenants";

export const CONTACTS_ROUTES: RouteRow[] = [
  {
    name: "GET B's contacts",
    route: `GET ${T}/{id}/contacts`,
    path: ({ b }) => `${T}/${b.id}/contacts?q=person`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's contact",
    route: `GET ${T}/{id}/contacts/{contactId}`,
    path: ({ b }) => `${T}/${b.id}/contacts/${b.personContactId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "erase B's contact",
    route: `DELETE ${T}/{id}/contacts/{contactId}`,
    path: ({ b }) => `${T}/${b.id}/contacts/${b.personContactId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "erase B's contact by e-mail",
    route: `DELETE ${T}/{id}/contacts/email/{email}`,
    path: ({ b }) => `${T}/${b.id}/contacts/email/${SHARED.email}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's leads",
    route: `GET ${T}/{id}/leads`,
    path: ({ b }) => `${T}/${b.id}/leads`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's leads as CSV",
    route: `GET ${T}/{id}/leads`,
    path: ({ b }) => `${T}/${b.id}/leads?format=csv`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "PATCH B's lead",
    route: `PATCH ${T}/{id}/leads/{leadId}`,
    path: ({ b }) => `${T}/${b.id}/leads/${b.leadId}`,
    body: () => ({ status: "won" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's contact by id on A's path",
    route: `GET ${T}/{id}/contacts/{contactId}`,
    path: ({ a, b }) => `${T}/${a.id}/contacts/${b.personContactId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "erase B's contact by id on A's path",
    route: `DELETE ${T}/{id}/contacts/{contactId}`,
    path: ({ a, b }) => `${T}/${a.id}/contacts/${b.personContactId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "PATCH B's lead by id on A's path",
    route: `PATCH ${T}/{id}/leads/{leadId}`,
    path: ({ a, b }) => `${T}/${a.id}/leads/${b.leadId}`,
    body: () => ({ status: "lost" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "the platform reads B's contact with its call and lead",
    route: `GET ${T}/{id}/contacts/{contactId}`,
    path: ({ b }) => `${T}/${b.id}/contacts/${b.personContactId}`,
    sees: () => "bravo call summary",
    as: "platform",
  },
  {
    name: "the platform exports B's leads",
    route: `GET ${T}/{id}/leads`,
    path: ({ b }) => `${T}/${b.id}/leads?format=csv`,
    sees: () => "bravo lead",
    as: "platform",
  },
  {
    name: "A's admin lists A's contacts",
    route: `GET ${T}/{id}/contacts`,
    path: ({ a }) => `${T}/${a.id}/contacts`,
    sees: ({ a }) => a.personContactId,
    as: "aAdmin",
  },
  {
    name: "A's admin lists A's leads",
    route: `GET ${T}/{id}/leads`,
    path: ({ a }) => `${T}/${a.id}/leads`,
    sees: () => "alpha lead",
    as: "aAdmin",
  },
];
