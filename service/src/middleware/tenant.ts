import type { MiddlewareHandler } from "hono";
import { DEFAULT_TENANT_ID, inTenant } from "../db/tenant-scope";
import { TenantSuspended, UnknownTenant } from "../domain/errors";
import type { Identity } from "../domain/identity";
import type { Tenant } from "../domain/tenant";
import type { AppEnv } from "../http/app-env";
import type { Authenticator } from "../http/auth";
import { AppError } from "../http/errors";
import { corsAllows, originNotAllowed, TENANT_HEADER } from "./tenant-cors";

/** Tenants by id and by widget key (engine/tenant-directory.ts). */
export interface TenantLookup {
  get(id: string): Promise<Tenant | undefined>;
  byWidgetKey(key: string): Promise<Tenant | undefined>;
}

export interface TenantScopeOptions {
  tenants: TenantLookup;
  auth: Pick<Authenticator, "identify">;
  /** The deployment's CORS_ORIGINS: the allowed origins of a tenant without its own. */
  corsOrigins: readonly string[];
}

// Anything else cannot be a key or an id: refused without a database round trip.
const WIDGET_KEY = /^[A-Za-z0-9_-]{1,100}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant the caller's credentials bind it to: a user JWT's tenant claim, a guest's session token's
 * `ten`; a guest token from before tenants belongs to the default tenant. A user JWT without a tenant
 * claim binds to none (a deployment-wide user: the widget key or the default tenant decides).
 */
function claimedTenant(identity: Identity | undefined): string | undefined {
  if (identity?.tenantId) return identity.tenantId.toLowerCase();
  return identity?.kind === "anonymous" ? DEFAULT_TENANT_ID : undefined;
}

async function byKey(tenants: TenantLookup, widgetKey: string): Promise<Tenant> {
  const tenant = WIDGET_KEY.test(widgetKey) ? await tenants.byWidgetKey(widgetKey) : undefined;
  if (!tenant) throw new UnknownTenant();
  return tenant;
}

async function byId(tenants: TenantLookup, id: string): Promise<Tenant> {
  const tenant = UUID.test(id) ? await tenants.get(id) : undefined;
  if (!tenant) throw new UnknownTenant();
  return tenant;
}

/** The key's tenant must be the credentials' own (if they name one). */
function sameTenant(keyTenant: Tenant, claimed: string | undefined): Tenant {
  if (claimed && claimed !== keyTenant.id) {
    throw new AppError(
      403,
      "tenant_mismatch",
      "These credentials belong to another business than this widget's",
    );
  }
  return keyTenant;
}

/**
 * Which tenant a web request is for: the widget key (`X-Switchboard-Tenant`), else the credentials'
 * tenant, else the default tenant, as every caller before tenants. Credentials of another tenant than
 * the key's are refused (403 `tenant_mismatch`), a page on an origin the tenant does not allow too (403
 * `origin_not_allowed`), a suspended tenant with 403 `tenant_suspended`. The rest of the request (a
 * streamed reply included) runs in that tenant's scope, so the database shows it that tenant's rows only.
 *
 * It also identifies the caller (instead of the general /api/* step), so that a refusal of the
 * credentials (401) carries the CORS headers of the key's tenant: the widget must read a 401 to start a
 * new session.
 */
export function tenantScope(opts: TenantScopeOptions): MiddlewareHandler<AppEnv> {
  const originsOf = (tenant: Tenant | undefined) =>
    tenant?.settings.widget?.allowedOrigins ?? opts.corsOrigins;
  return async function tenantScopeMiddleware(c, next) {
    const key = c.req.header(TENANT_HEADER);
    let keyTenant: Tenant | undefined;
    let tenant: Tenant;
    try {
      keyTenant = key === undefined ? undefined : await byKey(opts.tenants, key);
      const identity = await opts.auth.identify(c.req.header("authorization"));
      c.set("identity", identity);
      const claimed = claimedTenant(identity);
      tenant = keyTenant
        ? sameTenant(keyTenant, claimed)
        : await byId(opts.tenants, claimed ?? DEFAULT_TENANT_ID);
    } catch (error) {
      // Refused before the tenant is settled: readable by the key's tenant's pages, else the default's.
      const readers = keyTenant ?? (await opts.tenants.get(DEFAULT_TENANT_ID).catch(() => undefined));
      corsAllows(c, originsOf(readers));
      throw error;
    }
    if (!corsAllows(c, originsOf(tenant))) throw originNotAllowed(c);
    if (tenant.status !== "active") throw new TenantSuspended();
    c.set("tenant", tenant);
    return inTenant(tenant.id, () => next());
  };
}
