-- Signed webhooks out (Standard Webhooks) and tenant-scoped API keys. Events are written in the same
-- transaction as the change that caused them, with one delivery per subscribed endpoint; deliveries are
-- sent by the task queue, in order per endpoint and ordering key (the contact), with backoff over hours.
create table webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  url text not null,
  description text,
  events text[] not null,
  -- The `whsec_` signing secret lives in the secret store under this name, never here.
  secret_name text not null,
  status text not null default 'enabled' check (status in ('enabled', 'disabled')),
  disabled_reason text,
  consecutive_failures integer not null default 0,
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_endpoints_tenant_idx on webhook_endpoints (tenant_id, created_at);

create table outbound_events (
  -- `msg_…`: the Standard Webhooks `webhook-id`, the same on every retry and replay.
  id text primary key,
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  type text not null,
  ordering_key text,
  payload jsonb not null,
  created_at timestamptz not null default now()
);
create index outbound_events_tenant_created_idx on outbound_events (tenant_id, created_at);

create table event_deliveries (
  id uuid primary key default gen_random_uuid(),
  -- The order deliveries of one endpoint and ordering key go out in.
  seq bigint generated always as identity,
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  event_id text not null references outbound_events (id) on delete cascade,
  endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
  ordering_key text,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- How often a task was enqueued for it: the task's name carries it, so each dispatch is a new task
  -- (Cloud Tasks drops a name it has seen) and a repeated enqueue of one dispatch is dropped.
  dispatches integer not null default 0,
  -- Held while one sender posts it: a duplicate task (the sweep's, a retry's) finds it taken.
  lease_until timestamptz,
  last_status integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  unique (event_id, endpoint_id)
);
create index event_deliveries_order_idx on event_deliveries (endpoint_id, ordering_key, seq)
  where status = 'pending';
create index event_deliveries_due_idx on event_deliveries (status, next_attempt_at) where status = 'pending';
create index event_deliveries_log_idx on event_deliveries (tenant_id, endpoint_id, seq desc);

-- Every attempt of a delivery (the log a tenant reads): when, the receiver's status or the error. Never
-- the body sent or answered.
create table event_delivery_attempts (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  delivery_id uuid not null references event_deliveries (id) on delete cascade,
  at timestamptz not null default now(),
  status_code integer,
  error text,
  duration_ms integer not null
);
create index event_delivery_attempts_delivery_idx on event_delivery_attempts (delivery_id, id);

-- Keys for a tenant's automations (Zapier, a CRM): only a SHA-256 of the key is kept; shown once.
create table api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  name text not null,
  role text not null check (role in ('agent', 'tenant_admin')),
  -- The key's first characters, to tell keys apart in a list; not enough to use it.
  prefix text not null,
  hash text not null unique,
  created_by text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

do $$
declare
  t text;
begin
  foreach t in array array['webhook_endpoints', 'outbound_events', 'event_deliveries', 'event_delivery_attempts',
    'api_keys']
  loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = app_tenant() or current_user = %L) '
      'with check (tenant_id = app_tenant() or current_user = %L)',
      t, 'switchboard_platform', 'switchboard_platform');
    execute format('grant select, insert, update, delete on %I to switchboard_app, switchboard_platform', t);
  end loop;
  execute 'grant usage on all sequences in schema ' || quote_ident(current_schema())
    || ' to switchboard_app, switchboard_platform';
end
$$;
