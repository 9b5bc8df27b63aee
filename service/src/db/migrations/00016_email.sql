-- The e-mail channel (docs/email.md): tenants' Gmail mailboxes connected with Google OAuth, the OAuth
-- requests in flight, and every Gmail message the channel looked at or sent.

-- A connected mailbox. Its channel connection (kind 'gmail', public id the address) holds the refresh
-- token's secret-store name in secret_refs.refreshToken; this row holds the watch and the sync position.
create table email_mailboxes (
  connection_id uuid primary key references channel_connections (id) on delete cascade,
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  -- Lowercased. Unique across tenants: a push names only the address, and it must lead to one tenant.
  address text not null unique,
  status text not null default 'connected' check (status in ('connected', 'disconnected')),
  -- Why it stopped (`refresh_token_revoked`, `disconnected_by_admin`); null while connected.
  disconnected_reason text,
  disconnected_at timestamptz,
  -- Gmail's historyId (uint64, compared as a number): everything up to it was looked at.
  history_id numeric(20, 0),
  -- The highest historyId a push announced: a sync runs until history_id reaches it.
  pushed_history_id numeric(20, 0),
  -- Bumped by every push that asks for a sync: the sync task's name is unique per request.
  sync_requests bigint not null default 0,
  sync_lease_until timestamptz,
  -- When the last sync finished: after a 404 on history (too old), recent INBOX mail since then is listed.
  synced_at timestamptz,
  watch_expires_at timestamptz,
  watch_renewed_at timestamptz,
  -- Who connected it (the admin API's actor), for the audit trail and the disconnection notice.
  connected_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index email_mailboxes_tenant_idx on email_mailboxes (tenant_id);
create index email_mailboxes_watch_idx on email_mailboxes (watch_expires_at) where status = 'connected';

-- An authorization request sent to Google and not yet finished: the callback's `state` (stored hashed)
-- finds the tenant and the PKCE verifier. Single use, minutes long; purged once used or expired.
create table email_oauth_requests (
  state_hash text primary key,
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  code_verifier text not null,
  requested_by text not null,
  -- Where the callback sends the browser afterwards (the console), when the request named one.
  return_to text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);

-- Each Gmail message the channel looked at (inbound) or wrote (outbound: a reply or a draft). Inbound rows
-- deduplicate Gmail message ids (overlapping history ranges) and keep what threading the reply needs;
-- an outbound row records the reply's Message-ID before it is sent, so a retry after a crash searches the
-- mailbox for it instead of sending again.
create table email_messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_tenant() references tenants (id) on delete cascade,
  connection_id uuid not null references email_mailboxes (connection_id) on delete cascade,
  direction text not null check (direction in ('inbound', 'outbound')),
  -- Gmail's message id; null for an outbound message not yet sent.
  gmail_id text,
  thread_id text not null,
  -- The RFC 5322 Message-ID, with its angle brackets.
  rfc822_message_id text,
  -- Outbound: the inbound Gmail message it answers.
  answers_gmail_id text,
  from_address text,
  from_name text,
  reply_to text[] not null default '{}',
  to_addresses text[] not null default '{}',
  cc_addresses text[] not null default '{}',
  subject text not null default '',
  "references" text[] not null default '{}',
  contact_id uuid references contacts (id) on delete cascade,
  -- inbound: queued (handed to the pipeline), skipped; outbound: sending, sent, drafted, failed.
  status text not null check (status in ('queued', 'skipped', 'sending', 'sent', 'drafted', 'failed')),
  -- Why an inbound message was not answered (`auto_reply`, `bulk`, …), or why an outbound one failed.
  reason text,
  received_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index email_messages_gmail_idx on email_messages (connection_id, gmail_id) where gmail_id is not null;
create unique index email_messages_outbound_idx on email_messages (tenant_id, rfc822_message_id)
  where direction = 'outbound';
create unique index email_messages_answer_idx on email_messages (connection_id, answers_gmail_id)
  where direction = 'outbound';
create index email_messages_thread_idx on email_messages (tenant_id, connection_id, thread_id, created_at);
create index email_messages_contact_idx on email_messages (tenant_id, contact_id) where contact_id is not null;

do $$
declare
  t text;
begin
  foreach t in array array['email_mailboxes', 'email_oauth_requests', 'email_messages'] loop
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
