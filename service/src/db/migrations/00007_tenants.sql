-- Many businesses (tenants) on one deployment, isolated by PostgreSQL itself (docs/tenants.md).
--
-- Every tenant-owned table has `tenant_id` and one row-level-security policy: a row is visible and
-- writable only when its tenant is the one the unit of work set (`app.tenant_id`, set with
-- `set_config(..., true)` in the same round trip as the unit's first statement: db/tenant-scope.ts), or when
-- the statement runs as `switchboard_platform` (the named cross-tenant functions of db/platform.ts).
-- FORCE applies the policy to the tables' owner too: a statement that set no tenant sees no tenant's rows.
--
-- Requests run as `switchboard_app`, which owns nothing and has no BYPASSRLS; the login that runs the
-- migrations owns the tables and switches to that role per unit of work (`set_config('role', ...)`, local
-- to the transaction). On Cloud SQL the IAM user cannot create roles: the runbook's one-time grant creates
-- both roles as `postgres` and grants them to it (docs/infrastructure.md, step 4); this block then only
-- checks that they exist.
--
-- Contract step: the conflict keys that now include the tenant replace the old ones, so the previous
-- release cannot run on this schema (docs/runbook.md, "Migration 00007").

do $$
begin
  if not exists (select from pg_roles where rolname = 'switchboard_app') then
    begin
      create role switchboard_app nologin nobypassrls;
    exception when duplicate_object then null; -- another database of this cluster created it meanwhile
    end;
  end if;
  if not exists (select from pg_roles where rolname = 'switchboard_platform') then
    begin
      create role switchboard_platform nologin nobypassrls;
    exception when duplicate_object then null;
    end;
  end if;
  if not pg_has_role(current_user, 'switchboard_app', 'member') then
    execute format('grant switchboard_app to %I', current_user);
  end if;
  if not pg_has_role(current_user, 'switchboard_platform', 'member') then
    execute format('grant switchboard_platform to %I', current_user);
  end if;
  execute format('grant usage on schema %I to switchboard_app, switchboard_platform', current_schema());
end
$$;

-- The tenant of the current unit of work; null outside one.
create function app_tenant() returns uuid language sql stable parallel safe as $$
  select nullif(current_setting('app.tenant_id', true), '')::uuid
$$;

create table tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$'),
  name text not null check (length(name) between 1 and 200),
  status text not null default 'active' check (status in ('active', 'suspended')),
  -- Validated by service/src/tenants/settings.ts; what is unset falls back to the deployment's config.
  settings jsonb not null default '{}',
  -- The widget's public key (`data-tenant`): public, not a credential.
  widget_key text not null unique,
  -- Content hash of the tenant's knowledge documents: the key of its context cache.
  knowledge_version text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- The single business of every deployment before tenants: it owns every existing row, and its empty
-- settings mean "today's environment variables".
insert into tenants (id, slug, name, widget_key)
values ('00000000-0000-4000-8000-000000000001', 'default', 'Default', 'pk_default');

-- Knowledge documents per tenant (Markdown); knowledge_chunks is their searchable form.
create table knowledge_documents (
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  slug text not null check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
  title text not null,
  body text not null,
  -- `files`: the deployment's KNOWLEDGE_DIR, synced into the default tenant at start; `api`: the admin API.
  origin text not null default 'api' check (origin in ('files', 'api')),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, slug)
);

-- A channel's public identifier (widget key, Intercom app id, E.164 number, mailbox) belongs to at most one
-- tenant: unique across tenants, so a second tenant claiming it gets a conflict, not the other's traffic.
-- Credentials are never here: `secret_refs` names them in the SecretStore.
create table channel_connections (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9-]{0,31}$'),
  public_id text not null,
  settings jsonb not null default '{}',
  secret_refs jsonb not null default '{}',
  status text not null default 'active' check (status in ('active', 'disabled')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (kind, public_id)
);
create index channel_connections_tenant_idx on channel_connections (tenant_id);

-- People who may use the admin API and, later, the console: platform admins (no tenant), tenant admins and
-- agents (one tenant). `subject` is the JWT `sub` (or the e-mail) they sign in with.
create table tenant_users (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid references tenants (id) on delete cascade,
  subject text not null check (length(subject) between 1 and 320),
  email text,
  role text not null check (role in ('platform_admin', 'tenant_admin', 'agent')),
  created_at timestamptz not null default now(),
  check ((role = 'platform_admin') = (tenant_id is null))
);
create unique index tenant_users_subject_idx on tenant_users (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'), subject);

-- Append-only record of admin actions, credential reads and rotations, erasures and admin sign-in failures.
-- Never a credential or message content: `summary` says what changed, not the values.
create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  tenant_id uuid default app_tenant(),
  actor text not null,
  role text not null,
  action text not null,
  target text,
  request_id text,
  client_address text,
  summary jsonb not null default '{}'
);
create index audit_log_tenant_at_idx on audit_log (tenant_id, at);
create index audit_log_at_idx on audit_log (at);

