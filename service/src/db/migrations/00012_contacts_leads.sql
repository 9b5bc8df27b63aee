-- Contacts merged across channels, the model's extraction of who a customer is and what they want, and
-- the leads it finds. Expand-only: new tables and nullable columns, so the previous release runs on it.

-- References to a contact carry the tenant: (tenant_id, contact_id) → contacts (tenant_id, id), so a row can
-- only ever name a contact of its own tenant (a plain id reference is checked without row-level security).
alter table contacts add constraint contacts_tenant_id_key unique (tenant_id, id);

-- Each conversation links to its contact once known (web chat: when the extraction finds an e-mail or phone).
alter table sessions add column contact_id uuid;
alter table sessions add constraint sessions_contact_fk foreign key (tenant_id, contact_id)
  references contacts (tenant_id, id) on delete set null (contact_id);
create index sessions_contact_idx on sessions (tenant_id, contact_id) where contact_id is not null;
alter table contacts add column company text;
-- Which channels the contact came through, first seen: the console's and the admin API's filter.
alter table contacts add column channels text[] not null default '{}';
create index contacts_name_idx on contacts (tenant_id, lower(name)) where name is not null;

-- One extraction per subject (a call, or a chat/SMS session up to a message), its status and result. A
-- result that fails the schema is kept as `failed` with the error, retried once, never a crash.
create table extractions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  subject_kind text not null check (subject_kind in ('call', 'session')),
  subject_id text not null,
  -- The last message the extraction read (sessions): a conversation that goes on is extracted again.
  through_message_id bigint,
  contact_id uuid,
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
  attempts integer not null default 0,
  result jsonb,
  error text,
  model text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, subject_kind, subject_id),
  foreign key (tenant_id, contact_id) references contacts (tenant_id, id) on delete cascade
);
create index extractions_retry_idx on extractions (tenant_id, status, updated_at) where status = 'failed';

-- A lead: a contact with purchase or booking intent (the tenant's criteria). One open lead per contact.
create table leads (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  contact_id uuid not null,
  status text not null default 'new' check (status in ('new', 'contacted', 'qualified', 'won', 'lost')),
  intent text not null,
  urgency text,
  summary text,
  follow_ups jsonb not null default '[]',
  source_channel text not null,
  source_kind text not null check (source_kind in ('call', 'session')),
  source_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (tenant_id, contact_id) references contacts (tenant_id, id) on delete cascade
);
create unique index leads_open_contact_idx on leads (tenant_id, contact_id) where status not in ('won', 'lost');
-- Keyset pagination of the tenant's leads, newest first, optionally by status.
create index leads_tenant_created_idx on leads (tenant_id, created_at desc, id desc);

do $$
declare
  t text;
begin
  foreach t in array array['extractions', 'leads']
  loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = app_tenant() or current_user = %L) '
      'with check (tenant_id = app_tenant() or current_user = %L)',
      t, 'switchboard_platform', 'switchboard_platform');
    execute format('grant select, insert, update, delete on %I to switchboard_app, switchboard_platform', t);
  end loop;
end
$$;
