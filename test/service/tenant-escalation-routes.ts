import type { RouteRow } from "./tenant-http-routes";

/**
 * The escalation routes' rows of tenant-http-isolation.test.ts (see tenant-http-routes.ts): A's callers
 * with B's tenant in the path (404 as for a tenant that does not exist), or with B's escalation id on A's
 * own path (404: row-level security hides it), and the controls that show the refusals are not vacuous.
 */

const T = "/api/v1/admin/tenants";
const E = `${T}/{id}/escalations`;

export const ESCALATION_ROUTES: RouteRow[] = [
  {
    name: "list B's escalations",
    route: `GET ${E}`,
    path: ({ b }) => `${T}/${b.id}/escalations`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's escalation",
    route: `GET ${E}/{escalationId}`,
    path: ({ b }) => `${T}/${b.id}/escalations/${b.escalationId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's escalation by id",
    route: `GET ${E}/{escalationId}`,
    path: ({ a, b }) => `${T}/${a.id}/escalations/${b.escalationId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "claim B's escalation by id",
    route: `POST ${E}/{escalationId}/claim`,
    path: ({ a, b }) => `${T}/${a.id}/escalations/${b.escalationId}/claim`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "claim B's escalation",
    route: `POST ${E}/{escalationId}/claim`,
    path: ({ b }) => `${T}/${b.id}/escalations/${b.escalationId}/claim`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "resolve B's escalation by id",
    route: `POST ${E}/{escalationId}/resolve`,
    path: ({ a, b }) => `${T}/${a.id}/escalations/${b.escalationId}/resolve`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "resolve B's escalation",
    route: `POST ${E}/{escalationId}/resolve`,
    path: ({ b }) => `${T}/${b.id}/escalations/${b.escalationId}/resolve`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "answer B's escalation by id",
    route: `POST ${E}/{escalationId}/reply`,
    path: ({ a, b }) => `${T}/${a.id}/escalations/${b.escalationId}/reply`,
    body: () => ({ text: "alpha answer", replyId: "0b1e55ed-0000-4000-8000-0000000a1fa0" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "answer B's escalation",
    route: `POST ${E}/{escalationId}/reply`,
    path: ({ b }) => `${T}/${b.id}/escalations/${b.escalationId}/reply`,
    body: () => ({ text: "alpha answer", replyId: "0b1e55ed-0000-4000-8000-0000000a1fa1" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "set B's Slack webhook",
    route: `PUT ${E}/slack-webhook`,
    path: ({ b }) => `${T}/${b.id}/escalations/slack-webhook`,
    body: () => ({ url: "https://hooks.slack.com/services/T/B/alpha" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "remove B's Slack webhook",
    route: `DELETE ${E}/slack-webhook`,
    path: ({ b }) => `${T}/${b.id}/escalations/slack-webhook`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "the platform lists B's escalations",
    route: `GET ${E}`,
    path: ({ b }) => `${T}/${b.id}/escalations`,
    sees: ({ b }) => b.escalationId,
    as: "platform",
  },
  {
    name: "A's admin reads A's escalation",
    route: `GET ${E}/{escalationId}`,
    path: ({ a }) => `${T}/${a.id}/escalations/${a.escalationId}`,
    sees: () => "alpha@example.com",
    as: "aAdmin",
  },
];
