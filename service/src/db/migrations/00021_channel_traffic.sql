-- The console's channels page shows when each connection last heard from a customer
-- (db/channel-traffic.ts): the newest inbound text and call of a connection, found by index instead of
-- reading every row of the tenant's messages.
create index sms_messages_connection_inbound_idx on sms_messages (connection_id, created_at)
  where direction = 'inbound';
create index calls_connection_created_idx on calls (connection_id, created_at);
