import type { Sql } from "./client";
import { type LedgerEntry, recordUsage, type UsageCharge } from "./usage";

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
}

/**
 * The session (created, or its turn counted), both messages, the usage ledger entry and the budget
 * counters, in one transaction: a turn is stored and charged entirely or not at all.
 */
export async function saveTurn(
  sql: Sql,
  turn: SavedTurn,
  entry: LedgerEntry,
  charge: UsageCharge,
): Promise<void> {
  await sql.begin((tx) => [
    tx`
      insert into sessions (id, identity_id, channel, external_ref, turns)
      values (${turn.sessionId}, ${turn.identityId}, ${turn.channel}, ${turn.externalRef}, 1)
      on conflict (id) do update set turns = sessions.turns + 1, updated_at = now()`,
    tx`
      insert into messages (session_id, role, content, tokens, model)
      values (${turn.sessionId}, 'user', ${turn.userText}, ${turn.userTokens}, null),
             (${turn.sessionId}, 'assistant', ${turn.reply}, ${turn.replyTokens}, ${turn.model})`,
    ...recordUsage(tx, entry, charge),
  ]);
}
