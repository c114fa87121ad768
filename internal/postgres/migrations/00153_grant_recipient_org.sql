-- A stakeholder's grant names the organisation the stakeholder acts for,
-- and a disclosure to them names it (HIPAA §164.528(b)(2)(ii): the name of
-- the entity that received the record). Until now a stakeholder's download
-- was recorded with the recipient "attorney" or "employer" and the
-- accounting added only the person (00152).
--
--   * app.case_members.recipient_org: the firm, employer, insurer or clinic
--     a stakeholder grant is for (1..180 characters, no control
--     characters), set by whoever manages the case's grants; never on a
--     staff grant. It names an organisation, not the patient: it is stored
--     as written and appears in audit events.
--   * app.open_document_version records a stakeholder's download with the
--     recipient "<kind>: <organisation>" when the grant names one (at most
--     190 characters, inside the 200 a disclosure's recipient may have),
--     the kind alone otherwise, as before.

-- +goose Up
set local role ward_owner;

alter table app.case_members add column recipient_org text
  constraint case_members_recipient_org_check check (
    recipient_org is null
    or (kind <> 'staff' and char_length(recipient_org) between 1 and 180
        and recipient_org !~ '[[:cntrl:]]' and recipient_org = btrim(recipient_org)));
grant update (recipient_org) on app.case_members to ward_app;

-- +goose StatementBegin
-- open_document_version as in 00028, naming the grant's organisation.
create or replace function app.open_document_version(p_version uuid, p_purpose text default null,
  p_request text default null, p_ip text default null, p_ua text default null,
  out storage_key text, out data_key bytea, out size bigint, out document_id uuid, out case_id uuid,
  out version int)
language plpgsql security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me record;
  v app.document_versions%rowtype;
  c app.cases%rowtype;
  d app.documents%rowtype;
  stakeholder text;
  disclosure jsonb;
begin
  select * into me from private.me();
  if me.user_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into v from app.document_versions x where x.org_id = me.org_id and x.id = p_version;
  if found then
    select * into d from app.documents x where x.org_id = v.org_id and x.id = v.document_id and x.deleted_at is null;
    select * into c from app.cases x where x.org_id = v.org_id and x.id = v.case_id;
  end if;
  if v.id is null or d.id is null or v.data_key is null
     or not (private.am_i_lead_in_org(me.org_id) or v.case_id = any (private.my_case_ids('download'))) then
    -- The raise rolls the transaction back: the caller records the refusal
    -- in its own (internal/cases).
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if me.role = 'stakeholder' then
    select cm.kind || coalesce(': ' || cm.recipient_org, '') into stakeholder from app.case_members cm
     where cm.org_id = v.org_id and cm.case_id = v.case_id and cm.user_id = me.user_id;
    disclosure := jsonb_build_object('recipient', coalesce(stakeholder, 'stakeholder'),
                                     'purpose', coalesce(nullif(audit.clean_text(p_purpose, 200), ''),
                                                         'case document exchange'));
  end if;
  perform audit.append_as(me.org_id, 'document.download', 'success', 'document_version', v.id,
    p_patient => c.patient_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('document', v.document_id, 'version', v.version),
    p_disclosure => disclosure, p_case => v.case_id);
  storage_key := v.storage_key; data_key := v.data_key; size := v.size;
  document_id := v.document_id; case_id := v.case_id; version := v.version;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
