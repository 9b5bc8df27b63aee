import type { RouteRow } from "./tenant-http-routes";

/**
 * The rows of tenant-http-isolation.test.ts for signed webhooks out and API keys: A's tenant admin with
 * B's tenant in the path, or B's endpoint, delivery or key under A's path (404 either way); controls.
 */

const T = "/api/v1/admin/tenants";
const W = `${T}/{id}/webhook-endpoints`;
const K = `${T}/{id}/api-keys`;

export const WEBHOOK_ROUTES: RouteRow[] = [
  {
    name: "GET B's endpoints",
    route: `GET ${W}`,
    path: ({ b }) => `${T}/${b.id}/webhook-endpoints`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "POST an endpoint into B",
    route: `POST ${W}`,
    path: ({ b }) => `${T}/${b.id}/webhook-endpoints`,
    body: () => ({ url: "https://alpha.example.com/h", events: ["lead.created"] }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's endpoint by id",
    route: `GET ${W}/{endpointId}`,
    path: ({ a, b }) => `${T}/${a.id}/webhook-endpoints/${b.webhookEndpointId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "PATCH B's endpoint by id (re-enable)",
    route: `PATCH ${W}/{endpointId}`,
    path: ({ a, b }) => `${T}/${a.id}/webhook-endpoints/${b.webhookEndpointId}`,
    body: () => ({ enabled: true, description: "alpha" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "DELETE B's endpoint by id",
    route: `DELETE ${W}/{endpointId}`,
    path: ({ a, b }) => `${T}/${a.id}/webhook-endpoints/${b.webhookEndpointId}`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "rotate B's endpoint secret by id",
    route: `POST ${W}/{endpointId}/rotate-secret`,
    path: ({ a, b }) => `${T}/${a.id}/webhook-endpoints/${b.webhookEndpointId}/rotate-secret`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's delivery log by endpoint id",
    route: `GET ${W}/{endpointId}/deliveries`,
    path: ({ a, b }) => `${T}/${a.id}/webhook-endpoints/${b.webhookEndpointId}/deliveries`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "replay B's delivery by id",
    route: `POST ${W}/{endpointId}/deliveries/{deliveryId}/replay`,
    path: ({ a, b }) =>
      `${T}/${a.id}/webhook-endpoints/${b.webhookEndpointId}/deliveries/${b.eventDeliveryId}/replay`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "replay B's delivery under A's endpoint",
    route: `POST ${W}/{endpointId}/deliveries/{deliveryId}/replay`,
    path: ({ a, b }) =>
      `${T}/${a.id}/webhook-endpoints/${a.webhookEndpointId}/deliveries/${b.eventDeliveryId}/replay`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "send a test event to B's endpoint by id",
    route: `POST ${W}/{endpointId}/test`,
    path: ({ a, b }) => `${T}/${a.id}/webhook-endpoints/${b.webhookEndpointId}/test`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "GET B's API keys",
    route: `GET ${K}`,
    path: ({ b }) => `${T}/${b.id}/api-keys`,
    status: [404],
    as: "aAdmin",
  },
  {
    name: "POST an API key into B",
    route: `POST ${K}`,
    path: ({ b }) => `${T}/${b.id}/api-keys`,
    body: () => ({ name: "alpha", role: "tenant_admin" }),
    status: [404],
    as: "aAdmin",
  },
  {
    name: "revoke B's API key by id",
    route: `DELETE ${K}/{keyId}`,
    path: ({ a, b }) => `${T}/${a.id}/api-keys/${b.apiKeyId}`,
    status: [404],
    as: "aAdmin",
  },
  // Controls.
  {
    name: "the platform lists B's endpoints",
    route: `GET ${W}`,
    path: ({ b }) => `${T}/${b.id}/webhook-endpoints`,
    sees: ({ b }) => b.webhookEndpointId,
    as: "platform",
  },
  {
    name: "the platform reads B's delivery log",
    route: `GET ${W}/{endpointId}/deliveries`,
    path: ({ b }) => `${T}/${b.id}/webhook-endpoints/${b.webhookEndpointId}/deliveries`,
    sees: ({ b }) => b.eventDeliveryId,
    as: "platform",
  },
  {
    name: "A's admin lists A's API keys",
    route: `GET ${K}`,
    path: ({ a }) => `${T}/${a.id}/api-keys`,
    sees: ({ a }) => a.apiKeyId,
    as: "aAdmin",
  },
];