-- Existing tables become tenant-owned. The column is added with the default tenant as a constant default
-- (kept in the catalog: no rewrite) so existing rows belong to it; new rows take the unit's tenant.
-- Outside a unit of work only the owner can write (a superuser locally), and lands on the default tenant.
do $$
declare
  t text;
begin
  foreach t in array array['sessions', 'messages', 'usage_ledger', 'usage_counters', 'knowledge_chunks',
    'app_state', 'model_caches', 'outbox', 'intercom_conversations', 'handoffs', 'erasures', 'secret_versions']
  loop
    execute format(
      'alter table %I add column tenant_id uuid not null default %L references tenants (id) on delete cascade',
      t, '00000000-0000-4000-8000-000000000001');
    execute format(
      'alter table %I alter column tenant_id set default coalesce(app_tenant(), %L::uuid)',
      t, '00000000-0000-4000-8000-000000000001');
  end loop;
end
$$;

-- Conflict keys and lookups that a second tenant could collide on now include the tenant.
alter table usage_counters drop constraint usage_counters_pkey;
alter table usage_counters add primary key (tenant_id, identity_id, period, period_start);
alter table model_caches drop constraint model_caches_pkey;
alter table model_caches add primary key (tenant_id, key);
drop index sessions_channel_ref_idx;
create unique index sessions_channel_ref_idx on sessions (tenant_id, channel, external_ref) where external_ref is not null;
alter table outbox drop constraint outbox_conversation_id_part_id_key;
alter table outbox add constraint outbox_tenant_part_key unique (tenant_id, channel, conversation_id, part_id);
alter table intercom_conversations drop constraint intercom_conversations_pkey;
drop index intercom_conversations_channel_key;
alter table intercom_conversations add primary key (tenant_id, channel, conversation_id);
alter table knowledge_chunks add column document text;
create index knowledge_chunks_tenant_idx on knowledge_chunks (tenant_id);
create index usage_ledger_tenant_created_idx on usage_ledger (tenant_id, created_at);
delete from app_state where key = 'knowledge_version';

-- The policy, FORCE, and the runtime roles' privileges, on every tenant-owned table.
do $$
declare
  t text;
  key text;
begin
  foreach t in array array['tenants', 'knowledge_documents', 'channel_connections', 'tenant_users', 'audit_log',
    'sessions', 'messages', 'usage_ledger', 'usage_counters', 'knowledge_chunks', 'app_state', 'model_caches',
    'outbox', 'intercom_conversations', 'handoffs', 'erasures', 'secret_versions']
  loop
    key := case t when 'tenants' then 'id' else 'tenant_id' end;
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (%I = app_tenant() or current_user = %L) '
      'with check (%I = app_tenant() or current_user = %L)',
      t, key, 'switchboard_platform', key, 'switchboard_platform');
    if t = 'audit_log' then
      -- Append-only for both runtime roles: no update, no delete, no truncate (test/service/audit-log.test.ts).
      execute 'grant select, insert on audit_log to switchboard_app, switchboard_platform';
    elsif t = 'erasures' then
      execute 'grant select, insert on erasures to switchboard_app, switchboard_platform';
    else
      execute format('grant select, insert, update, delete on %I to switchboard_app, switchboard_platform', t);
    end if;
  end loop;
  -- Deployment-wide tables (no tenant): rate-limit windows (keys carry the tenant), the model quota, the
  -- webhook delivery ids. Written inside tenant units too, so the runtime role may use them.
  execute 'grant select, insert, update, delete on rate_limit_windows, model_quota_windows, webhook_deliveries '
    'to switchboard_app, switchboard_platform';
  execute 'grant usage on all sequences in schema ' || quote_ident(current_schema())
    || ' to switchboard_app, switchboard_platform';
  execute 'grant execute on function app_tenant() to switchboard_app, switchboard_platform';
end
$$;

-- A platform admin's actions on no tenant (creating one is audited on the new tenant) and admin sign-in
-- failures have no tenant: only the platform role may write or read those rows.
drop policy tenant_isolation on audit_log;
create policy tenant_isolation on audit_log
  using (tenant_id = app_tenant() or current_user = 'switchboard_platform')
  with check (tenant_id is not distinct from app_tenant() or current_user = 'switchboard_platform');

-- The audit log's own retention: the only way rows leave it, as the owner, by age alone.
create function purge_audit_log(older_than interval, batch integer) returns integer
language plpgsql security definer set search_path from current as $$
declare
  n integer;
begin
  delete from audit_log where id in (
    select id from audit_log where at < now() - older_than order by at limit batch);
  get diagnostics n = row_count;
  return n;
end
$$;
-- Runtime roles have no DELETE privilege; the owner may delete (through this function only, by age).
do $$ begin
  execute format('create policy owner_purge on audit_log for delete to %I using (true)', current_user);
end $$;
revoke all on function purge_audit_log(interval, integer) from public;
grant execute on function purge_audit_log(interval, integer) to switchboard_platform;
