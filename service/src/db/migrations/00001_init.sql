-- Sessions: one conversation with one identity on one channel (web chat, an Intercom conversation, …).
create table sessions (
  id uuid primary key,
  identity_id text not null,
  channel text not null,
  external_ref text,
  -- Rolling summary of the messages that fell out of the history window, and the last message id it covers.
  summary text,
  summarized_through bigint not null default 0,
  turns integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index sessions_identity_idx on sessions (identity_id, updated_at desc);
create unique index sessions_channel_ref_idx on sessions (channel, external_ref) where external_ref is not null;

-- Message text is stored after PII redaction: what the model saw, never more.
create table messages (
  id bigint generated always as identity primary key,
  session_id uuid not null references sessions (id) on delete cascade,
  role text not null check (role in ('user', 'assistant')),
  content text not null,
  tokens integer not null,
  model text,
  created_at timestamptz not null default now()
);
create index messages_session_idx on messages (session_id, id);

-- Every model call, including summaries and failed calls.
create table usage_ledger (
  id bigint generated always as identity primary key,
  identity_id text not null,
  session_id uuid,
  channel text not null,
  purpose text not null,
  provider text not null,
  model text not null,
  input_tokens integer not null,
  output_tokens integer not null,
  cached_tokens integer not null,
  thoughts_tokens integer not null,
  cost_usd numeric(14, 8) not null,
  latency_ms integer not null,
  outcome text not null,
  created_at timestamptz not null default now()
);
create index usage_ledger_identity_idx on usage_ledger (identity_id, created_at);

-- Running token totals per identity and budget period, so a budget check is one indexed read.
create table usage_counters (
  identity_id text not null,
  period text not null check (period in ('day', 'month')),
  period_start date not null,
  tokens bigint not null default 0,
  primary key (identity_id, period, period_start)
);

-- Fixed-window request counters shared by every instance of the service.
create table rate_limit_windows (
  key text not null,
  window_start timestamptz not null,
  hits integer not null,
  primary key (key, window_start)
);

create table knowledge_chunks (
  id bigint generated always as identity primary key,
  source text not null,
  heading text not null,
  body text not null,
  search tsvector generated always as (
    setweight(to_tsvector('english', heading), 'A') || setweight(to_tsvector('english', body), 'B')
  ) stored
);
create index knowledge_chunks_search_idx on knowledge_chunks using gin (search);

-- Small key/value state: knowledge base version, polling cursors.
create table app_state (
  key text primary key,
  value text not null,
  updated_at timestamptz not null default now()
);

-- Gemini cached contents shared by every instance (name of the cachedContents resource and expiry).
create table model_caches (
  key text primary key,
  name text not null,
  model text not null,
  tokens integer not null,
  expires_at timestamptz not null
);
