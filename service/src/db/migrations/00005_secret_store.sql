-- The database SecretStore (service/src/adapters/database-secret-store.ts), for local use and tests:
-- per-tenant credentials as AES-256-GCM envelopes, never as plain text. Production keeps them in Secret
-- Manager and leaves this table empty.
--
-- One row per version of a secret; the latest version is the value. `key_id` names the key that sealed
-- the row (a fingerprint of SECRET_STORE_KEY), so a later key rotation can tell which rows still need
-- re-encrypting, and a wrong key is reported as such instead of as a corrupt row. The ciphertext is
-- bound to its secret id and version (GCM additional data), so a row copied under another name or version
-- does not decrypt.
create table secret_versions (
  secret_id text not null,
  version integer not null check (version > 0),
  key_id text not null,
  iv bytea not null check (octet_length(iv) = 12),
  ciphertext bytea not null,
  tag bytea not null check (octet_length(tag) = 16),
  created_at timestamptz not null default now(),
  primary key (secret_id, version)
);
