-- An audit sink starts at most at its org's newest sequenced event. A
-- sink created with from_seq past the head (a typo, or an admin who
-- wants the SIEM to miss what comes next) delivered nothing until the log
-- reached that seq, while its list entry showed a lag of 0 and the
-- compliance report counted it as delivering; its cursor only moves
-- forward, so nothing but deleting it gave the skipped events back.
-- app.audit_sinks_limit (the BEFORE INSERT trigger, 00114) now also
-- refuses a cursor past the org's tree size (22023, hint sink_from_seq).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.audit_sinks_limit() returns trigger
language plpgsql
set search_path to ''
as $$
begin
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
