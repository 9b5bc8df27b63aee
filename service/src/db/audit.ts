import type { Sql } from "./client";

/**
 * The audit log (migration 00007): append-only. The runtime roles may only insert and select, so nothing
 * here updates or deletes; rows leave only by age (`purgeAuditLog` in db/retention.ts). Both functions run
 * in the caller's scope: in a tenant's, a row is that tenant's and a listing shows only its rows; rows
 * with no tenant (failed admin sign-ins) are written and read through db/platform.ts.
 */

export interface AuditEntry {
  /** `admin-api-key`, a user's JWT subject, or `system`. */
  actor: string;
  role: string;
  /** `tenant.created`, `settings.updated`, `admin.sign_in_failed` … (docs/tenants.md lists them). */
  action: string;
  /** What the action was on: a tenant id, a document slug, a channel or user id. */
  target?: string | null | undefined;
  requestId?: string | null | undefined;
  clientAddress?: string | null | undefined;
  /** What changed, never the values of credentials or message content. */
  summary?: Record<string, unknown> | undefined;
}

export interface AuditRecord {
  id: string;
  at: Date;
  tenantId: string | null;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  requestId: string | null;
  clientAddress: string | null;
  summary: Record<string, unknown>;
}

export interface AuditFilter {
  /** Only this tenant's rows (a platform listing; a tenant's scope shows only its own anyway). */
  tenantId?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Rows older than this id (the previous page's last): newest first. */
  beforeId?: string | undefined;
  limit: number;
}

export async function appendAudit(sql: Sql, entry: AuditEntry): Promise<void> {
  await sql`
    insert into audit_log (actor, role, action, target, request_id, client_address, summary)
    values (${entry.actor}, ${entry.role}, ${entry.action}, ${entry.target ?? null},
      ${entry.requestId ?? null}, ${entry.clientAddress ?? null}, ${sql.json((entry.summary ?? {}) as never)})`;
}

/** Newest first, `limit` rows at most, matching every filter given. */
export async function listAudit(sql: Sql, filter: AuditFilter): Promise<AuditRecord[]> {
  const conditions = [
    filter.tenantId !== undefined ? sql`tenant_id = ${filter.tenantId}` : undefined,
    filter.actor !== undefined ? sql`actor = ${filter.actor}` : undefined,
    filter.action !== undefined ? sql`action = ${filter.action}` : undefined,
    filter.since !== undefined ? sql`at >= ${filter.since}` : undefined,
    filter.until !== undefined ? sql`at < ${filter.until}` : undefined,
    filter.beforeId !== undefined ? sql`id < ${filter.beforeId}` : undefined,
  ].filter((c) => c !== undefined);
  const where = conditions.reduce((all, c) => sql`${all} and ${c}`, sql`true`);
  // Awaited here, so the statement runs in the scope of the caller's `inTenant` or `asPlatform`. The order
  // names the table's column: a bare `id` is the text output column, which sorts "9" after "10".
  return await sql<AuditRecord[]>`
    select id::text as id, at, tenant_id, actor, role, action, target, request_id, client_address, summary
    from audit_log where ${where}
    order by audit_log.id desc limit ${filter.limit}`;
}
