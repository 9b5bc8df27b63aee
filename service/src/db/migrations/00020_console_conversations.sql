-- The console's conversation list (docs/console.md, "Conversations, contacts and leads"): the tenant's
-- conversations by last activity, newest first, a page at a time with a keyset on (updated_at, id), all of
-- them or one channel's. The tenant leads each index, so a page reads its 51 rows from the index in order
-- (a backward scan) instead of sorting the tenant's sessions. Expand-only: new indexes.
create index sessions_tenant_updated_idx on sessions (tenant_id, updated_at, id);
create index sessions_tenant_channel_updated_idx on sessions (tenant_id, channel, updated_at, id);
-- A conversation's status (open, escalated, resolved) is read from its escalations, per listed row.
create index escalations_session_idx on escalations (tenant_id, session_id) where session_id is not null;
-- The contacts list, newest first (keyset on created_at, id), without sorting every contact of the tenant.
create index contacts_tenant_created_idx on contacts (tenant_id, created_at, id);
