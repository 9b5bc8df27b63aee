-- The model quota of the whole deployment (the project's Gemini requests and tokens per minute), shared by
-- every instance: deployment-wide, NOT tenant-owned (no tenant_id, no row-level security; one project quota
-- serves all tenants). service/src/engine/model-quota.ts leases slices of it; db/model-quota.ts is the SQL.
--
-- One row per quota and fixed one-minute window, on the database's clock. `requests` and `tokens` are what
-- instances have leased from the window so far (not what they spent: unspent lease is lost when the window
-- ends); `granted_*` is the last lease's grant, so the one upsert that takes a lease can return it.
-- The retention purge deletes old windows (db/retention.ts, with the rate-limit windows' age).
create table model_quota_windows (
  quota text not null,
  window_start timestamptz not null,
  requests integer not null check (requests >= 0),
  tokens bigint not null check (tokens >= 0),
  granted_requests integer not null,
  granted_tokens bigint not null,
  primary key (quota, window_start)
);

comment on table model_quota_windows is
  'Deployment-wide, not tenant-owned: the model quota per minute window that all instances lease from.';
