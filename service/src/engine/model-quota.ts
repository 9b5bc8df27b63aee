import type { LeaseQuota } from "../db/model-quota";
import { currentTenantId, DEFAULT_TENANT_ID } from "../db/tenant-scope";
import { type ModelLimiter, modelCapacity } from "./model-limiter";

/**
 * Slice sizes, as fractions of the per-minute limits. An instance starts a window with a small slice,
 * doubles it each time it spends one within the same window (demand holds), and halves it at each new
 * window (demand may have gone): a busy instance takes a few large leases a minute, an idle one strands at
 * most a small slice. The cap keeps one instance from taking much of a window that 20 instances share.
 */
export const SLICE = { min: 1 / 100, max: 1 / 20 } as const;

export interface DeploymentLimiterOptions {
  /** The deployment's limits (MODEL_REQUESTS_PER_MINUTE, MODEL_TOKENS_PER_MINUTE), shared by every instance. */
  requestsPerMinute: number;
  tokensPerMinute: number;
  queueTimeoutMs: number;
  /**
   * The fraction of the quota one tenant may lease per minute while other tenants ask too
   * (MODEL_QUOTA_TENANT_SHARE, enforced by the lease statement); 1 or unset: no cap.
   */
  tenantShare?: number | undefined;
  /** Takes a slice of the current window for this instance: db/model-quota.ts (a fake in unit tests). */
  lease: LeaseQuota;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What this instance holds of one window. */
interface Lease {
  windowMs: number;
  /** Local clock; taken a little early (the database's window may end a few milliseconds later). */
  endsAt: number;
  requests: number;
  tokens: number;
  /** Tokens leased in this window so far: refunds never lift the lease above it. */
  grantedTokens: number;
}

const NO_LEASE: Lease = { windowMs: 0, endsAt: 0, requests: 0, tokens: 0, grantedTokens: 0 };

/**
 * The deployment's model quota as this instance holds it: one lease per tenant, because each tenant's
 * share of a window is its own (db/model-quota.ts caps it while other tenants ask too). A call is the
 * tenant's of the unit of work it runs in (the turn's scope); outside one, the default tenant's.
 */
export class DeploymentModelLimiter implements ModelLimiter {
  private readonly tenants = new Map<string, TenantQuotaLease>();

  constructor(private readonly opts: DeploymentLimiterOptions) {}

  acquire(estimatedTokens: number): Promise<void> {
    return this.current().acquire(estimatedTokens);
  }

  settle(estimatedTokens: number, actualTokens: number) {
    this.current().settle(estimatedTokens, actualTokens);
  }

  private current(): TenantQuotaLease {
    const tenant = currentTenantId() ?? DEFAULT_TENANT_ID;
    let held = this.tenants.get(tenant);
    if (!held) {
      // An idle tenant's lease has ended: forget it rather than keep every tenant ever served.
      if (this.tenants.size >= 1000)
        for (const [id, t] of this.tenants) if (t.idle()) this.tenants.delete(id);
      const { tenantShare, lease } = this.opts;
      held = new TenantQuotaLease({ ...this.opts, lease: (ask) => lease({ ...ask, tenant, tenantShare }) });
      this.tenants.set(tenant, held);
    }
    return held;
  }
}

/**
 * The model quota of the whole deployment, not of this instance: fixed one-minute windows in PostgreSQL
 * from which each instance leases slices (one statement per slice, not per call) and spends them locally.
 * When the window is spent, a call waits for the next one if that is within `queueTimeoutMs`, else is
 * refused (ModelCapacity, retry after the window's end). Unspent lease is lost at the window's end:
 * returning it would cost a statement when the instance may already be idle (and CPU-throttled), and the
 * next window starts full anyway.
 */
class TenantQuotaLease implements ModelLimiter {
  private lease: Lease = NO_LEASE;
  private fraction: number = SLICE.min;
  /**
   * Until then (local clock) the database said the window is spent for calls needing `minTokens` more
   * tokens than this instance holds: no point asking again for as much. A smaller call may still fit.
   */
  private spent = { until: 0, minTokens: 0 };
  private leasing: Promise<void> | undefined;

