import type { RouteRow } from "./tenant-http-routes";

/**
 * The e-mail routes' rows of tenant-http-isolation.test.ts (see tenant-http-routes.ts): A's tenant admin
 * with B's tenant in the path (404 as for a tenant that does not exist), or B's mailbox on A's own path
 * (404: row-level security hides it), and the controls that show the refusals are not vacuous.
 */

const T = "/api/v1/admin/tenants";
const M = `${T}/{id}/email/mailboxes`;

export const EMAIL_ROUTES: RouteRow[] = [
  {
    name: "connect a mailbox for B",
    route: `GET ${T}/{id}/email/connect`,
    path: ({ b }) => `${T}/${b.id}/email/connect`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "list B's mailboxes",
    route: `GET ${M}`,
    path: ({ b }) => `${T}/${b.id}/email/mailboxes`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "disconnect B's mailbox",
    route: `DELETE ${M}/{connectionId}`,
    path: ({ b }) => `${T}/${b.id}/email/mailboxes/${b.mailboxConnectionId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "disconnect B's mailbox by id",
    route: `DELETE ${M}/{connectionId}`,
    path: ({ a, b }) => `${T}/${a.id}/email/mailboxes/${b.mailboxConnectionId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "A lists its own mailboxes",
    route: `GET ${M}`,
    path: ({ a }) => `${T}/${a.id}/email/mailboxes`,
    sees: ({ a }) => a.mailboxAddress,
    as: "aAdmin",
  },
  {
    name: "the platform lists B's mailboxes",
    route: `GET ${M}`,
    path: ({ b }) => `${T}/${b.id}/email/mailboxes`,
    sees: ({ b }) => b.mailboxAddress,
    as: "platform",
  },
];
