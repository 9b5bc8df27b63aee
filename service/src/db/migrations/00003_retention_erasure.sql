-- Retention (POST /internal/retention) deletes by age in small batches: each batch finds its rows through an
-- index on the age column, or every batch would scan the whole table.
create index sessions_updated_idx on sessions (updated_at);
create index messages_created_idx on messages (created_at);
create index usage_ledger_created_idx on usage_ledger (created_at);
create index usage_counters_period_start_idx on usage_counters (period_start);
create index rate_limit_windows_start_idx on rate_limit_windows (window_start);
create index outbox_completed_idx on outbox (completed_at) where status <> 'pending';
create index handoffs_completed_idx on handoffs (completed_at) where completed_at is not null;
create index intercom_conversations_updated_idx on intercom_conversations (updated_at);

-- The Intercom contact a conversation belongs to, so a GDPR erasure of that contact finds every conversation
-- kept here (outbox rows, handoffs, bridge state), including those that never got a session.
alter table intercom_conversations add column contact_id text;
create index intercom_conversations_contact_idx on intercom_conversations (contact_id) where contact_id is not null;

-- Who erased what and when, without the erased data: an HMAC of the subject keyed by a server secret (only
-- the service can check whether a given person was erased) and the number of rows per table.
create table erasures (
  id bigint generated always as identity primary key,
  erased_at timestamptz not null default now(),
  actor text not null,
  request_id text not null,
  subject_ref text not null,
  counts jsonb not null
);
create index erasures_subject_idx on erasures (subject_ref);

-- Append-only: the record of an erasure is itself never changed or removed.
create function erasures_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'erasures is append-only';
end
$$;
create trigger erasures_no_update_delete before update or delete on erasures
  for each row execute function erasures_append_only();
create trigger erasures_no_truncate before truncate on erasures
  for each statement execute function erasures_append_only();
