-- Phone calls answered by a tenant's Telnyx AI assistant: one row per assistant conversation, written when
-- Telnyx reports its end, with the transcript read from Telnyx's API and the insights it generated.
create table calls (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  -- The tenant's Telnyx connection (channel_connections.id) whose number was called.
  connection_id uuid,
  -- Telnyx's AI conversation id, from `call.conversation.ended` (the transcript's key). Null while only
  -- the insights arrived: `call.conversation_insights.generated` names the call, not the conversation.
  conversation_id text,
  -- The assistant's call leg: the one id both events carry, so it keys the row whichever comes first.
  call_control_id text not null,
  call_session_id text,
  assistant_id text,
  from_number text,
  to_number text,
  contact_id uuid references contacts (id) on delete cascade,
  duration_sec integer,
  -- Why it ended, in Telnyx's words (`user_hangup`, `assistant_hangup`, …).
  reason text,
  -- [{ role, text, createdAt }] oldest first, as stored after PII redaction.
  transcript jsonb not null default '[]',
  -- Telnyx's `call.conversation_insights.generated` results, as received.
  insights jsonb not null default '[]',
  summary text,
  ended_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, call_control_id),
  unique (tenant_id, conversation_id)
);
create index calls_tenant_created_idx on calls (tenant_id, created_at desc, id desc);
create index calls_contact_idx on calls (tenant_id, contact_id) where contact_id is not null;

do $$
begin
  alter table calls enable row level security;
  alter table calls force row level security;
  create policy tenant_isolation on calls
    using (tenant_id = app_tenant() or current_user = 'switchboard_platform')
    with check (tenant_id = app_tenant() or current_user = 'switchboard_platform');
  grant select, insert, update, delete on calls to switchboard_app, switchboard_platform;
end
$$;
