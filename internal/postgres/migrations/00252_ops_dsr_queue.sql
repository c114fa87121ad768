-- The operator's view of the data-subject request queue (`ward dsr status`,
-- docs/dsr.md). Each org's admins work their queue through the API and are
-- reminded of due and overdue requests by mail (app.dsr_due_reminders); the
-- operator, who answers for the instance, sees across orgs which requests
-- are open, when each is due and which are late, without any PHI: ids,
-- kinds, dates and whether an extension was taken, never the patient, the
-- subject, the requester or a reason. For ward_ops only; refused with a
-- bound credential (an app session has no business here). p_org narrows to
-- one org; p_limit is clamped to 1..10,000 rows, earliest due first.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.ops_dsr_queue(p_org uuid default null, p_limit integer default 1000)
returns table (org_id uuid, id uuid, kind text, received_at timestamptz, due_at timestamptz, extended boolean)
language plpgsql security definer
set search_path to ''
as $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_dsr_queue: the operator''s view takes no credential' using errcode = '42501';
  end if;
  return query
    select d.org_id, d.id, d.kind, d.received_at, d.due_at, d.extended_at is not null
      from app.dsr_requests d
     where d.status = 'open' and (p_org is null or d.org_id = p_org)
     order by d.due_at, d.org_id, d.id
     limit least(greatest(coalesce(p_limit, 1000), 1), 10000);
end $$;
-- +goose StatementEnd

alter function app.ops_dsr_queue(uuid, integer) owner to ward_definer;
revoke all on function app.ops_dsr_queue(uuid, integer) from public;
grant execute on function app.ops_dsr_queue(uuid, integer) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
