import type { RouteRow } from "./tenant-http-routes";

/**
 * The "try it" route's rows of tenant-http-isolation.test.ts (see tenant-http-routes.ts): A's tenant admin
 * trying a draft on B's tenant gets the 404 of a tenant that does not exist, and B's settings, knowledge
 * and usage stay as they were. (No platform control row: a try writes B's usage ledger, and B's rows must
 * not change during the suite; admin-settings-try.test.ts shows the route answering for the right caller.)
 */

const T = "/api/v1/admin/tenants";

export const ASSISTANT_ROUTES: RouteRow[] = [
  {
    name: "try a draft on B's settings",
    route: `POST ${T}/{id}/settings/try`,
    path: ({ b }) => `${T}/${b.id}/settings/try`,
    body: () => ({ settings: { systemPrompt: "alpha" }, message: "bravo body" }),
    status: [404],
    as: "aAdmin",
  },
];
