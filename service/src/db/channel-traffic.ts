import type { Sql } from "./client";

/**
 * When each of the current tenant's channel connections last heard from a customer: the newest inbound
 * row the channel itself keeps (a text, a call, an e-mail; Intercom's outbox rows, which name no
 * connection, count for the tenant's Intercom connections). One statement, so the channels page is one
 * round trip; row-level security keeps it to the tenant. A connection nothing arrived on is left out.
 */
export async function lastInboundByChannel(sql: Sql): Promise<Map<string, Date>> {
  const rows = await sql<{ id: string; lastInboundAt: Date | null }[]>`
    select c.id, greatest(
      (select max(s.created_at) from sms_messages s where s.connection_id = c.id and s.direction = 'inbound'),
      (select max(k.created_at) from calls k where k.connection_id = c.id),
      (select max(coalesce(e.received_at, e.created_at)) from email_messages e
        where e.connection_id = c.id and e.direction = 'inbound'),
      case when c.kind = 'intercom' then (select max(o.created_at) from outbox o where o.channel = 'intercom') end
    ) as last_inbound_at
    from channel_connections c`;
  return new Map(rows.filter((r) => r.lastInboundAt).map((r) => [r.id, new Date(r.lastInboundAt as Date)]));
}
