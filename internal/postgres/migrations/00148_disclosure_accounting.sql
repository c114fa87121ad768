-- The accounting of disclosures of HIPAA §164.528 (DESIGN §8): for one
-- patient, every disclosure of their record outside the covered entity in
-- the six years before the request, each with its date, recipient,
-- purpose and what was disclosed.
--
-- audit.disclosure_accounting(p_org, p_patient) reads the org's log: the
-- successful events that carry a disclosure (a stakeholder's document
-- download, app.open_document_version) and name the patient. Who may ask
-- is the access report's rule: an admin of the org (a session, or an API
-- key holding the dsr scope), or the patient themself by session. The
-- window is fixed here (six years back from now), not the caller's; what
-- was disclosed is named by kind (the document's type slug, the object's
-- id, the case), never by content. Each accounting given is itself an
-- audit event (patient.disclosure_accounting) written by the server in the
-- same transaction.

-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('patient.disclosure_accounting', 'patient', true, false, false, '{patient}');
alter table audit.actions force row level security;

grant select (org_id, id, document_id) on app.document_versions to ward_definer;
grant select (org_id, id, doc_type) on app.documents to ward_definer;

-- +goose StatementBegin
create function audit.disclosure_accounting(p_org uuid, p_patient uuid)
returns table (seq bigint, at timestamptz, action text, recipient text, purpose text, object_type text,
               object_id uuid, case_id uuid, doc_type text)
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
           e.object_id, e.case_id, d.doc_type
      from audit.events e
      left join app.document_versions v
             on e.object_type = 'document_version' and v.org_id = e.org_id and v.id = e.object_id
      left join app.documents d on d.org_id = v.org_id and d.id = v.document_id
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
set local role ward_owner;
drop function audit.disclosure_accounting(uuid, uuid);
alter table audit.actions no force row level security;
delete from audit.actions where name = 'patient.disclosure_accounting';
alter table audit.actions force row level security;
reset role;
