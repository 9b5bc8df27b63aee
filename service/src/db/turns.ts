import type { Sql } from "./client";
import { chargeTail, type LedgerEntry, type UsageCharge } from "./usage";

/** One answered turn: the customer's message and the reply, in the session they continue or start. */
export interface SavedTurn {
  sessionId: string;
  identityId: string;
  channel: string;
  externalRef: string | null;
  userText: string;
  userTokens: number;
  reply: string;
  replyTokens: number;
  model: string;
  /** The knowledge documents the reply came from; whether it was a confident answer (null: unknown). */
  sources?: string[] | undefined;
  confident?: boolean | null | undefined;
}

/**
 * The session (created, or its turn counted), both messages, the usage ledger entry and the budget
 * counters, in one statement (one round trip): a turn is stored and charged entirely or not at all. The
 * messages' reference to a new session is checked at the end of the statement, when the session exists.
 */
export async function saveTurn(
  sql: Sql,
  turn: SavedTurn,
  entry: LedgerEntry,
  charge: UsageCharge,
): Promise<void> {
  await sql`
    with session as (
      insert into sessions (id, identity_id, channel, external_ref, turns)
      values (${turn.sessionId}, ${turn.identityId}, ${turn.channel}, ${turn.externalRef}, 1)
      on conflict (id) do update set turns = sessions.turns + 1, updated_at = now()
      returning id),
    messages as (
      insert into messages (session_id, role, content, tokens, model, sources, confident)
      values (${turn.sessionId}, 'user', ${turn.userText}, ${turn.userTokens}, null, '{}', null),
             (${turn.sessionId}, 'assistant', ${turn.reply}, ${turn.replyTokens}, ${turn.model},
              ${turn.sources ?? []}::text[], ${turn.confident ?? null})),
    ${chargeTail(sql, entry, charge, "session")}`;
}

/** A session's rolling summary, now covering the messages up to `through` (a message id). */
export interface SavedSummary {
  sessionId: string;
  text: string;
  through: string;
}

/**
 * The summary (unless a newer one was saved meanwhile), and the ledger entry and charge of the call that
 * wrote it, in one statement: the call is charged even when its summary lost that race.
 */
export async function saveSummary(
  sql: Sql,
  summary: SavedSummary,
  entry: LedgerEntry,
  charge: UsageCharge,
): Promise<void> {
  await sql`
    with session as (
      update sessions set summary = ${summary.text}, summarized_through = ${summary.through}
      where id = ${summary.sessionId} and summarized_through < ${summary.through}
      returning id),
    ${chargeTail(sql, entry, charge, "session")}`;
}

/** The session a message is stored in (created when new), as `saveTurn` keys it. */
export interface TurnSession {
  sessionId: string;
  identityId: string;
  channel: string;
  externalRef: string | null;
}

/**
 * Messages stored without a model call (a handoff: the customer's message, Switchboard's own notice), in
 * one statement: the session created (its turn counted when the customer wrote), nothing charged.
 */
export async function saveUnbilledMessages(
  sql: Sql,
  session: TurnSession,
  messages: { role: "user" | "assistant"; content: string; tokens: number }[],
): Promise<void> {
  if (messages.length === 0) return;
  const turns = messages.some((m) => m.role === "user") ? 1 : 0;
  const rows = messages.map((m) => ({
    session_id: session.sessionId,
    role: m.role,
    content: m.content,
    tokens: m.tokens,
  }));
  await sql`
    with session as (
      insert into sessions (id, identity_id, channel, external_ref, turns)
      values (${session.sessionId}, ${session.identityId}, ${session.channel}, ${session.externalRef}, ${turns})
      on conflict (id) do update set turns = sessions.turns + ${turns}, updated_at = now()
      returning id)
    insert into messages ${sql(rows, "session_id", "role", "content", "tokens")}`;
}
