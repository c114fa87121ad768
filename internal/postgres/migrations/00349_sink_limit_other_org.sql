-- The audit sink limit (app.audit_sinks_limit, a BEFORE INSERT trigger that
-- sorts before 00339's bound_org) took the advisory lock of the org a new
-- sink names, and counted its sinks, before the row's policy: a caller of
-- org B inserting a sink naming org A waited for A's sink writers in
-- flight (lock wait, LOW; RLS already showed it none of A's sinks, so the
-- count told it nothing). For ward_app's own statements a row of another
-- org than the bound one now goes straight to its policy (00339's rule);
-- the operator's and the jobs' statements keep every check.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.audit_sinks_limit() returns trigger
language plpgsql
set search_path to ''
as $$
begin
  if current_user = 'ward_app' and new.org_id is distinct from private.get_my_org_id() then
    return new; -- the policy's to refuse, with nothing of the other org read or waited for
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ward.audit_sinks.' || new.org_id::text, 0));
  if (select count(*) from app.audit_sinks s where s.org_id = new.org_id) >= 10 then
    raise exception 'an org holds at most 10 audit sinks' using errcode = '54000', hint = 'sink_limit';
  end if;
  if new.cursor_seq > coalesce((select h.tree_size from audit.heads h where h.org_id = new.org_id), 0) then
    raise exception 'an audit sink starts at most at its org''s newest event' using errcode = '22023', hint = 'sink_from_seq';
  end if;
  return new;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
