-- A person's answer to an escalated conversation (the console's escalation page, issue 16), sent to the
-- customer on the channel they came from.
--
-- `messages.role` gains 'agent': the text a person of the tenant sent, kept in the session as everything
-- else is (redacted), so the widget's history shows it and the model's history reads it as the assistant's
-- turn (db/admission.ts). Erasure and retention delete messages by session, whatever their role.
alter table messages drop constraint messages_role_check;
alter table messages add constraint messages_role_check check (role in ('user', 'assistant', 'agent'));

-- The idempotency record of a reply, written before the send: its id is the key the console's form makes
-- (a double submit or a retry names the same id and sends nothing more). `pending` with no `sent_at` is a
-- send begun and never confirmed: it is never repeated (at most once). No message text here.
create table escalation_replies (
  id uuid not null,
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  escalation_id uuid not null,
  author text not null,
  channel text not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  -- Why a reply ended without reaching the customer (`opted_out`, `channel_not_connected`, …).
  outcome text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, escalation_id) references escalations (tenant_id, id) on delete cascade
);
create index escalation_replies_escalation_idx on escalation_replies (tenant_id, escalation_id, created_at);

alter table escalation_replies enable row level security;
alter table escalation_replies force row level security;
create policy tenant_isolation on escalation_replies
  using (tenant_id = app_tenant() or current_user = 'switchboard_platform')
  with check (tenant_id = app_tenant() or current_user = 'switchboard_platform');
grant select, insert, update, delete on escalation_replies to switchboard_app, switchboard_platform;
