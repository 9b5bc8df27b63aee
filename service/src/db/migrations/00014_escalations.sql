-- Escalations: a conversation handed to a person, from any channel, until a person resolves it; and the
-- notifications that tell the tenant's team, each retried on its own so a failed one never loses the
-- escalation.
create table escalations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  contact_id uuid references contacts (id) on delete cascade,
  channel text not null,
  -- The channel's conversation key (the pipeline's conversation id; the web: the session id).
  conversation_id text not null,
  session_id uuid references sessions (id) on delete set null,
  reason text not null,
  summary text,
  status text not null default 'open' check (status in ('open', 'claimed', 'resolved')),
  claimed_by text,
  claimed_at timestamptz,
  resolved_by text,
  resolved_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- What a notification's reference names: its escalation is of its own tenant, whatever ids it is given.
  unique (tenant_id, id)
);
-- One unresolved escalation per conversation: a second handoff of it joins the first.
create unique index escalations_unresolved_idx on escalations (tenant_id, channel, conversation_id)
  where status <> 'resolved';
create index escalations_queue_idx on escalations (tenant_id, status, created_at);
create index escalations_contact_idx on escalations (tenant_id, contact_id) where contact_id is not null;

-- One notification per escalation and target; a credential (a Slack webhook URL) is a secret-store name.
create table notifications (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  escalation_id uuid,
  -- What it is about: `escalation.created`, `endpoint.disabled`, …
  topic text not null,
  kind text not null check (kind in ('email', 'slack')),
  target text not null,
  -- What a notification not about an escalation says (`endpoint.disabled`: the endpoint's host and why).
  payload jsonb,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, escalation_id) references escalations (tenant_id, id) on delete cascade
);
create index notifications_due_idx on notifications (status, next_attempt_at) where status = 'pending';
-- A retried open of the same escalation never writes a second notification to the same target.
create unique index notifications_once_idx on notifications (tenant_id, escalation_id, topic, kind, target);

-- Where a tenant's team is told, beside the e-mail recipients of its settings: the Slack incoming-webhook
-- URL is a credential, so only its secret-store reference is kept here (never in the settings JSON).
create table notification_targets (
  tenant_id uuid primary key default app_tenant() references tenants (id) on delete cascade,
  slack_webhook_ref text,
  updated_at timestamptz not null default now()
);

do $$
declare
  t text;
begin
  foreach t in array array['escalations', 'notifications', 'notification_targets']
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
