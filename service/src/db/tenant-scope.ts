import { AsyncLocalStorage } from "node:async_hooks";
import type postgres from "postgres";
import { isDatabaseUnavailable } from "./connection-errors";
import type { Sql } from "./sql";

/** The tenant every deployment has (migration 00007): it owns the rows of the single-business setup. */
export const DEFAULT_TENANT_ID = "00000000-0000-4000-8000-000000000001";

/** The role requests run as: owns nothing, no BYPASSRLS (migration 00007). */
export const RUNTIME_ROLE = "switchboard_app";
/** The role of the named cross-tenant functions (db/platform.ts). */
export const PLATFORM_ROLE = "switchboard_platform";

/** Whose data a unit of work may touch. */
export type DataScope =
  | { readonly kind: "tenant"; readonly tenantId: string }
  | { readonly kind: "platform" };

const scopes = new AsyncLocalStorage<DataScope>();

/**
 * Runs `work` with every statement it sends scoped to one tenant: the database's row-level security then
 * shows and accepts that tenant's rows only, whatever the statements' own filters say.
 */
export function inTenant<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
  return runIn({ kind: "tenant", tenantId }, work);
}

/**
 * Cross-tenant work (platform listings, the retention purge, routing inbound traffic to its tenant). Only
 * db/platform.ts and the retention purge call this; the dependency rules keep it that way.
 */
export function asPlatform<T>(work: () => Promise<T>): Promise<T> {
  return runIn({ kind: "platform" }, work);
}

/**
 * Awaits `work`'s result inside the scope. A statement is scoped when it is awaited, so one handed back
 * unawaited (`inTenant(id, () => sql`...`)`) would otherwise run after the scope ended: unscoped, as the
 * login (test/service/tenant-forgotten-filter.test.ts).
 */
function runIn<T>(scope: DataScope, work: () => Promise<T>): Promise<T> {
  return scopes.run(scope, async () => await work());
}

/** The tenant of the current unit of work, if any. */
export function currentTenantId(): string | undefined {
  const scope = scopes.getStore();
  return scope?.kind === "tenant" ? scope.tenantId : undefined;
}

type Query = postgres.PendingQuery<postgres.Row[]>;

/** `set_config(..., true)`: local to the transaction, so a pooled connection never keeps it. */
function scopeStatement(sql: postgres.Sql | postgres.TransactionSql, scope: DataScope) {
  return scope.kind === "tenant"
    ? sql`select set_config('role', ${RUNTIME_ROLE}, true), set_config('app.tenant_id', ${scope.tenantId}, true)`
    : sql`select set_config('role', ${PLATFORM_ROLE}, true), set_config('app.tenant_id', '', true)`;
}

/**
 * One statement in its scope, in one round trip: `begin`, the scope, the statement and `commit` are
 * pipelined on one reserved connection. A failed statement aborts the transaction, and `commit` then
 * rolls it back.
 */
async function runScoped(
  base: postgres.Sql,
  scope: DataScope,
  strings: TemplateStringsArray,
  args: unknown[],
): Promise<unknown> {
  const connection = await base.reserve();
  let lost = false;
  try {
    const sent = [
      connection`begin`,
      scopeStatement(connection, scope),
      connection(strings, ...(args as postgres.ParameterOrFragment<never>[])),
      connection`commit`,
    ].map((q) => q.execute());
    const settled = await Promise.allSettled(sent);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    lost = failed !== undefined && isDatabaseUnavailable(failed.reason);
    if (failed) throw failed.reason;
    return (settled[2] as PromiseFulfilledResult<unknown>).value;
  } finally {
    // A connection that died while reserved is already back among the pool's closed ones, to be
    // reconnected; releasing it would also list it as open, and the next statement on it would hang.
    if (!lost) connection.release();
  }
}

/**
 * A statement that runs in the scope current when it is awaited. It is still a postgres.js query (its
 * prototype), so it can be nested in another statement as a fragment; only awaiting it is redirected.
 */
function scopedQuery(
  base: postgres.Sql,
  query: Query,
  strings: TemplateStringsArray,
  args: unknown[],
): Query {
  let running: Promise<unknown> | undefined;
  const run = () => {
    const scope = scopes.getStore();
    running ??= scope ? runScoped(base, scope, strings, args) : (query as Promise<unknown>);
    return running;
  };
  const wrapped = Object.create(query) as Query;
  Object.defineProperties(wrapped, {
    // biome-ignore lint/suspicious/noThenProperty: it is a query, awaited like postgres.js's own
    then: { value: (ok?: (v: unknown) => unknown, ko?: (e: unknown) => unknown) => run().then(ok, ko) },
    catch: { value: (ko?: (e: unknown) => unknown) => run().catch(ko) },
    finally: { value: (f?: () => void) => run().finally(f) },
    execute: {
      value: () => {
        run();
        return wrapped;
      },
    },
  });
  return wrapped;
}

/**
 * The service's database handle: every statement runs in the scope of the unit of work that awaits it
 * (`inTenant`, `asPlatform`) as the runtime role, and outside one as the connection's own user (the
 * migrations, deployment-wide tables). `begin` sets the scope as the transaction's first statement.
 */
export function scopedSql(base: Sql): Sql {
  const pg = base as unknown as postgres.Sql;
  const tag = (first: unknown, ...rest: unknown[]) => {
    const isTemplate = Array.isArray(first) && "raw" in (first as object);
    const made = (pg as unknown as (...a: unknown[]) => unknown)(first, ...rest);
    return isTemplate ? scopedQuery(pg, made as Query, first as unknown as TemplateStringsArray, rest) : made;
  };
  const begin = (...a: unknown[]) => {
    const work = a.at(-1) as (tx: postgres.TransactionSql) => unknown;
    const options = a.length > 1 ? (a[0] as string) : "";
    const scope = scopes.getStore();
    if (!scope) return pg.begin(options, work as never);
    return pg.begin(options, async (tx) => {
      await scopeStatement(tx, scope);
      return work(tx);
    });
  };
  return new Proxy(tag, {
    get: (_target, prop) => (prop === "begin" ? begin : Reflect.get(pg, prop)),
    apply: (_target, _this, args: unknown[]) => tag(args[0], ...args.slice(1)),
  }) as unknown as Sql;
}
