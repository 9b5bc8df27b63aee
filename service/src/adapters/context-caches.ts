import { createHash } from "node:crypto";
import type { Sql } from "../db/client";
import { findModelCache, forgetModelCache, type ModelCacheRow, saveModelCache } from "../db/model-caches";
import { currentTenantId } from "../db/tenant-scope";

/** What a cached content holds: the model it is for, the system instruction, the grounding and tools. */
export interface CacheContents {
  model: string;
  systemInstruction: string;
  context: string;
  tools: unknown;
}

/** Keys computed recently, by model and tools, with the texts they were computed from. */
interface ComputedKey {
  systemInstruction: string;
  context: string;
  key: string;
}

/**
 * The memo of a name is the current tenant's, like its row (model_caches is tenant-owned, keyed by tenant
 * and key): a name remembered for one tenant never saves another tenant its own row.
 */
const memoryKey = (key: string) => `${currentTenantId() ?? ""}\u0000${key}`;

/** More (model, tools) pairs than a deployment uses: past this, the memo starts over rather than grow. */
const MAX_COMPUTED_KEYS = 32;

/**
 * The names of the model's cached contents (e.g. Gemini `cachedContents/…`), by a key that hashes what
 * they hold. Every instance shares them through the database: the first to need a cache creates it, the
 * others find it there. A name this instance already knows, and that is still valid for `marginMs`, is
 * used from memory without a database round trip; only a miss reads the table.
 */
export class ContextCacheRegistry {
  private readonly known = new Map<string, { name: string; expiresAt: Date }>();
  private readonly computed = new Map<string, ComputedKey>();

  constructor(
    private readonly sql: Sql,
    private readonly marginMs: number,
  ) {}

  /**
   * The key of these contents. Hashing the knowledge base on every turn would cost more than the turn's
   * own work, so the key is computed once per system instruction and grounding text (and model, tools):
   * the same strings come back turn after turn, and comparing the same string is immediate.
   */
  key(contents: CacheContents): string {
    const tools = JSON.stringify(contents.tools ?? null);
    // Per system instruction too: channels add their own (SMS), and turns of several channels interleave.
    const memo = `${contents.model}\u0000${tools}\u0000${contents.systemInstruction}`;
    const hit = this.computed.get(memo);
    if (hit && hit.systemInstruction === contents.systemInstruction && hit.context === contents.context) {
      return hit.key;
    }
    // The same hash as ever: instances of the previous release share the table during a rollout.
    const key = createHash("sha256")
      .update(
        `[${JSON.stringify(contents.model)},${JSON.stringify(contents.systemInstruction)},${JSON.stringify(contents.context)},${tools}]`,
      )
      .digest("hex");
    if (this.computed.size >= MAX_COMPUTED_KEYS) this.computed.clear();
    this.computed.set(memo, {
      systemInstruction: contents.systemInstruction,
      context: contents.context,
      key,
    });
    return key;
  }

  /** The name of a cache valid for at least `marginMs`, from memory, else from the table. */
  async find(key: string): Promise<string | undefined> {
    const known = this.known.get(memoryKey(key));
    if (known && known.expiresAt.getTime() - this.marginMs > Date.now()) return known.name;
    const row = await findModelCache(this.sql, key, this.marginMs);
    if (!row) {
      this.known.delete(memoryKey(key));
      return undefined;
    }
    this.known.set(memoryKey(key), { name: row.name, expiresAt: row.expiresAt });
    return row.name;
  }

  /** A cache just created, for this instance and every other. */
  async save(row: ModelCacheRow): Promise<void> {
    this.known.set(memoryKey(row.key), { name: row.name, expiresAt: row.expiresAt });
    await saveModelCache(this.sql, row);
  }

  /** A cache that vanished before its expiry: no instance should use it again. */
  async forget(key: string): Promise<void> {
    this.known.delete(memoryKey(key));
    await forgetModelCache(this.sql, key);
  }
}
