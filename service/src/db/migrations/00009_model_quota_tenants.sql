-- The model quota's fair share per tenant (docs/tenants.md, "Limits per tenant"). Each window row of the
-- deployment's quota also records what each tenant leased of it: `{"<tenant id>": {"requests": n,
-- "tokens": n}}`. Keeping it in the same row means the one upsert that takes a lease locks one row and
-- decides on the exact, current totals of the deployment and of the tenant together: instances racing
-- for the same tenant's share never over-grant it, and no second row lock can deadlock.
-- A tenant that asked and was refused is recorded too (with what it had): it counts as present.
alter table model_quota_windows add column tenants jsonb not null default '{}';
