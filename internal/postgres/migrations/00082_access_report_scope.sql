-- The access report holds an API key to its scopes (issue 8 §9). Until now
-- audit.access_report admitted any credential whose role was admin, and an
-- admin API key resolves to the admin role: a key scoped to `gateway` or
-- `members` could read a patient's accounting of disclosures (with the
-- actors' sealed addresses) through a server bug, although only the route
-- kept it out. Now an API key reads it only when it holds `dsr` (the
-- accounting of disclosures is a data-subject request); an admin's session
-- as before, and a patient's session for their own record.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- access_report as in 00010, except that an API key must hold the dsr
-- scope, and a patient must be a session.
create or replace function audit.access_report(p_org uuid, p_patient uuid)
returns table (seq bigint, at timestamptz, actor_id uuid, actor_kind text, action text, outcome text, listed boolean,
               actor_role text, actor_email_enc bytea)
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