  constructor(private readonly opts: DeploymentLimiterOptions) {}

  private now() {
    return this.opts.now?.() ?? Date.now();
  }

  private sleep(ms: number) {
    return this.opts.sleep?.(ms) ?? new Promise<void>((resolve) => setTimeout(resolve, ms));
  }

  private need(estimatedTokens: number) {
    return Math.ceil(Math.min(Math.max(0, estimatedTokens), this.opts.tokensPerMinute));
  }

  async acquire(estimatedTokens: number): Promise<void> {
    const need = this.need(estimatedTokens);
    const deadline = this.now() + this.opts.queueTimeoutMs;
    for (;;) {
      if (this.tryTake(need)) return;
      const now = this.now();
      const { until, minTokens } = this.spent;
      if (now < until && this.missingTokens(need) >= minTokens) {
        if (until > deadline) throw modelCapacity(until - now);
        await this.sleep(until - now);
        continue;
      }
      // Calls arriving together share one lease statement; each then tries again.
      this.leasing ??= this.takeLease(need).finally(() => {
        this.leasing = undefined;
      });
      await this.leasing;
    }
  }

  /**
   * After the call: correct the lease's tokens by what the call really used. Once the window is over
   * the correction is dropped; a call that straddled into a newly leased window corrects that one, never
   * above what this instance leased of it.
   */
  settle(estimatedTokens: number, actualTokens: number) {
    if (this.now() >= this.lease.endsAt) return;
    const tokens = this.lease.tokens + this.need(estimatedTokens) - actualTokens;
    this.lease.tokens = Math.min(this.lease.grantedTokens, tokens);
  }

  /** Holds nothing that could still be spent, and waits for no lease. */
  idle(): boolean {
    return this.leasing === undefined && this.now() >= this.lease.endsAt && this.now() >= this.spent.until;
  }

  private tryTake(need: number): boolean {
    const lease = this.lease;
    if (this.now() >= lease.endsAt || lease.requests < 1 || lease.tokens < need) return false;
    lease.requests -= 1;
    lease.tokens -= need;
    return true;
  }

  /**
   * Tokens a call of `need` lacks in the current lease. A token debt (calls that used more than their
   * estimate) adds to it: it is paid from the next grant of the same window.
   */
  private missingTokens(need: number) {
    const held = this.now() < this.lease.endsAt ? this.lease.tokens : 0;
    return Math.max(0, need - held);
  }

  private async takeLease(need: number) {
    const before = this.now();
    // Ran out within the window: demand holds. A new window: demand may have gone.
    const current = before < this.lease.endsAt;
    this.fraction = current ? Math.min(SLICE.max, this.fraction * 2) : Math.max(SLICE.min, this.fraction / 2);
    const minTokens = this.missingTokens(need);
    const { requestsPerMinute, tokensPerMinute } = this.opts;
    const grant = await this.opts.lease({
      requests: Math.max(1, Math.ceil(requestsPerMinute * this.fraction)),
      tokens: Math.max(minTokens, Math.ceil(tokensPerMinute * this.fraction)),
      minTokens,
      requestsPerMinute,
      tokensPerMinute,
    });
    const after = this.now();
    if (grant.requests < 1) {
      // `after` is no earlier than the database's clock when it answered: by then the window is over.
      this.spent = { until: after + grant.msLeft, minTokens };
      return;
    }
    const same = grant.windowMs === this.lease.windowMs;
    const base = same ? this.lease : { ...NO_LEASE, windowMs: grant.windowMs };
    this.lease = {
      windowMs: grant.windowMs,
      // `before` is no later than the database's clock when it answered: the lease ends in time.
      endsAt: before + grant.msLeft,
      requests: base.requests + grant.requests,
      tokens: base.tokens + grant.tokens,
      grantedTokens: base.grantedTokens + grant.tokens,
    };
  }
}
