import type { Sql } from "./client";

/**
 * Sessions a hosted model keeps per conversation (GPT-trainer), stored in `app_state` so every instance
 * continues the same one. Retention and erasure delete them with their Switchboard session.
 */
export const PROVIDER_SESSION_PREFIX = "gpt-trainer.session.";
export const providerSessionKey = (conversationKey: string) => `${PROVIDER_SESSION_PREFIX}${conversationKey}`;

export async function findProviderSession(sql: Sql, conversationKey: string): Promise<string | undefined> {
  const [row] = await sql<{ value: string }[]>`
    select value from app_state where key = ${providerSessionKey(conversationKey)}`;
  return row?.value;
}

/** Stores a new session; when another instance stored one first, that one wins and is returned. */
export async function saveProviderSession(
  sql: Sql,
  conversationKey: string,
  session: string,
): Promise<string> {
  const [row] = await sql<{ value: string }[]>`
    insert into app_state (key, value) values (${providerSessionKey(conversationKey)}, ${session})
    on conflict (tenant_id, key) do update set updated_at = now()
    returning value`;
  return row?.value ?? session;
}
