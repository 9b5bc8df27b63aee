import type { Sql } from "../db/client";
import { currentTenantId, DEFAULT_TENANT_ID, inTenant } from "../db/tenant-scope";
import { TenantSuspended, UnknownTenant } from "../domain/errors";
import type { Tenant, TenantSettings } from "../domain/tenant";
import type { TurnInput, TurnResult } from "../domain/turn";
import {
  ConversationEngine,
  type EngineDeps,
  type PreparedTurn,
  type TurnEngine,
} from "./conversation-engine";
import { loadKnowledgeBase } from "./knowledge";
import { runTrial, type TrialAnswer, type TrialRequest } from "./settings-trial";
import type { TenantDirectory } from "./tenant-directory";
import { tenantEngineSettings } from "./tenant-settings";

export type SharedEngineDeps = Omit<EngineDeps, "knowledge"> & { sql: Sql };

/**
 * The engine of each tenant: its settings over the deployment's, and its own knowledge. A turn runs with
 * the engine of the tenant of its unit of work (db/tenant-scope.ts); a turn outside any is the default
 * tenant's, as every turn was before tenants. An engine is rebuilt when its tenant's settings or
 * knowledge changed (`updatedAt`), and only then.
 */
export class TenantEngines implements TurnEngine {
  private readonly engines = new Map<string, { stamp: number; engine: Promise<ConversationEngine> }>();

  constructor(
    private readonly deps: SharedEngineDeps,
    private readonly tenants: TenantDirectory,
  ) {}

  prepare(input: TurnInput): Promise<PreparedTurn> {
    return this.inScope((engine) => engine.prepare(input));
  }

  run(turn: PreparedTurn, onDelta?: (text: string) => void | Promise<void>): Promise<TurnResult> {
    return this.inScope((engine) => engine.run(turn, onDelta));
  }

  respond(input: TurnInput): Promise<TurnResult> {
    return this.inScope((engine) => engine.respond(input));
  }

  /** The engine of a tenant, as of its current settings and knowledge. */
  async engineFor(tenant: Tenant): Promise<ConversationEngine> {
    const stamp = new Date(tenant.updatedAt).getTime();
    const known = this.engines.get(tenant.id);
    if (known && known.stamp === stamp) return known.engine;
    const engine = inTenant(tenant.id, () => this.build(tenant));
    this.engines.set(tenant.id, { stamp, engine });
    engine.catch(() => this.engines.delete(tenant.id));
    return engine;
  }

  /**
   * A "try it" turn of a tenant on draft settings (its saved ones with a patch over them), with its
   * current knowledge: an engine of its own for this one call, so the tenant's engine is left as it is.
   */
  trial(tenant: Tenant, draft: TenantSettings, request: TrialRequest): Promise<TrialAnswer> {
    return inTenant(tenant.id, async () => {
      const knowledge = await loadKnowledgeBase(this.deps.sql);
      const settings = tenantEngineSettings(this.deps.settings, draft);
      return runTrial({ ...this.deps, settings, knowledge }, request);
    });
  }

  private async build(tenant: Tenant): Promise<ConversationEngine> {
    const knowledge = await loadKnowledgeBase(this.deps.sql);
    const settings = tenantEngineSettings(this.deps.settings, tenant.settings);
    return new ConversationEngine({ ...this.deps, settings, knowledge });
  }

  private async inScope<T>(work: (engine: ConversationEngine) => Promise<T>): Promise<T> {
    const id = currentTenantId();
    if (!id) return inTenant(DEFAULT_TENANT_ID, () => this.inScope(work));
    const tenant = await this.tenants.get(id);
    if (!tenant) throw new UnknownTenant();
    if (tenant.status !== "active") throw new TenantSuspended();
    return work(await this.engineFor(tenant));
  }
}
