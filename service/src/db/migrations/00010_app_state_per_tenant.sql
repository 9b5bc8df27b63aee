-- app_state (polling cursors, hosted-model sessions) is tenant-owned since 00007, but its key was still
-- unique across tenants: a second tenant keeping a cursor of the same name (the Intercom poll's) would
-- collide with a row row-level security hides from it, and fail. The key is per tenant now. Part of the
-- same contract release as 00007 (docs/runbook.md, "Migration 00007: tenants").
alter table app_state drop constraint app_state_pkey;
alter table app_state add primary key (tenant_id, key);
