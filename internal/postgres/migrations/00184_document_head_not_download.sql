-- A security review (case documents, LOW): GET /v1/documents/{id}/content
-- also answers HEAD, and a GET with a matching If-None-Match is answered
-- 304; both went through app.open_document_version, which recorded a
-- document.download (a disclosure for a stakeholder) before the server
-- knew no content would leave. The patient's accounting of disclosures
-- listed downloads that never happened, and a stakeholder could inflate it
-- at will. open_document_version gains p_meta: the same permission check,
-- then a document.view event (what was read: the version's description)
-- and no storage or data key, so a caller that asks for less cannot serve
-- content without the download's event. The server asks for it on HEAD
-- and on a matching If-None-Match.

-- +goose Up
set local role ward_owner;

drop function app.open_document_version(uuid, text, text, text, text);

-- +goose StatementBegin
create function app.open_document_version(p_version uuid, p_purpose text default null,
  p_request text default null, p_ip text default null, p_ua text default null, p_meta boolean default false,
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
  -- (00174) an outside party's grant discloses, whatever the role
  select cm.kind || coalesce(': ' || cm.recipient_org, '') into stakeholder from app.case_members cm
   where cm.org_id = v.org_id and cm.case_id = v.case_id and cm.user_id = me.user_id and cm.kind <> 'staff';
  if stakeholder is not null or me.role = 'stakeholder' then
    disclosure := jsonb_build_object('recipient', coalesce(stakeholder, 'stakeholder'),
                                     'purpose', coalesce(nullif(audit.clean_text(p_purpose, 200), ''),
                                                         'case document exchange'));
  end if;
  if p_meta then
    -- Headers only (HEAD) or the client's copy is current (a matching
    -- If-None-Match): no content leaves, so this is no download. It is
    -- recorded as what it is, a read of the document's description
    -- (document.view; a disclosure to an outside party as a download
    -- would be), and no key is handed out, so the caller cannot serve
    -- content from it.
    perform audit.append_as(me.org_id, 'document.view', 'success', 'document', v.document_id,
      p_patient => c.patient_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('version', v.version, 'content', false),
      p_disclosure => disclosure, p_case => v.case_id);
    size := v.size; document_id := v.document_id; case_id := v.case_id; version := v.version;
    return;
  end if;
  perform audit.append_as(me.org_id, 'document.download', 'success', 'document_version', v.id,
    p_patient => c.patient_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('document', v.document_id, 'version', v.version),
    p_disclosure => disclosure, p_case => v.case_id);
  storage_key := v.storage_key; data_key := v.data_key; size := v.size;
  document_id := v.document_id; case_id := v.case_id; version := v.version;
end $$;
-- +goose StatementEnd

alter function app.open_document_version(uuid, text, text, text, text, boolean) owner to ward_definer;
revoke all on function app.open_document_version(uuid, text, text, text, text, boolean) from public;
grant execute on function app.open_document_version(uuid, text, text, text, text, boolean) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
