-- purge_audit_log (00007) runs as the tables' owner. Its delete reads `at`, which takes a select policy,
-- and FORCE row-level security shows the owner no audit row outside a tenant: where the owner is not a
-- superuser (Cloud SQL) the function deleted nothing. The owner may now read the rows while the function
-- runs, and only then: the function turns `app.audit_purge` on for itself and off again before it returns.
do $$ begin
  execute format(
    'create policy owner_purge_read on audit_log for select to %I using (current_setting(%L, true) = %L)',
    current_user, 'app.audit_purge', 'on');
end $$;

create or replace function purge_audit_log(older_than interval, batch integer) returns integer
language plpgsql security definer set search_path from current as $$
declare
  n integer;
begin
  perform set_config('app.audit_purge', 'on', true);
  delete from audit_log where id in (
    select id from audit_log where at < now() - older_than order by at limit batch);
  get diagnostics n = row_count;
  perform set_config('app.audit_purge', '', true);
  return n;
end
$$;
