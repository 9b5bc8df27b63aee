import type { Sql } from "./client";

/**
 * A tenant's webhook endpoints (migration 00015), in the tenant's scope. The row keeps the secret
 * store's reference of the endpoint's `whsec_` secret, never the secret.
 */

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  secretName: string;
  status: "enabled" | "disabled";
  disabledReason: string | null;
  consecutiveFailures: number;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: Sql) =>
  sql`id, url, description, events, secret_name, status, disabled_reason, consecutive_failures,
    failing_since, created_at, updated_at`;

export async function insertEndpoint(
  sql: Sql,
  input: { id: string; url: string; description: string | null; events: string[]; secretName: string },
): Promise<WebhookEndpoint> {
  const [row] = await sql<WebhookEndpoint[]>`
    insert into webhook_endpoints (id, url, description, events, secret_name)
    values (${input.id}, ${input.url}, ${input.description}, ${input.events}::text[], ${input.secretName})
    returning ${columns(sql)}`;
  return row as WebhookEndpoint;
}

export async function listEndpoints(sql: Sql): Promise<WebhookEndpoint[]> {
  return await sql<WebhookEndpoint[]>`select ${columns(sql)} from webhook_endpoints order by created_at, id`;
}

export async function findEndpoint(sql: Sql, id: string): Promise<WebhookEndpoint | undefined> {
  const [row] = await sql<WebhookEndpoint[]>`select ${columns(sql)} from webhook_endpoints where id = ${id}`;
  return row;
}

/**
 * Changes what is given. Enabling a disabled endpoint closes its circuit: its failure count restarts (its
 * pending deliveries, kept while it was off, are then dispatched: db/event-deliveries.ts, duePending).
 */
export async function updateEndpoint(
  sql: Sql,
  id: string,
  change: {
    url?: string | undefined;
    description?: string | null | undefined;
    events?: string[] | undefined;
    enable?: boolean | undefined;
  },
): Promise<WebhookEndpoint | undefined> {
  const enable = change.enable === true;
  const [row] = await sql<WebhookEndpoint[]>`
    update webhook_endpoints set
      url = coalesce(${change.url ?? null}, url),
      description = ${change.description === undefined ? sql`description` : change.description},
      events = coalesce(${change.events ?? null}::text[], events),
      status = case when ${enable} then 'enabled' else status end,
      disabled_reason = case when ${enable} then null else disabled_reason end,
      consecutive_failures = case when ${enable} then 0 else consecutive_failures end,
      failing_since = case when ${enable} then null else failing_since end,
      updated_at = now()
    where id = ${id}
    returning ${columns(sql)}`;
  return row;
}

/** The deleted endpoint's secret reference (its secret is then deleted from the store). */
export async function deleteEndpoint(sql: Sql, id: string): Promise<{ secretName: string } | undefined> {
  const [row] = await sql<{ secretName: string }[]>`
    delete from webhook_endpoints where id = ${id} returning secret_name`;
  return row;
}

/**
 * Opens the endpoint's circuit: disabled with the reason. Undefined when it was not enabled (another
 * sender disabled it first): the caller reports the change once.
 */
export async function disableEndpoint(
  sql: Sql,
  id: string,
  reason: string,
): Promise<WebhookEndpoint | undefined> {
  const [row] = await sql<WebhookEndpoint[]>`
    update webhook_endpoints set status = 'disabled', disabled_reason = ${reason}, updated_at = now()
    where id = ${id} and status = 'enabled'
    returning ${columns(sql)}`;
  return row;
}
