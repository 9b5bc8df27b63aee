import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/**
 * Routes a webhook that arrived on a channel connection's own path (`/webhooks/intercom/{id}`) to its
 * tenant: the one cross-tenant read of channel_connections, as the platform role. Everything after it runs
 * in the tenant it names.
 */
export interface ConnectionRoute {
  id: string;
  tenantId: string;
  kind: string;
  publicId: string;
  settings: Record<string, unknown>;
  /** Credential name → SecretStore reference (never the value). */
  secretRefs: Record<string, string>;
  status: "active" | "disabled";
  tenantStatus: "active" | "suspended";
}

export function findConnectionRoute(sql: Sql, id: string): Promise<ConnectionRoute | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<ConnectionRoute[]>`
      select c.id, c.tenant_id, c.kind, c.public_id, c.settings, c.secret_refs, c.status,
             t.status as tenant_status
      from channel_connections c join tenants t on t.id = c.tenant_id
      where c.id = ${id}`;
    return row;
  });
}

/**
 * Routes a text message to its tenant by the number that was texted (SMS webhooks share one path per
 * provider): the connection of that kind whose public id is the number, with its tenant's status.
 */
export function findConnectionByNumber(
  sql: Sql,
  kind: string,
  phoneNumber: string,
): Promise<ConnectionRoute | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<ConnectionRoute[]>`
      select c.id, c.tenant_id, c.kind, c.public_id, c.settings, c.secret_refs, c.status,
             t.status as tenant_status
      from channel_connections c join tenants t on t.id = c.tenant_id
      where c.kind = ${kind} and c.public_id = ${phoneNumber}`;
    return row;
  });
}
