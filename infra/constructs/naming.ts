import type { ServiceAccount } from "@cdktf/provider-google/lib/service-account";

/** Construct id of a role grant: `roles/cloudsql.instanceUser` → `cloudsql-instanceuser`. */
export const roleId = (role: string): string =>
  role
    .replace(/^roles\//, "")
    .replace(/\./g, "-")
    .toLowerCase();

/**
 * Cloud Run's deterministic host of a service, `<service>-<project number>.<region>.run.app`
 * (https://cloud.google.com/run/docs/triggering/https-request#deterministic): known before the service
 * exists, so a service can be told its own URL, and another service's, without a dependency cycle.
 */
export const runAppHost = (serviceName: string, projectNumber: string, region: string): string =>
  `${serviceName}-${projectNumber}.${region}.run.app`;

/** The IAM principal of a service account: `serviceAccount:<e-mail>`. */
export const serviceAccountMember = (account: Pick<ServiceAccount, "email">): string =>
  `serviceAccount:${account.email}`;

/**
 * The identity Gmail publishes mailbox notifications as (users.watch): it needs `roles/pubsub.publisher`
 * on the topic a watch names, and on nothing else (guardrail SB_GMAIL_PUBLISHER).
 */
export const GMAIL_PUSH_PUBLISHER = "serviceAccount:gmail-api-push@system.gserviceaccount.com";

/** Pub/Sub's service agent of a project: it mints push OIDC tokens and moves dead letters. */
export const pubsubServiceAgent = (projectNumber: string): string =>
  `serviceAccount:service-${projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;
