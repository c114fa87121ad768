-- A review of 00157 found three things:
--
--   * The queue entry of an amendment request could be closed as fulfilled
--     or denied by hand (POST /v1/compliance/dsr/{id}/close, or an admin
--     API key with the dsr scope), leaving the amendment undecided for good:
--     the queue said fulfilled or denied with no decision, basis or
--     explanation on record, and the patient could never state
--     disagreement. private.dsr_guard now refuses that: the queue entry of
--     an amendment request closes as fulfilled or denied only with the
--     request's own decision (accepted, or denied), and is closed by hand
--     only as withdrawn. The decision closes it from an AFTER trigger
--     (private.record_amendment_close), so that the queue sees the row as
--     decided; private.dsr_amendment_status reads the linked request's
--     status whatever the caller may read (an API key reads no patient
--     row), for a caller who may close requests in that org.
--   * The guard's admin test was null, not false, for a caller with no
--     role; only a check constraint stopped such a decision. It is false.
--   * A decision on a request whose queue entry is closed said withdrawn
--     whatever the entry's status; it names the status.

-- +goose Up
set local role ward_owner;

grant select (org_id, dsr_id, status) on app.record_amendments to ward_rls;

-- +goose StatementBegin
-- dsr_amendment_status: the status of the amendment request filed with
-- queue entry p_dsr of org p_org (null when there is none), for a caller
-- who may close requests of that org (an admin by session, or an admin key
-- with the dsr scope); null for anyone else.
create function private.dsr_amendment_status(p_org uuid, p_dsr uuid) returns text
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_org is distinct from private.get_my_org_id() or private.get_my_role() is distinct from 'admin'
     or (private.is_key() and not private.key_holds('dsr')) then
    return null;
  end if;
  return (select a.status from app.record_amendments a where a.org_id = p_org and a.dsr_id = p_dsr);
end $$;
-- +goose StatementEnd
alter function private.dsr_amendment_status(uuid, uuid) owner to ward_rls;
revoke all on function private.dsr_amendment_status(uuid, uuid) from public;
grant execute on function private.dsr_amendment_status(uuid, uuid) to ward_app;

-- +goose StatementBegin
-- dsr_guard as in 00149, and the queue entry of an amendment request
-- closes as fulfilled or denied only with that request decided so.
create or replace function private.dsr_guard() returns trigger
language plpgsql set search_path = '' set timezone = 'UTC' as $$
declare
  amendment text;
begin
  if tg_op = 'INSERT' then
    new.received_at := now();
    new.due_at := now() + private.dsr_period(new.kind, false);
    new.status := 'open';
    new.extended_at := null; new.extended_by := null; new.extension_reason := null;
    new.closed_at := null; new.closed_by := null;
    return new;
  end if;
  if old.status <> 'open' then
    raise exception 'this request is closed' using errcode = '55000';
  end if;
  if (new.org_id, new.id, new.kind, new.patient_id, new.subject_user_id, new.requested_by, new.received_at)
     is distinct from (old.org_id, old.id, old.kind, old.patient_id, old.subject_user_id, old.requested_by, old.received_at) then
    raise exception 'a request''s kind, subject, requester and receipt never change' using errcode = '42501';
  end if;
  if new.extension_reason is distinct from old.extension_reason then
    if old.extension_reason is not null or new.extension_reason is null then
      raise exception 'a request is extended once' using errcode = '55000';
    end if;
    if private.dsr_period(old.kind, true) = interval '0' then
      raise exception 'a request of this kind cannot be extended' using errcode = '55000';
    end if;
    if statement_timestamp() > old.due_at then
      raise exception 'the request is past due: an extension is given before the first period ends' using errcode = '55000';
    end if;
    new.extended_at := now();
    new.extended_by := private.uid();
    new.due_at := old.due_at + private.dsr_period(old.kind, true);
  else
    new.extended_at := old.extended_at; new.extended_by := old.extended_by; new.due_at := old.due_at;
  end if;
  if new.status in ('fulfilled', 'denied') and old.kind = 'amendment' then
    amendment := private.dsr_amendment_status(old.org_id, old.id);
    if amendment is not null
       and amendment is distinct from (case new.status when 'fulfilled' then 'accepted' else 'denied' end) then
      raise exception 'an amendment request closes with its decision (or is withdrawn)' using errcode = '55000';
    end if;
  end if;
  if new.status <> 'open' then
    new.closed_at := now();
    new.closed_by := private.uid();
  else
    new.closed_at := null; new.closed_by := null;
  end if;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- record_amendment_guard: the clock, the actors and the order of the steps.
