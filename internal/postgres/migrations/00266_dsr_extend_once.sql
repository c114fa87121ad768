-- A data-subject request is extended once (00149), but extending it again
-- with the reason it was extended for was answered 200 and recorded as a
-- second dsr.extend success: private.dsr_guard refused a second extension
-- only when its reason differed from the first, and an update that set the
-- same reason changed nothing it looked at (the due date stayed; the audit
-- log and the caller were told otherwise). Twenty concurrent extensions of
-- one request recorded seven (an attacker's review, LOW). The guard now
-- refuses an update of an extended, open request that changes neither its
-- reason nor its status. Otherwise the function is 00265's.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function private.dsr_guard() returns trigger
    language plpgsql
    set search_path = ''
    set "TimeZone" = 'UTC'
    as $$
declare
  amendment text;
begin
  if tg_op = 'INSERT' then
    new.received_at := now();
    new.due_at := now() + private.dsr_period(new.kind, false);
    new.status := 'open';
    new.extended_at := null; new.extended_by := null; new.extension_reason := null;
    new.closed_at := null; new.closed_by := null;
    -- (00174) at most 5 open requests of a kind per requester, unless an
    -- admin (or an admin's key) files them: the queue's deadlines and its
    -- reminders are the practice's, not a member's to flood. (00265) The
    -- requester's requests of the kind are counted under a lock held until
    -- commit: concurrent requests counted the same four and all went in.
    if not coalesce(private.get_my_role() = 'admin', false) then
      perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
        'ward.dsr_open.' || new.org_id::text || '.' || new.requested_by::text || '.' || new.kind, 0));
    end if;
    if not coalesce(private.get_my_role() = 'admin', false)
       and (select count(*) from app.dsr_requests r
             where r.org_id = new.org_id and r.requested_by = new.requested_by and r.kind = new.kind
               and r.status = 'open') >= 5 then
      raise exception 'you have 5 open requests of this kind: the practice answers them before you file another'
        using errcode = '55000';
    end if;
    return new;
  end if;
  if old.status <> 'open' then
    raise exception 'this request is closed' using errcode = '55000';
  end if;
  -- (00266) the same reason again changes nothing: it is a second
  -- extension, refused as one, not an update that succeeds (and is
  -- recorded as dsr.extend) while the due date stays where it was.
  if old.extension_reason is not null and new.extension_reason is not distinct from old.extension_reason
     and new.status = old.status then
    raise exception 'a request is extended once' using errcode = '55000';
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
