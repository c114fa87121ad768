-- A lead or admin may not delete a document of a patient whose access or
-- amendment request is open (docs/dsr.md): the retention purge keeps such
-- documents since 00238/00256, so what the patient asked for is not
-- destroyed meanwhile, but app.delete_document, a person's deletion by
-- hand, did not look, and the right of access could be answered by
-- deleting what it asked for. It now refuses (55000, hint open_requests;
-- the server answers 409 and records the refusal) until the request is
-- closed. Otherwise the function is 00235's.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.delete_document(p_document uuid, p_request text default null) returns setof text
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
  d app.documents%rowtype;
  c app.cases%rowtype;
begin
  select * into me from private.me();
  if me.user_id is null or not private.am_i_lead_in_org(me.org_id) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(me.org_id);
  select * into d from app.documents x where x.org_id = me.org_id and x.id = p_document and x.deleted_at is null
    for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  select * into c from app.cases x where x.org_id = d.org_id and x.id = d.case_id;
  if exists (select from app.legal_holds h where h.org_id = d.org_id and h.released_at is null
               and ((h.patient_id is null and h.case_id is null) or h.patient_id = c.patient_id
                    or h.case_id = c.id)) then
    raise exception 'legal hold' using errcode = '55000'; -- the caller records the refusal
  end if;
  if c.patient_id is not null and exists (
       select from app.dsr_requests q
        where q.org_id = d.org_id and q.patient_id = c.patient_id and q.status = 'open'
          and q.kind in ('access', 'amendment')) then
    raise exception 'an access or amendment request of the document''s patient is open' using errcode = '55000',
      hint = 'open_requests'; -- the caller records the refusal
  end if;
  perform audit.append_as(me.org_id, 'document.delete', 'success', 'document', d.id,
    p_patient => c.patient_id, p_request => p_request, p_case => d.case_id);
  update app.documents x set deleted_at = now() where x.org_id = d.org_id and x.id = d.id;
  return query update app.document_versions x set data_key = null
                where x.org_id = d.org_id and x.document_id = d.id returning x.storage_key;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
