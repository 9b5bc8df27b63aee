import type { Database } from "../../service/src/db/client";
import { raw } from "./helpers";

/**
 * Many conversations in one tenant in a few statements (INSERT … SELECT generate_series through the
 * superuser connection), for the console's list, its tests and the benchmark:
 * - session i (1..n) on channel web/sms/email/intercom by i % 4; last activity `base + ⌊i/2⌋ minutes`, so
 *   pairs share a time and the id decides their order (what a keyset must get right);
 * - contacts `Person k` (k = i % 20) linked to every fifth session;
 * - one customer message each, `<marker> message i`, and "refund" in every seventh;
 * - an open escalation on every 50th session, a resolved one on every 50th + 25.
 */
export interface SeedOptions {
  n: number;
  marker: string;
  base?: string;
}

export const SEED_BASE = "2026-01-01T00:00:00Z";
export const SEED_CHANNELS = ["web", "sms", "email", "intercom"] as const;

export async function seedConversations(db: Database, tenantId: string, o: SeedOptions): Promise<void> {
  const sql = raw(db);
  const base = o.base ?? SEED_BASE;
  await sql`
    insert into contacts (tenant_id, name, email, created_at)
    select ${tenantId}, ${o.marker} || ' Person ' || k, ${o.marker} || '-person-' || k || '@example.com',
      ${base}::timestamptz + k * interval '1 second'
    from generate_series(0, 19) k`;
  await sql`
    insert into sessions (id, tenant_id, identity_id, channel, turns, created_at, updated_at, contact_id)
    select gen_random_uuid(), ${tenantId}, 'user:' || ${o.marker} || '-' || i,
      (array['web', 'sms', 'email', 'intercom'])[i % 4 + 1], 1,
      ${base}::timestamptz + (i / 2) * interval '1 minute' - interval '1 hour',
      ${base}::timestamptz + (i / 2) * interval '1 minute',
      case when i % 5 = 0 then (select c.id from contacts c where c.tenant_id = ${tenantId}
                                 and c.name = ${o.marker} || ' Person ' || (i % 20)) end
    from generate_series(1, ${o.n}) i`;
  await sql`
    insert into messages (tenant_id, session_id, role, content, tokens, created_at)
    select ${tenantId}, s.id, 'user',
      ${o.marker} || ' message ' || split_part(s.identity_id, '-', 2)
        || case when split_part(s.identity_id, '-', 2)::int % 7 = 0 then ' about a refund' else '' end,
      5, s.updated_at
    from sessions s where s.tenant_id = ${tenantId} and s.identity_id like 'user:' || ${o.marker} || '-%'`;
  await sql`
    insert into escalations (tenant_id, channel, conversation_id, session_id, reason, status, resolved_at)
    select ${tenantId}, s.channel, s.id::text, s.id, 'customer asked for a person',
      case when split_part(s.identity_id, '-', 2)::int % 50 = 0 then 'open' else 'resolved' end,
      case when split_part(s.identity_id, '-', 2)::int % 50 = 0 then null else s.updated_at end
    from sessions s where s.tenant_id = ${tenantId} and s.identity_id like 'user:' || ${o.marker} || '-%'
      and split_part(s.identity_id, '-', 2)::int % 25 = 0`;
  await sql`analyze sessions`;
}

/** One person on four channels: a web chat, texts, an e-mail, a phone call; the texts escalated. */
export async function seedPerson(db: Database, tenantId: string) {
  const sql = raw(db);
  const [ada] = await sql<{ id: string }[]>`
    insert into contacts (tenant_id, name, phone, email, channels)
    values (${tenantId}, 'Ada Lovelace', '+15550001111', 'ada@example.com', '{web,sms,email,voice}') returning id`;
  const at = (minutes: number) => new Date(Date.parse("2025-06-01T10:00:00Z") + minutes * 60_000);
  const sessions: Record<string, string> = {};
  for (const [channel, minutes, words] of [
    ["web", 0, "web: do you open on Sundays?"],
    ["sms", 10, "sms: I want to book a table"],
    ["email", 30, "email: please send the invoice"],
  ] as const) {
    const [s] = await sql<{ id: string }[]>`
      insert into sessions (id, tenant_id, identity_id, channel, turns, contact_id, created_at, updated_at)
      values (gen_random_uuid(), ${tenantId}, ${`ada-${channel}`}, ${channel}, 1, ${ada?.id ?? null},
              ${at(minutes)}, ${at(minutes + 1)}) returning id`;
    sessions[channel] = s?.id ?? "";
    await sql`
      insert into messages (tenant_id, session_id, role, content, tokens, created_at)
      values (${tenantId}, ${s?.id ?? null}, 'user', ${words}, 3, ${at(minutes)}),
             (${tenantId}, ${s?.id ?? null}, 'assistant', ${`reply to ${channel}`}, 3, ${at(minutes)})`;
  }
  await sql`
    insert into calls (tenant_id, call_control_id, contact_id, transcript, created_at)
    values (${tenantId}, 'cc-ada', ${ada?.id ?? null}, ${sql.json([
      { role: "user", text: "voice: is my table ready?", createdAt: at(20).toISOString() },
      { role: "tool", text: "lookup_booking()", createdAt: at(20).toISOString() },
      { role: "assistant", text: "voice reply: yes", createdAt: at(21).toISOString() },
    ])}, ${at(20)})`;
  await sql`
    insert into escalations (tenant_id, channel, conversation_id, session_id, contact_id, reason, summary, created_at)
    values (${tenantId}, 'sms', ${sessions.sms ?? ""}, ${sessions.sms ?? null}, ${ada?.id ?? null},
            'asked for a person', 'wants a table for six', ${at(12)})`;
  await sql`
    insert into leads (tenant_id, contact_id, intent, summary, source_channel, source_kind, source_id)
    values (${tenantId}, ${ada?.id ?? null}, 'booking', 'table for six', 'sms', 'session', ${sessions.sms ?? ""})`;
  return { contactId: ada?.id ?? "", sessions };
}
