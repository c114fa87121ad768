-- Two holes in document retention, found by an outside review
-- (docs/retention.md):
--
-- 1. A shortened policy took effect at once. An admin with a fresh second
--    factor (or whoever holds one admin session that just stepped up) set a
--    type to 1 day and the next purge, a minute later, deleted and shredded
--    every document of the type no legal hold covered. Now a shortening
--    takes effect only after a fixed notice period, as records-management
--    systems do:
--
--     * private.retention_notice(): 30 days, an instance constant. Nobody
--       passes it: neither the setter nor the purge takes it from a caller.
--     * app.document_retention gains pending_days and effective_at. A row's
--       rule in force is pending_days once effective_at has passed, else
--       retain_days (null: the type is kept for ever, a type just added).
--       Every reader (the purge, the dry run, the version, the compliance
--       facts, GET /v1/org/retention-policy) applies that one expression to
--       now(): nothing has to move the pending rule at its time.
--     * app.set_document_retention: for each type of the new policy, days at
--       least those in force replace them at once and drop any pending
--       change (keeping longer is always safe; the same days as in force
--       cancel a pending shortening). Fewer days, or a type not in force (a
--       type not named is kept for ever, so adding one shortens it), become
--       the pending rule, effective now() + the notice; the rule in force
--       stays until then. A type left out is removed at once (kept for
--       ever). The same pending days again keep their effective time (saving
--       the same policy does not restart the clock); days between the pending
--       ones and those in force keep it too (they purge less than what
--       was noticed); fewer days than pending restart it from this call.
--       The event records the rules in force before and after (old, new),
--       the pending changes before and after with their effective times
--       (old_pending, pending) and notice_days.
--     * app.document_retention_tag: the version covers the pending changes
--       ("type days" lines are unchanged for a type with none, so a policy
--       with nothing pending keeps its version across this migration).
--
-- 2. A purge while a patient exercises the right of access (HIPAA
--    §164.524) or of amendment (§164.526) destroyed what they asked for.
--    The purge now keeps every document of a patient who has an open
--    request of kind access or amendment in app.dsr_requests (status open,
--    whether extended or not; the request names the patient). Accounting of
--    disclosures (§164.528) is made from the audit log, which this purge
--    does not touch (and the purge records a document.purge event, so the
--    accounting still sees every disclosure): it keeps nothing here. A
--    CCPA request about a patient is not a HIPAA right over PHI (PHI is
--    outside the CCPA) and keeps nothing either.
--     * A request filed while its org is being purged is not missed: filing
--       an access or amendment request takes the org's legal-hold lock,
--       shared (trigger dsr_retention_serialise), as a user's deletion does
--       (00235); the purge takes it exclusively before it reads the holds
--       and requests, so a request committed first is seen and one filed
--       during the purge of its org waits for that purge to commit.
--
-- The purge is otherwise 00248's (the same batches, index scan, locks,
-- events and shredding; the event's retain_days is the rule in force).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.retention_notice() returns interval
language sql immutable
set search_path to ''
as $$
  select interval '30 days'
$$;
-- +goose StatementEnd
revoke all on function private.retention_notice() from public;
grant execute on function private.retention_notice() to ward_definer;

alter table app.document_retention alter column retain_days drop not null;
alter table app.document_retention
  add column pending_days integer check (pending_days between 1 and 36500),
  add column effective_at timestamptz,
  add constraint document_retention_pending check (
    (pending_days is null) = (effective_at is null)
    and (retain_days is not null or pending_days is not null)
    and (pending_days is null or retain_days is null or pending_days < retain_days));

-- +goose StatementBegin
create or replace function app.document_retention_tag(p_org uuid) returns text
language sql stable
set search_path to ''
as $$
  select encode(sha256(convert_to(coalesce(string_agg(
           r.doc_type || ' ' || coalesce(r.days::text, '-')
             || coalesce(' pending ' || r.pend::text || ' ' || extract(epoch from r.pend_at)::text, ''),
           E'\n' order by r.doc_type collate "C"), ''), 'UTF8')), 'hex')
    from (select x.doc_type,
                 case when x.effective_at <= now() then x.pending_days else x.retain_days end as days,
                 case when x.effective_at > now() then x.pending_days end as pend,
                 case when x.effective_at > now() then x.effective_at end as pend_at
            from app.document_retention x where x.org_id = p_org) r
