import type { BudgetUsage } from "../domain/accounting";
import type { StoredMessage } from "../domain/turn";
import type { Sql } from "./client";
import { tenantLimitKey } from "./rate-limits";
import type { SessionRow } from "./sessions";

/**
 * A request counter a turn counts one hit in; it lets the turn through while the window's hits ≤ `limit`.
 * `key` is the tenant's own: the statement prefixes it with the current tenant (rate-limits.ts).
 */
export interface HitGate {
  kind: "hit";
  key: string;
  windowStart: Date;
  limit: number;
}

/**
 * A token counter that is only read (the guests' shared pool, the tenant's total): the turn goes on while
 * it is below `budget`. Counters are the current tenant's rows (row-level security).
 */
export interface CounterGate {
  kind: "counter";
  identityId: string;
  period: "day" | "month";
  /** The period's first day (UTC), `YYYY-MM-DD`. */
  periodStart: string;
  budget: number;
}

export type AdmissionGate = HitGate | CounterGate;

/** Everything the refusal phase of a turn reads and counts, in the order the turn is refused. */
export interface AdmissionQuery {
  /** Passed in this order; each is counted (or read) only when every one before it let the turn through. */
  gates: AdmissionGate[];
  /** Whose budget counters to read, for which UTC day and month. */
  identityId: string;
  day: string;
  month: string;
  /**
   * The session the turn continues: by id (read only when it is the identity's own, as someone else's
   * session must look missing), or by the external conversation it is tied to.
   */
  session: { id: string } | { channel: string; externalRef: string } | undefined;
}

export interface AdmissionRead {
  /** Each gate's count (hits, or tokens); null where an earlier gate refused the turn. */
  gates: (number | null)[];
  used: BudgetUsage;
  /** Read only when every gate let the turn through. */
  session: SessionRow | undefined;
  /** The session's messages not yet folded into its summary, oldest first. */
  history: StoredMessage[];
}

interface Row extends Partial<SessionRow> {
  gates: (number | null)[];
  used: BudgetUsage;
  history: StoredMessage[];
}

/**
 * The whole refusal phase of a turn in one statement, so one round trip: the rate-limit hits, the budget
 * counters, the session and its unsummarized history. The gates form a chain (each CTE reads the one
 * before it), so a hit is counted only when the turn got that far, exactly as separate statements would,
 * and every turn locks its counter rows in the same order (the order of `gates`): no deadlocks.
 */
export async function readAdmission(sql: Sql, query: AdmissionQuery): Promise<AdmissionRead> {
  const names = query.gates.map((_, i) => `g${i}`);
  const ctes = query.gates.map((gate, i) => gateCte(sql, gate, names[i] as string, names[i - 1]));
  const last = names.at(-1);
  // A refused turn reads no session and no history.
  const admitted = last ? sql`(select ok from ${sql(last)})` : sql`true`;
  const counts = names.length
    ? sql`json_build_array(${list(
        sql,
        names.map((n) => sql`(select n from ${sql(n)})`),
      )})`
    : sql`'[]'::json`;
  const sessionCte = sql`s as (${sessionQuery(sql, query)} and ${admitted})`;
  const [row] = await sql<Row[]>`
    with ${list(sql, [...ctes, sessionCte])}
    select
      ${counts} as gates,
      (select json_build_object(
         'day', coalesce(sum(tokens) filter (where period = 'day'), 0),
         'month', coalesce(sum(tokens) filter (where period = 'month'), 0))
       from usage_counters
       where identity_id = ${query.identityId}
         and ((period = 'day' and period_start = ${query.day}::date)
           or (period = 'month' and period_start = ${query.month}::date))) as used,
      (select coalesce(json_agg(json_build_object(
           'id', m.id::text,
           -- A person's answer (00019) is the assistant's side of the conversation to the model.
           'role', case when m.role = 'agent' then 'assistant' else m.role end,
           'content', m.content, 'tokens', m.tokens) order by m.id), '[]')
       from s join messages m on m.session_id = s.id and m.id > s.summarized_through) as history,
      s.*
    from (values (1)) as one left join s on true`;
  if (!row) throw new Error("the admission statement returned no row");
  const { gates, used, history, ...session } = row;
  return { gates, used, history, session: session.id ? (session as SessionRow) : undefined };
}

function gateCte(sql: Sql, gate: AdmissionGate, name: string, previous: string | undefined) {
  const passed = previous ? sql`where (select ok from ${sql(previous)})` : sql``;
  if (gate.kind === "hit") {
    return sql`${sql(name)} as (
      insert into rate_limit_windows (key, window_start, hits)
      select ${tenantLimitKey(gate.key)}::text, ${gate.windowStart}::timestamptz, 1 ${passed}
      on conflict (key, window_start) do update set hits = rate_limit_windows.hits + 1
      returning hits as n, hits <= ${gate.limit}::int as ok)`;
  }
  return sql`${sql(name)} as (
    select c.n, c.n < ${gate.budget}::numeric as ok
    from (select coalesce((
      select tokens from usage_counters
      where identity_id = ${gate.identityId} and period = ${gate.period}
        and period_start = ${gate.periodStart}::date), 0) as n) as c
    ${passed})`;
}

function sessionQuery(sql: Sql, query: AdmissionQuery) {
  const session = query.session;
  if (!session) return sql`select * from sessions where false`;
  if ("id" in session) {
    return sql`select * from sessions where id = ${session.id} and identity_id = ${query.identityId}`;
  }
  return sql`select * from sessions where channel = ${session.channel} and external_ref = ${session.externalRef}`;
}

type Fragment = ReturnType<typeof gateCte>;

/** Fragments separated by commas. */
function list(sql: Sql, fragments: Fragment[]): Fragment {
  return fragments.reduce((joined, next) => sql`${joined}, ${next}`);
}
