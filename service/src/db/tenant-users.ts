import type { TenantRole } from "../domain/identity";
import type { Sql } from "./client";

/**
 * The people of the current tenant who may use the admin API (and later the console), by the subject
 * they sign in with. Runs in the tenant's scope: row-level security shows no other tenant's people.
 */

export interface TenantUser {
  id: string;
  subject: string;
  email: string | null;
  role: TenantRole;
  createdAt: Date;
}

const columns = (sql: Sql) => sql`id, subject, email, role, created_at`;

/** The role the tenant gave this subject, which wins over the role claim of their token. */
export async function tenantUserRole(sql: Sql, subject: string): Promise<TenantRole | undefined> {
  const [row] = await sql<{ role: TenantRole }[]>`
    select role from tenant_users where tenant_id = app_tenant() and subject = ${subject}`;
  return row?.role;
}

export async function listTenantUsers(sql: Sql): Promise<TenantUser[]> {
  return await sql<TenantUser[]>`select ${columns(sql)} from tenant_users order by subject`;
}

/** Undefined when the subject is already one of the tenant's users. */
export async function addTenantUser(
  sql: Sql,
  user: { subject: string; email?: string | undefined; role: TenantRole },
): Promise<TenantUser | undefined> {
  const [row] = await sql<TenantUser[]>`
    insert into tenant_users (tenant_id, subject, email, role)
    values (app_tenant(), ${user.subject}, ${user.email ?? null}, ${user.role})
    on conflict do nothing
    returning ${columns(sql)}`;
  return row;
}

/** The user before and after, or undefined when the tenant has no such user. */
export async function changeTenantUserRole(
  sql: Sql,
  id: string,
  role: TenantRole,
): Promise<{ before: TenantRole; user: TenantUser } | undefined> {
  const [row] = await sql<(TenantUser & { before: TenantRole })[]>`
    with old as (select id, role from tenant_users where id = ${id} for update)
    update tenant_users u set role = ${role} from old where u.id = old.id
    returning u.id, u.subject, u.email, u.role, u.created_at, old.role as before`;
  if (!row) return undefined;
  const { before, ...user } = row;
  return { before, user };
}

export async function removeTenantUser(sql: Sql, id: string): Promise<TenantUser | undefined> {
  const [row] = await sql<TenantUser[]>`delete from tenant_users where id = ${id} returning ${columns(sql)}`;
  return row;
}
