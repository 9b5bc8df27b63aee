import { type CallerContext, callerContext } from "../../db/calls";
import type { Sql } from "../../db/client";
import { inTenant } from "../../db/tenant-scope";
import { toE164 } from "../../domain/phone";
import type { Logger } from "../../logger";
import type { InboundRequest } from "../pipeline/channel";
import { telnyxPublicKey, verifyTelnyxSignature } from "../pipeline/telnyx-signature";
import type { VoiceNumbers, VoiceRoute } from "./numbers";
import { VOICE_TOKEN, voiceTokenMatches } from "./url-token";
import { type DynamicVariables, dynamicVariables, type TenantVoiceBlock } from "./variables";

export interface VoiceGreeterDeps {
  sql: Sql;
  log: Logger;
  numbers: VoiceNumbers;
  /** The tenant's block (its settings and name read through the tenant directory); undefined: unknown. */
  tenantBlock(tenantId: string): Promise<TenantVoiceBlock | undefined>;
  /** How long a number's route and block stay in memory (default 60 s). */
  cacheSeconds?: number;
  /** The bound of the caller's one statement (default 400 ms). */
  callerTimeoutMs?: number;
  /** The bound of everything else on a cold cache (default 600 ms): the answer never waits longer. */
  routeTimeoutMs?: number;
  now?(): Date;
}

export type GreeterAnswer =
  | { status: "ok"; variables: DynamicVariables }
  /** Neither a valid signature nor the connection's URL token: 401, nothing of the tenant told. */
  | { status: "rejected" };

interface Entry {
  at: number;
  route: VoiceRoute;
  block: TenantVoiceBlock | undefined;
}

class TimedOut extends Error {}

const MAX_CACHED = 10_000;

/** `work`, or `TimedOut` after `ms`; the work goes on (a cold cache is still filled for the next call). */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Telnyx's `assistant.initialization` (the assistant's dynamic-variables webhook): the tenant's block and
 * what it knows of the caller, within Telnyx's 1 s. The agent number finds the tenant through a cache of
 * routes and blocks (a cold one is bounded too); the caller costs ONE statement, bounded well under the
 * second. No model is asked. An unknown number, a suspended tenant, a slow or failing database: safe
 * defaults, never an error — the call goes on either way, and an error would only make Telnyx wait.
 */
export class VoiceGreeter {
  private readonly cache = new Map<string, Entry>();

  constructor(private readonly deps: VoiceGreeterDeps) {}

  async answer(request: InboundRequest, token: string | undefined): Promise<GreeterAnswer> {
    const now = this.deps.now?.() ?? new Date();
    const safe: GreeterAnswer = { status: "ok", variables: dynamicVariables(undefined, undefined, now) };
    const target = readTargets(request.body);
    if (!target) return safe;
    let entry: Entry;
    try {
      entry = await within(this.deps.routeTimeoutMs ?? 600, this.entryOf(target.agent));
    } catch (error) {
      this.failed("route", error);
      return safe;
    }
    const { route, block } = entry;
    if (route.kind !== "found" || !block) return safe;
    if (!this.verified(request, token, route.connection)) {
      this.deps.numbers.refused(route.connection.connectionId);
      this.cache.delete(target.agent);
      return { status: "rejected" };
    }
    const facts = target.caller ? await this.callerOf(route.tenantId, target.caller) : undefined;
    // A caller id can be spoofed: what they said last time is told only about a number Telnyx verified
    // (STIR/SHAKEN full attestation); the name and open escalations still let the assistant greet them.
    const caller = facts && !target.verified ? { ...facts, lastSummary: null } : facts;
    return { status: "ok", variables: dynamicVariables(block, caller, now, target.verified) };
  }

  /**
   * A signature when Telnyx sent one (then it alone decides), else the connection's URL token, read with
   * its other credentials (cached with them: no secret-store round trip of its own).
   */
  private verified(
    request: InboundRequest,
    token: string | undefined,
    c: { credentials: Readonly<Record<string, string>> },
  ) {
    if (request.header("telnyx-signature-ed25519") !== undefined)
      return verifyTelnyxSignature(telnyxPublicKey(c.credentials.publicKey), request);
    return voiceTokenMatches(c.credentials[VOICE_TOKEN], token);
  }

  private async callerOf(tenantId: string, phone: string): Promise<CallerContext | undefined> {
    try {
      const { sql } = this.deps;
      return await within(
        this.deps.callerTimeoutMs ?? 400,
        inTenant(tenantId, () => callerContext(sql, phone)),
      );
    } catch (error) {
      this.failed("caller", error);
      return undefined;
    }
  }

  private async entryOf(agent: string): Promise<Entry> {
    const cached = this.cache.get(agent);
    if (cached && Date.now() - cached.at < (this.deps.cacheSeconds ?? 60) * 1000) return cached;
    const route = await this.deps.numbers.byNumber("telnyx", agent);
    const block = route.kind === "found" ? await this.deps.tenantBlock(route.tenantId) : undefined;
    const entry = { at: Date.now(), route, block };
    // Bounded: requests naming made-up numbers must not grow it without end.
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(agent, entry);
    return entry;
  }

  private failed(what: "route" | "caller", error: unknown) {
    this.deps.log.warn(
      {
        event: "voice.variables_degraded",
        part: what,
        error: error instanceof TimedOut ? error.message : error,
      },
      "dynamic variables answered with defaults",
    );
  }
}

/** The agent's number (the tenant's) and the caller's, from an `assistant.initialization` body. */
function readTargets(
  body: Uint8Array,
): { agent: string; caller: string | undefined; verified: boolean } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return undefined;
  }
  const payload = (json as { data?: { payload?: Record<string, unknown> } } | null)?.data?.payload;
  const agentRaw = payload?.telnyx_agent_target;
  const callerRaw = payload?.telnyx_end_user_target;
  const agent = typeof agentRaw === "string" ? toE164(agentRaw) : undefined;
  if (!agent) return undefined;
  return {
    agent,
    caller: typeof callerRaw === "string" ? toE164(callerRaw) : undefined,
    verified: payload?.telnyx_end_user_target_verified === true,
  };
}
