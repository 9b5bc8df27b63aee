-- SMS (issue 13): replies go out through the connection a message arrived at, a generated reply survives a
-- refused send, people are contacts the channels share, consent is an append-only compliance log, and every
-- outbound text has a delivery record written before it is sent.

-- The connection (channel_connections.id) a reply goes out through: the one the message arrived at.
alter table outbox add column reply_via text;
-- A reply the engine generated whose send was not confirmed yet: a retry after a 429/5xx sends it again
-- instead of asking the model a second time (and writing the history twice). Cleared when the row finishes.
alter table outbox add column reply text;

-- People, one row per person per tenant, found by any of their handles (later channels share it).
create table contacts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  phone text check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  email text,
  name text,
  intercom_contact_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index contacts_phone_idx on contacts (tenant_id, phone) where phone is not null;
create unique index contacts_email_idx on contacts (tenant_id, email) where email is not null;
create unique index contacts_intercom_idx on contacts (tenant_id, intercom_contact_id)
  where intercom_contact_id is not null;

-- Consent events, append-only (runtime roles may not update or delete them): carriers and the TCPA expect
-- the record of who opted out or back in, when, how and with which keyword, to be kept.
create table sms_consent (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  phone text not null,
  status text not null check (status in ('opted_out', 'opted_in')),
  source text not null check (source in ('keyword', 'provider_error', 'admin')),
  keyword text,
  provider text,
  connection_id uuid,
  at timestamptz not null default now()
);
-- The current state per number is its newest event: one index probe, newest first.
create index sms_consent_current_idx on sms_consent (tenant_id, phone, at desc, id desc);
create index sms_consent_tenant_at_idx on sms_consent (tenant_id, at);

-- The delivery log of every text in and out. An outbound row is written before the provider is called (the
-- idempotency record a crash is reconciled against); its provider id, segments and status follow. Rows
-- that were never sent (`skipped`: quota reached) stay for the tenant's usage report. No message text.
create table sms_messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  connection_id uuid,
  direction text not null check (direction in ('inbound', 'outbound')),
  provider text not null,
  provider_message_id text,
  customer_phone text not null,
  business_phone text not null,
  -- Why it was sent: a reply, the HELP text, a handoff or quota notice.
  purpose text not null default 'reply' check (purpose in ('inbound', 'reply', 'help', 'handoff', 'quota_notice')),
  -- The inbound message (provider id) an outbound text answers: the turn it belongs to.
  reply_to text,
  status text not null check (status in ('received', 'pending', 'queued', 'sending', 'sent', 'delivered',
    'undelivered', 'failed', 'skipped')),
  error_code text,
  segments integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index sms_messages_provider_id_idx on sms_messages (provider, provider_message_id)
  where provider_message_id is not null;
create index sms_messages_reply_to_idx on sms_messages (tenant_id, reply_to) where reply_to is not null;
-- The quota counts a tenant's outbound texts of the day and month; the usage report reads the same range.
create index sms_messages_tenant_created_idx on sms_messages (tenant_id, direction, created_at);
create index sms_messages_customer_idx on sms_messages (tenant_id, customer_phone);

-- The one quota notice a customer gets per period (`day:2026-11-30`, `month:2026-11`): written before it is
-- sent, so a retry or a concurrent task never sends a second.
create table sms_quota_notices (
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  phone text not null,
  period text not null,
  at timestamptz not null default now(),
  primary key (tenant_id, phone, period)
);

-- One number, one connection, whichever SMS provider: a second connection of the same number (even
-- through another provider, or another tenant) would split its traffic.
create unique index channel_connections_sms_number_idx on channel_connections (public_id)
  where kind in ('twilio', 'telnyx', 'voxie');

do $$
declare
  t text;
begin
  foreach t in array array['contacts', 'sms_consent', 'sms_messages', 'sms_quota_notices']
  loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = app_tenant() or current_user = %L) '
      'with check (tenant_id = app_tenant() or current_user = %L)',
      t, 'switchboard_platform', 'switchboard_platform');
    if t = 'sms_consent' then
      execute 'grant select, insert on sms_consent to switchboard_app, switchboard_platform';
    else
      execute format('grant select, insert, update, delete on %I to switchboard_app, switchboard_platform', t);
    end if;
  end loop;
  execute 'grant usage on all sequences in schema ' || quote_ident(current_schema())
    || ' to switchboard_app, switchboard_platform';
end
$$;
