-- The access report names who looked: the actor's role in the org and, for
-- staff (and for the patient themself), their address (instance-AEAD
-- ciphertext, opened by the server). Another patient's identity never
-- appears: a patient actor other than the caller is shown by role only.

-- +goose Up
set local role ward_owner;

drop function audit.access_report(uuid, uuid);

-- +goose StatementBegin
create function audit.access_report(p_org uuid, p_patient uuid)
returns table (seq bigint, at timestamptz, actor_id uuid, actor_kind text, action text, outcome text, listed boolean,
               actor_role text, actor_email_enc bytea)
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not (me.role = 'admin' or (me.role = 'patient' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query
    select e.seq, e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
           m.role,
           case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
      from audit.events e
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient])
     order by e.seq;
end $$;
-- +goose StatementEnd

alter function audit.access_report(uuid, uuid) owner to ward_definer;
revoke all on function audit.access_report(uuid, uuid) from public;
grant execute on function audit.access_report(uuid, uuid) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
