-- SMS (issue 13): tenants' phone numbers answer texts through the inbound pipeline. Expand only: every
-- change is a new table, a new nullable column or a new index, so the previous release runs on this schema.

-- `reply_via`: the connection a customer's message arrived at (a tenant's number), which its answer goes
-- out through. `reply`: an answer generated but not yet confirmed sent; a send the provider refused (429,
-- 5xx) is retried with it, instead of asking the model again and writing the history twice.
alter table outbox add column reply_via text;
alter table outbox add column reply text;

-- One phone number answers for one tenant, whatever provider it is connected through.
create unique index channel_connections_phone_idx on channel_connections (public_id)
  where kind in ('twilio', 'telnyx', 'voxie');

-- The people a tenant's channels talk to, merged across channels by phone (E.164), e-mail and Intercom
-- contact id; conversations point here (intercom_conversations.contact_id) so an erasure finds them all.
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
create unique index contacts_email_idx on contacts (tenant_id, lower(email)) where email is not null;
create unique index contacts_intercom_idx on contacts (tenant_id, intercom_contact_id)
  where intercom_contact_id is not null;

-- Consent to texts, per tenant and number: every opt-out and opt-in with its source (a keyword the
-- customer texted, a provider refusing a send to an unsubscribed number, an admin), time and keyword.
-- Append-only for the runtime roles and kept through an erasure: it is the record that the number asked
-- not to be texted (docs/privacy.md). The latest row is the number's state.
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
create index sms_consent_phone_idx on sms_consent (tenant_id, phone, id desc);

-- Every text Switchboard sends: written before the send (the idempotency record), then given the
-- provider's id, and moved along by the provider's delivery reports. Holds no text, only its digest, to
-- recognise the message at the provider after a crash. `kind`: a reply, or a notice (help, handoff, quota).
create table sms_messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  connection_id uuid not null,
  provider text not null,
  provider_message_id text,
  customer_phone text not null,
  business_phone text not null,
  kind text not null check (kind in ('reply', 'help', 'handoff', 'quota')),
  outbox_ids uuid[] not null default '{}',
  body_sha256 text not null,
  status text not null default 'sending'
    check (status in ('sending', 'queued', 'sent', 'delivered', 'undelivered', 'failed')),
  error_code text,
  segments integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index sms_messages_provider_idx on sms_messages (provider, provider_message_id)
  where provider_message_id is not null;
create index sms_messages_customer_idx on sms_messages (tenant_id, customer_phone, created_at desc);
create index sms_messages_created_idx on sms_messages (tenant_id, created_at);
create index sms_messages_outbox_idx on sms_messages using gin (outbox_ids);

do $$
declare
  t text;
begin
  foreach t in array array['contacts', 'sms_consent', 'sms_messages']
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
