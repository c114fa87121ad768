-- A tenant could stall every tenant's SIEM delivery (a security review,
-- MEDIUM): the one active deliverer works through every org's due sinks
-- in turn, and an org admin could create any number of sinks aimed at an
-- address that accepts and never answers, each holding the deliverer for
-- its whole timeout. Now an org holds at most 10 sinks (disabled ones
-- count: an admin can enable them again), whoever inserts them; the count
-- is taken under a per-org transaction lock, so concurrent inserts cannot
-- both pass at nine. (The deliverer's connect timeout also fell to 5 s,
-- internal/netguard.)

-- +goose Up

set local role ward_owner;

-- +goose StatementBegin
create function app.audit_sinks_limit() returns trigger
    language plpgsql
    set search_path to ''
    as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ward.audit_sinks.' || new.org_id::text, 0));
  if (select count(*) from app.audit_sinks s where s.org_id = new.org_id) >= 10 then
    raise exception 'an org holds at most 10 audit sinks' using errcode = '54000', hint = 'sink_limit';
  end if;
  return new;
end $$;
-- +goose StatementEnd

create trigger audit_sinks_limit before insert on app.audit_sinks for each row execute function app.audit_sinks_limit();

reset role;

-- +goose Down
set local role ward_owner;
drop trigger audit_sinks_limit on app.audit_sinks;
drop function app.audit_sinks_limit();
reset role;
