import type { Sql } from "../db/client";
import { findTenant, findTenantByWidgetKey } from "../db/platform";
import type { Tenant } from "../domain/tenant";

interface Entry {
  tenant: Tenant | undefined;
  at: number;
}

/**
 * Tenants by id and by widget key, kept in memory for a few seconds: a chat turn must not pay a database
 * round trip to learn its tenant's settings. A change made through this instance is seen at once
 * (`forget`); one made through another instance within `ttlMs`.
 */
export class TenantDirectory {
  private readonly byId = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(id: string): Promise<Tenant | undefined> {
    return this.cached(this.byId, id, () => findTenant(this.sql, id));
  }

  async byWidgetKey(key: string): Promise<Tenant | undefined> {
    return this.cached(this.byKey, key, () => findTenantByWidgetKey(this.sql, key));
  }

  /** Drops what this instance knows of a tenant (after it changed here). */
  forget(tenant: Pick<Tenant, "id"> & Partial<Pick<Tenant, "widgetKey">>) {
    const known = this.byId.get(tenant.id)?.tenant;
    this.byId.delete(tenant.id);
    if (known) this.byKey.delete(known.widgetKey);
    if (tenant.widgetKey) this.byKey.delete(tenant.widgetKey);
  }

  private async cached(map: Map<string, Entry>, key: string, load: () => Promise<Tenant | undefined>) {
    const hit = map.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.tenant;
    const tenant = await load();
    if (map.size > 10_000) map.clear(); // unknown keys must not grow it without bound
    map.set(key, { tenant, at: this.now() });
    return tenant;
  }
}
