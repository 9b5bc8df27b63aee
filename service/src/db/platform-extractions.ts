import type { Sql } from "./client";
import { EXTRACTION_MAX_ATTEMPTS, STALE_PENDING } from "./extractions";
import { asPlatform } from "./tenant-scope";

export interface ExtractionCandidate {
  tenantId: string;
  kind: "call" | "session";
  subjectId: string;
}

/** Conversations quiet for longer than this are not read any more: a first deploy does not read history. */
const MAX_AGE = "7 days";
/** A call gets this long for its own after-call extraction before the sweep does it instead. */
const CALL_GRACE = "5 minutes";

/**
 * The idle-extraction sweep's work, across tenants (a named cross-tenant function, like db/platform.ts):
 * chat, SMS and Intercom sessions of active tenants quiet for the tenant's idle time (its setting
 * `extraction.idleMinutes`, else `defaultIdleMinutes`) with messages newer than their last extraction;
 * extractions that failed and may be retried once; calls whose after-call extraction never ran (a crash).
 * Oldest first, at most `limit`. Each is then extracted in its own tenant's scope, where the claim decides.
 */
export function extractionCandidates(
  sql: Sql,
  opts: { defaultIdleMinutes: number; limit: number },
): Promise<ExtractionCandidate[]> {
  return asPlatform(
    () => sql<ExtractionCandidate[]>`
      with idle as (
        select s.tenant_id, 'session'::text as kind, s.id::text as subject_id, s.updated_at as at
        from sessions s
        join tenants t on t.id = s.tenant_id and t.status = 'active'
        left join extractions e
          on e.tenant_id = s.tenant_id and e.subject_kind = 'session' and e.subject_id = s.id::text
        where s.channel in ('web', 'sms', 'intercom')
          and s.updated_at > now() - ${MAX_AGE}::interval
          and s.updated_at < now() - make_interval(mins => coalesce(
                (t.settings -> 'extraction' ->> 'idleMinutes')::int, ${opts.defaultIdleMinutes}::int))
          and (e.id is null or e.status <> 'pending')
          and coalesce(e.through_message_id, 0) < (select coalesce(max(m.id), 0) from messages m where m.session_id = s.id)
      ),
      retry as (
        -- Failed, or left pending by a process that died mid-run: due their retry.
        select e.tenant_id, e.subject_kind as kind, e.subject_id, e.updated_at as at
        from extractions e join tenants t on t.id = e.tenant_id and t.status = 'active'
        where e.attempts < ${EXTRACTION_MAX_ATTEMPTS}
          and (e.status = 'failed' or (e.status = 'pending' and e.updated_at < now() - ${STALE_PENDING}::interval))
      ),
      missed as (
        select c.tenant_id, 'call'::text as kind, c.id::text as subject_id, c.created_at as at
        from calls c join tenants t on t.id = c.tenant_id and t.status = 'active'
        where c.created_at < now() - ${CALL_GRACE}::interval and c.created_at > now() - ${MAX_AGE}::interval
          and not exists (select 1 from extractions e
                          where e.tenant_id = c.tenant_id and e.subject_kind = 'call' and e.subject_id = c.id::text)
      )
      select tenant_id::text as tenant_id, kind, subject_id
      from (select * from idle union all select * from retry union all select * from missed) x
      order by at
      limit ${opts.limit}`,
  );
}
