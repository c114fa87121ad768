-- An attacker's review of cases and data-subject requests (2026-12-06)
-- found:
--
-- 1. Whether a read of a case is a disclosure (§164.528's accounting) was
--    decided by the reader's membership role, not by the grant they read
--    it through. An invitation keeps a live member's role, so a patient of
--    the clinic (or a member of its staff) invited as a case's attorney,
--    employer, payer or outside clinic read and downloaded another
--    patient's documents as that party, and the accounting of disclosures
--    showed nothing (the access report did). Now audit.append_event and
--    app.open_document_version record the disclosure whenever the reader
--    holds a grant of an outside party's kind on the case (any kind but
--    'staff'), as well as for a stakeholder member.
-- 2. Any member could file data-subject requests without end, each with a
--    legal deadline, pushing real requests out of the queue's first page
--    and mailing every admin twice per request. Now a member who is not an
--    admin (nor an admin's API key) holds at most 5 open requests of one
--    kind (amendment requests included); the sixth is refused with 55000
--    until one is answered.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
do $$
declare
  f text;
  def text;
  was text;
  edits text[][] := array[
    array['audit.append_event',
'  if me.role = ''stakeholder'' and p_outcome = ''success'' and kase is not null and disclosure is null then
    if a.stakeholder_disclosure then
      select cm.kind || coalesce('': '' || cm.recipient_org, '''') into stakeholder from app.case_members cm
       where cm.org_id = p_org and cm.case_id = kase and cm.user_id = me.user_id;
      disclosure := jsonb_build_object(''recipient'', coalesce(stakeholder, ''stakeholder''),
                                       ''purpose'', ''case document exchange'');
      patient := coalesce(patient, kase_patient);
    end if;
  end if;',
'  -- (00174) Whoever reads through an outside party''s grant on the case
  -- (any kind but staff) discloses, whatever their membership role: a
  -- patient or staff member invited as an attorney reads as the attorney.
  if p_outcome = ''success'' and kase is not null and disclosure is null and a.stakeholder_disclosure
     and me.user_id is not null then
    select cm.kind || coalesce('': '' || cm.recipient_org, '''') into stakeholder from app.case_members cm
     where cm.org_id = p_org and cm.case_id = kase and cm.user_id = me.user_id and cm.kind <> ''staff'';
    if stakeholder is not null or me.role = ''stakeholder'' then
      disclosure := jsonb_build_object(''recipient'', coalesce(stakeholder, ''stakeholder''),
                                       ''purpose'', ''case document exchange'');
      patient := coalesce(patient, kase_patient);
    end if;
  end if;'],
    array['app.open_document_version',
'  if me.role = ''stakeholder'' then
    select cm.kind || coalesce('': '' || cm.recipient_org, '''') into stakeholder from app.case_members cm
     where cm.org_id = v.org_id and cm.case_id = v.case_id and cm.user_id = me.user_id;
    disclosure',
'  -- (00174) an outside party''s grant discloses, whatever the role
  select cm.kind || coalesce('': '' || cm.recipient_org, '''') into stakeholder from app.case_members cm
   where cm.org_id = v.org_id and cm.case_id = v.case_id and cm.user_id = me.user_id and cm.kind <> ''staff'';
  if stakeholder is not null or me.role = ''stakeholder'' then
    disclosure'],
    array['private.dsr_guard',
'    new.closed_at := null; new.closed_by := null;
    return new;
  end if;',
'    new.closed_at := null; new.closed_by := null;
    -- (00174) at most 5 open requests of a kind per requester, unless an
    -- admin (or an admin''s key) files them: the queue''s deadlines and its
    -- reminders are the practice''s, not a member''s to flood.
    if not coalesce(private.get_my_role() = ''admin'', false)
       and (select count(*) from app.dsr_requests r
             where r.org_id = new.org_id and r.requested_by = new.requested_by and r.kind = new.kind
               and r.status = ''open'') >= 5 then
      raise exception ''you have 5 open requests of this kind: the practice answers them before you file another''
        using errcode = ''55000'';
    end if;
    return new;
  end if;']
  ];
begin
  for i in 1 .. array_length(edits, 1) loop
    f := edits[i][1];
    select pg_get_functiondef(p.oid) into def
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname || '.' || p.proname = f;
    was := def;
    def := replace(def, edits[i][2], edits[i][3]);
    if def = was then
      raise exception '00174: % does not hold the text to change (edit %)', f, i;
    end if;
    execute def;
  end loop;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
