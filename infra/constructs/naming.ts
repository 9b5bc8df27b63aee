/** Construct id of a role grant: `roles/cloudsql.instanceUser` → `cloudsql-instanceuser`. */
export const roleId = (role: string): string =>
  role
    .replace(/^roles\//, "")
    .replace(/\./g, "-")
    .toLowerCase();

/**
 * Host of a Cloud Run service's deterministic URL, `<service>-<project number>.<region>.run.app`
 * (https://cloud.google.com/run/docs/triggering/https-request#deterministic): known before the service
 * exists, so a service can be told its own URL and OIDC audience without a dependency cycle.
 */
export const runAppHost = (service: string, projectNumber: string, region: string): string =>
  `${service}-${projectNumber}.${region}.run.app`;
