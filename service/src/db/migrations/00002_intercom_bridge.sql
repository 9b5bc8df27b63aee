-- Intercom notification ids already accepted: a retried or replayed delivery is acknowledged and dropped.
create table webhook_deliveries (
  notification_id text primary key,
  topic text not null,
  received_at timestamptz not null default now()
);
create index webhook_deliveries_received_idx on webhook_deliveries (received_at);

-- One row per customer message to answer. The outbox is the source of truth: a row stays pending until
-- it is answered (or deliberately skipped), and a row whose lease expired is dispatched again.
create table outbox (
  id uuid primary key,
  conversation_id text not null,
  part_id text not null,
  status text not null default 'pending' check (status in ('pending', 'done', 'skipped')),
  attempts integer not null default 0,
  lease_until timestamptz,
  last_error text,
  outcome text,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (conversation_id, part_id)
);
create index outbox_pending_idx on outbox (lease_until nulls first, created_at) where status = 'pending';

-- Bridge state per conversation: who has it (the bot or a person) and the per-conversation lock.
create table intercom_conversations (
  conversation_id text primary key,
  mode text not null default 'bot' check (mode in ('bot', 'human')),
  low_confidence_answers integer not null default 0,
  locked_until timestamptz,
  locked_by uuid,
  updated_at timestamptz not null default now()
);

create table handoffs (
  id bigint generated always as identity primary key,
  conversation_id text not null,
  reason text not null,
  -- Steps already done, so a retried handoff never messages the customer twice.
  steps text[] not null default '{}',
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index handoffs_conversation_idx on handoffs (conversation_id, created_at desc);