$$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.set_document_retention(p_policy jsonb, p_request text default null, p_if_match text[] default null)
returns void
language plpgsql volatile security definer
set search_path to ''
as $$
declare
  me record;
  cur jsonb;
  old jsonb;
  old_pending jsonb;
  new jsonb;
  pending jsonb;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_policy is null or jsonb_typeof(p_policy) <> 'object' then
    raise exception 'a retention policy is an object of document type to days' using errcode = '22023';
  end if;
  if (select count(*) from jsonb_object_keys(p_policy)) > 100 then
    raise exception 'a retention policy names at most 100 document types' using errcode = '22023';
  end if;
  if exists (select from jsonb_each(p_policy) e
              where e.key !~ '^[a-z][a-z0-9_]{0,47}$'
                 or jsonb_typeof(e.value) <> 'number'
                 or (e.value #>> '{}') !~ '^[0-9]{1,5}$'
                 or (e.value #>> '{}')::int not between 1 and 36500) then
    raise exception 'document types are lower-case names; days are whole numbers from 1 to 36500'
      using errcode = '22023';
  end if;
  -- One change of an org's policy at a time (the old value recorded is
  -- the one replaced, and the version a caller named is compared with the
  -- one it would replace).
  perform from app.orgs o where o.id = me.org_id for update;
  if p_if_match is not null and not (app.document_retention_tag(me.org_id) = any (p_if_match)) then
    raise exception 'precondition failed: the retention policy changed since the version named'
      using errcode = 'P0001', hint = 'stale_retention_policy';
  end if;
  -- The rules in force now and the changes still pending, per type.
  select coalesce(jsonb_object_agg(r.doc_type, jsonb_build_object('days', r.days, 'pend', r.pend, 'pend_at', r.pend_at)), '{}'),
         coalesce(jsonb_object_agg(r.doc_type, r.days) filter (where r.days is not null), '{}'),
         coalesce(jsonb_object_agg(r.doc_type, jsonb_build_object('retain_days', r.pend, 'effective_at', r.pend_at))
                    filter (where r.pend is not null), '{}')
    into cur, old, old_pending
    from (select x.doc_type,
                 case when x.effective_at <= now() then x.pending_days else x.retain_days end as days,
                 case when x.effective_at > now() then x.pending_days end as pend,
                 case when x.effective_at > now() then x.effective_at end as pend_at
            from app.document_retention x where x.org_id = me.org_id) r;
  delete from app.document_retention r where r.org_id = me.org_id;
  insert into app.document_retention (org_id, doc_type, retain_days, pending_days, effective_at, updated_by)
  select me.org_id, w.doc_type,
         case when c.days is not null and w.days >= c.days then w.days else c.days end,
         case when c.days is not null and w.days >= c.days then null else w.days end,
         case when c.days is not null and w.days >= c.days then null
              when c.pend is not null and w.days >= c.pend then c.pend_at
              else now() + private.retention_notice() end,
         me.user_id
    from (select e.key as doc_type, (e.value #>> '{}')::int as days from jsonb_each(p_policy) e) w
    left join lateral (select (cur -> w.doc_type ->> 'days')::int as days,
                              (cur -> w.doc_type ->> 'pend')::int as pend,
                              (cur -> w.doc_type ->> 'pend_at')::timestamptz as pend_at) c on true;
  select coalesce(jsonb_object_agg(r.doc_type, r.retain_days) filter (where r.retain_days is not null), '{}'),
         coalesce(jsonb_object_agg(r.doc_type, jsonb_build_object('retain_days', r.pending_days, 'effective_at', r.effective_at))
                    filter (where r.pending_days is not null), '{}')
    into new, pending
    from app.document_retention r where r.org_id = me.org_id;
  perform audit.append_as(me.org_id, 'org.retention_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('old', old, 'new', new, 'old_pending', old_pending,
      'pending', pending, 'notice_days', extract(day from private.retention_notice())::int));
end $$;
-- +goose StatementEnd
alter function app.set_document_retention(jsonb, text, text[]) owner to ward_definer;
revoke all on function app.set_document_retention(jsonb, text, text[]) from public;
grant execute on function app.set_document_retention(jsonb, text, text[]) to ward_app;

-- +goose StatementBegin
create or replace function app.purge_expired_documents(p_max integer default 100)
returns table (org_id uuid, document_id uuid, storage_keys text[])
language plpgsql volatile security definer
set search_path to ''
as $$
declare
  cap int := least(greatest(coalesce(p_max, 100), 1), 1000);
  n int := 0;
  o uuid;
  t record;
  cutoff timestamptz;
  d record;
  keys text[];
begin
  for o in select distinct r.org_id from app.document_retention r order by r.org_id loop
    exit when n >= cap;
    perform private.legal_hold_lock(o);
    if exists (select from app.legal_holds h where h.org_id = o and h.released_at is null
                  and h.patient_id is null and h.case_id is null) then
      continue; -- the whole org is held
    end if;
    -- The rule in force per type: the pending one once its time has come.
    for t in select r.doc_type, r.days as retain_days, r.updated_by
               from (select x.doc_type, x.updated_by,
                            case when x.effective_at <= now() then x.pending_days else x.retain_days end as days
                       from app.document_retention x where x.org_id = o) r
              where r.days is not null order by r.doc_type loop
      exit when n >= cap;
      cutoff := now() - make_interval(days => t.retain_days);
      for d in
        select x.id, x.case_id, c.patient_id
          from app.documents x
          join app.cases c on c.org_id = x.org_id and c.id = x.case_id
         where x.org_id = o and x.doc_type = t.doc_type and x.deleted_at is null
           and x.created_at < cutoff
           and (x.due_at is null or x.due_at < cutoff)
           and not exists (select from app.document_versions v
                            where v.org_id = x.org_id and v.document_id = x.id and v.created_at >= cutoff)
           and not exists (select from app.legal_holds h
                            where h.org_id = x.org_id and h.released_at is null
                              and (h.patient_id = c.patient_id or h.case_id = x.case_id))
           and not exists (select from app.dsr_requests q
                            where q.org_id = x.org_id and q.patient_id = c.patient_id and q.status = 'open'
                              and q.kind in ('access', 'amendment'))
         order by x.created_at, x.id
         limit cap - n
         for update of x skip locked
      loop
        perform audit.append_as(o, 'document.purge', 'success', 'document', d.id,
          p_patient => d.patient_id, p_case => d.case_id, p_actor => t.updated_by,
          p_details => jsonb_build_object('doc_type', t.doc_type, 'retain_days', t.retain_days));
        update app.documents x set deleted_at = now() where x.org_id = o and x.id = d.id;
        with shredded as (
          update app.document_versions v set data_key = null
           where v.org_id = o and v.document_id = d.id returning v.storage_key)
        select coalesce(array_agg(s.storage_key order by s.storage_key), '{}') into keys from shredded s;
        org_id := o; document_id := d.id; storage_keys := keys;
        return next;
        n := n + 1;
      end loop;
    end loop;
  end loop;
end $$;
-- +goose StatementEnd
alter function app.purge_expired_documents(integer) owner to ward_definer;
revoke all on function app.purge_expired_documents(integer) from public;
grant execute on function app.purge_expired_documents(integer) to ward_ops;

-- +goose StatementBegin
create function app.dsr_retention_serialise() returns trigger
language plpgsql security definer
set search_path to ''
as $$
begin
  if new.patient_id is not null and new.kind in ('access', 'amendment') then
    perform private.legal_hold_lock_shared(new.org_id);
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.dsr_retention_serialise() owner to ward_definer;
revoke all on function app.dsr_retention_serialise() from public;
create trigger dsr_retention_serialise before insert on app.dsr_requests
  for each row execute function app.dsr_retention_serialise();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
