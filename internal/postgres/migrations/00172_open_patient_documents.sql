-- +goose Up
-- The right-of-access export's files (docs/dsr.md): one statement opens
-- every version of every live document of a patient's cases that the
-- caller may download, and records each download, where the export used
-- to open them one by one under a savepoint each (a subtransaction per
-- file, three round trips each).
set local role ward_owner;

-- +goose StatementBegin
-- open_patient_documents hands out, for the patient's record-set export,
-- the storage key and wrapped data key of each version of each live
-- document of p_patient's cases that the credential may download (an
-- admin: all of them; the patient: their own cases, as
-- app.open_document_version decides), oldest case, document and version
-- first, and appends a document.download event for each first (details
-- via patient.export). Only a session of an admin or of a patient calls
-- it (the export's rule), a patient only for their own record; more than
-- 10,000 versions are refused (54000)
-- rather than cut short. A version the credential may not download is
-- not returned.
create function app.open_patient_documents(p_patient uuid, p_request text default null, p_ip text default null,
                                           p_ua text default null)
returns table (version_id uuid, storage_key text, data_key bytea)
language plpgsql security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me record;
  lead boolean;
  mine uuid[];
  n int;
  v record;
begin
  select * into me from private.me();
  if me.user_id is null or me.kind is distinct from 'session' or me.role is null or me.role not in ('admin', 'patient')
     or (me.role = 'patient' and not p_patient = any (private.my_patient_ids())) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  lead := private.am_i_lead_in_org(me.org_id);
  mine := private.my_case_ids('download');
  select count(*) into n
    from app.cases c
    join app.documents d on d.org_id = c.org_id and d.case_id = c.id and d.deleted_at is null
    join app.document_versions x on x.org_id = d.org_id and x.document_id = d.id and x.data_key is not null
   where c.org_id = me.org_id and c.patient_id = p_patient and (lead or c.id = any (mine));
  if n > 10000 then
    raise exception 'more than 10,000 files' using errcode = '54000';
  end if;
  for v in
    select x.id, x.storage_key, x.data_key, x.document_id, x.case_id, x.version
      from app.cases c
      join app.documents d on d.org_id = c.org_id and d.case_id = c.id and d.deleted_at is null
      join app.document_versions x on x.org_id = d.org_id and x.document_id = d.id and x.data_key is not null
     where c.org_id = me.org_id and c.patient_id = p_patient and (lead or c.id = any (mine))
     order by c.created_at, c.id, d.created_at, d.id, x.version
  loop
    perform audit.append_as(me.org_id, 'document.download', 'success', 'document_version', v.id,
      p_patient => p_patient, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('document', v.document_id, 'version', v.version, 'via', 'patient.export'),
      p_case => v.case_id);
    version_id := v.id; storage_key := v.storage_key; data_key := v.data_key;
    return next;
  end loop;
end $$;
-- +goose StatementEnd
alter function app.open_patient_documents(uuid, text, text, text) owner to ward_definer;
revoke all on function app.open_patient_documents(uuid, text, text, text) from public;
grant execute on function app.open_patient_documents(uuid, text, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