-- It runs as the caller, so its reads and its queue writes pass the
-- caller's row-level security too.
create or replace function private.record_amendment_guard() returns trigger
language plpgsql set search_path = '' as $$
declare
  -- false, never null, for a caller with no role (no credential, a
  -- pending session, the superuser).
  admin boolean := coalesce(private.get_my_role() = 'admin' and not private.is_key(), false);
  queue text;
begin
  if tg_op = 'INSERT' then
    new.requested_at := now();
    new.status := 'requested';
    new.denial_basis := null; new.decision_enc := null; new.decided_by := null; new.decided_at := null;
    new.disagreement_enc := null; new.disagreement_at := null;
    new.rebuttal_enc := null; new.rebuttal_by := null; new.rebuttal_at := null;
    if new.entry_id is not null and not exists (
         select from app.clinical_entries e
          where e.org_id = new.org_id and e.id = new.entry_id and e.patient_id = new.patient_id) then
      raise exception 'the entry is not in this record' using errcode = '23503';
    end if;
    -- The queue entry with the deadline, filed as the same requester
    -- (the queue checks who may file it).
    insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at)
    values (new.org_id, 'amendment', new.patient_id, new.requested_by, now())
    returning id into new.dsr_id;
    return new;
  end if;
  if (new.org_id, new.id, new.patient_id, new.entry_id, new.dsr_id, new.request_enc, new.requested_by, new.requested_at)
     is distinct from (old.org_id, old.id, old.patient_id, old.entry_id, old.dsr_id, old.request_enc, old.requested_by,
                       old.requested_at) then
    raise exception 'a request, its record and its requester never change' using errcode = '42501';
  end if;
  if old.status = 'requested' then
    if new.status = 'requested' then
      raise exception 'a request is decided before anything else is added to it' using errcode = '55000';
    end if;
    if not admin then
      raise exception 'an admin decides an amendment request' using errcode = '42501';
    end if;
    new.decided_by := private.uid();
    new.decided_at := now();
    new.disagreement_enc := null; new.disagreement_at := null;
    new.rebuttal_enc := null; new.rebuttal_by := null; new.rebuttal_at := null;
    -- The queue entry closes after the row is written
    -- (record_amendment_close), so that the queue sees the decision.
    select d.status into queue from app.dsr_requests d where d.org_id = new.org_id and d.id = new.dsr_id;
    if queue is distinct from 'open' then
      raise exception 'the request is % in the data-subject queue: there is nothing to decide', coalesce(queue, 'not visible')
        using errcode = '55000';
    end if;
    return new;
  end if;
  if (new.status, new.denial_basis, new.decision_enc, new.decided_by, new.decided_at)
     is distinct from (old.status, old.denial_basis, old.decision_enc, old.decided_by, old.decided_at) then
    raise exception 'a decision is final' using errcode = '55000';
  end if;
  if new.disagreement_enc is distinct from old.disagreement_enc then
    if old.status <> 'denied' or old.disagreement_enc is not null or new.disagreement_enc is null then
      raise exception 'a statement of disagreement follows a denial, once' using errcode = '55000';
    end if;
    if private.get_my_role() is distinct from 'patient' or not (new.patient_id = any (private.my_patient_ids())) then
      raise exception 'the patient states their disagreement' using errcode = '42501';
    end if;
    new.disagreement_at := now();
  else
    new.disagreement_at := old.disagreement_at;
  end if;
  if new.rebuttal_enc is distinct from old.rebuttal_enc then
    if old.disagreement_enc is null or old.rebuttal_enc is not null or new.rebuttal_enc is null then
      raise exception 'a rebuttal answers a statement of disagreement, once' using errcode = '55000';
    end if;
    if not admin then
      raise exception 'an admin writes the rebuttal' using errcode = '42501';
    end if;
    new.rebuttal_by := private.uid();
    new.rebuttal_at := now();
  else
    new.rebuttal_by := old.rebuttal_by; new.rebuttal_at := old.rebuttal_at;
  end if;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- record_amendment_close: a decision closes the request's queue entry
-- (fulfilled or denied), once the decided row is written.
create function private.record_amendment_close() returns trigger
language plpgsql set search_path = '' as $$
begin
  update app.dsr_requests d set status = case new.status when 'accepted' then 'fulfilled' else 'denied' end
   where d.org_id = new.org_id and d.id = new.dsr_id and d.status = 'open';
  if not found then
    raise exception 'the request is closed in the data-subject queue: there is nothing to decide' using errcode = '55000';
  end if;
  return null;
end $$;
-- +goose StatementEnd
revoke all on function private.record_amendment_close() from public;

create trigger record_amendment_close after update on app.record_amendments
  for each row when (old.status = 'requested' and new.status <> 'requested')
  execute function private.record_amendment_close();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
