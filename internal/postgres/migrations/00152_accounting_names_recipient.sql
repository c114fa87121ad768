-- The accounting of disclosures names who received them (HIPAA
-- §164.528(b)(2)(ii): "the name of the entity or person who received the
-- protected health information"). Until now each entry said only the
-- recipient's kind ("employer", "attorney"): the stakeholder's download,
-- the one disclosure Ward records, is made by the recipient, so the event's
-- actor is the person who received the document. audit.disclosure_accounting
-- now returns the actor, their role in the org and their sealed address
-- (the instance keyset's AEAD, opened by the server as the access report's
-- are), for every actor who is a member other than a patient; a patient
-- actor's address is never returned (as in the access report).
--
-- Who may ask, the window and the order are as in 00148.

-- +goose Up
set local role ward_owner;

drop function audit.disclosure_accounting(uuid, uuid);

-- +goose StatementBegin
create function audit.disclosure_accounting(p_org uuid, p_patient uuid)
returns table (seq bigint, at timestamptz, action text, recipient text, purpose text, object_type text,
               object_id uuid, case_id uuid, doc_type text, actor_id uuid, actor_role text, actor_email_enc bytea)
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
    select e.seq, e.at, e.action, e.disclosure->>'recipient', e.disclosure->>'purpose', e.object_type,
           e.object_id, e.case_id, d.doc_type, e.actor_id, m.role,
           case when m.role is distinct from 'patient' and m.role is not null then u.email_enc end
      from audit.events e
      left join app.document_versions v
             on e.object_type = 'document_version' and v.org_id = e.org_id and v.id = e.object_id
      left join app.documents d on d.org_id = v.org_id and d.id = v.document_id
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and e.patient_id = p_patient and e.outcome = 'success'
       and e.disclosure is not null and e.at >= now() - interval '6 years'
     order by e.seq;
end $$;
-- +goose StatementEnd

alter function audit.disclosure_accounting(uuid, uuid) owner to ward_definer;
revoke all on function audit.disclosure_accounting(uuid, uuid) from public;
grant execute on function audit.disclosure_accounting(uuid, uuid) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
