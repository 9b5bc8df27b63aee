-- The web console's sign-in (issue 16, docs/console.md). These rows belong to people, not to one tenant (a
-- person may work for several tenants, a platform admin for all), so they are platform tables: only the
-- platform role reads or writes them (db/platform-console.ts), the runtime role of tenant work has no grant.
-- No column is named tenant_id on purpose: the isolation suites treat every such table as tenant data.

-- A signed-in browser. The cookie carries a random token; only its SHA-256 is kept, so a copy of this table
-- signs nobody in. Idle expiry moves with `last_seen_at`; `expires_at` is the absolute end.
create table console_sessions (
  id uuid primary key default gen_random_uuid(),
  token_hash bytea not null unique,
  -- The synchronizer token every state-changing request must echo (header or form field).
  csrf_token text not null,
  -- `local` for the one-time sign-in link of a deployment without an issuer; else the OIDC issuer.
  issuer text not null,
  subject text not null,
  email text,
  name text,
  -- The tenant the person is looking at (the console's tenant switch); their role is read afresh per request.
  current_tenant_id uuid references tenants (id) on delete set null,
  -- The issuer's id_token, kept for RP-initiated logout (`id_token_hint`); never shown or logged.
  id_token text,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create index console_sessions_subject_idx on console_sessions (issuer, subject);

-- An OpenID Connect authorization in flight: bound to the browser that started it by a cookie whose hash is
-- the key, so a callback carried to another browser (login CSRF) finds nothing. Single use, minutes long.
create table console_authorizations (
  browser_hash bytea primary key,
  state text not null,
  nonce text not null,
  code_verifier text not null,
  return_to text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);

-- One-time sign-in links for a deployment without an issuer (`npm start` prints one). Hash only, single use.
create table console_sign_in_links (
  token_hash bytea primary key,
  subject text not null,
  email text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

grant select, insert, update, delete on console_sessions, console_authorizations, console_sign_in_links
  to switchboard_platform;
