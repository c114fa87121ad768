-- Every legacy patient gets a keyset of their own (the per-patient tier of
-- 00275), so that any patient can be crypto-shredded alone. A patient
-- created before 00275 has app.patients.keyset null: their record's sealed
-- fields are under the org's AEAD keyset, and app.patient_shred refuses
-- them (patient_not_keyed). The database holds no key, so the server
-- (`ward migrate` after the migrations, and `ward patient key`, as
-- records.KeyPatients) does the sealing, one patient per transaction,
-- through three ward_ops functions owned by ward_definer:
--   app.ops_unkeyed_patients(org, after_org, after_id, limit): the
--     patients without a keyset, not shredded, of orgs not shredded, in
--     (org, id) order;
--   app.ops_patient_key_cells(org, patient): locks the patient's row for
--     update (a writer that reads the keyset to seal a new entry or
--     amendment text reads it for key share, queries/records.sql
--     PatientKeysetForWrite, so it waits and then seals under the new
--     keyset; one that read it before has its insert or update waited for
--     here and is read below) and returns every value sealed for the
--     patient: the record's sealed columns, each clinical entry's note and
--     each amendment request's texts (what app.patient_shred relies on the
--     keyset for). Refused for a patient with a keyset (patient_keyed) or
--     shredded (patient_shredded);
--   app.ops_patient_key(org, patient, keyset, tables, rows, columns, old,
--     new): in the same transaction, stores the wrapped keyset and the
--     values sealed again under it, only if the cells named are exactly
--     the patient's sealed cells as they are now, each with the value
--     read (40001 otherwise: nothing is written), so nothing stays under
--     the org's keys. It checks the row itself (locked, no keyset, not
--     shredded) and takes nothing else from its caller. Blind indexes stay
--     the org's, unchanged.
-- The database cannot tell which key sealed a value; what it checks is
-- that every cell was replaced, by a different value, in the transaction
-- that sets the keyset.
--
-- Each keyed patient is noted in private.patient_keyings;
-- app.ops_patient_key_record(org) records one reserved patient.key event
-- in the org's log with how many were keyed since the last (counts only),
-- and forgets them (org null: every org with keyings not recorded yet).
--
-- Two guards learn of the keying: the patient's identifiers (00113: only a
-- lead or admin changes them) may change in the update that gives the row
-- its first keyset (only ward_definer may update keyset); an amendment
-- request's texts (00157: never change, a decision is final) may be
-- replaced, nothing else, by ward_definer (the keying: no other ward_definer
-- code updates them), while the patient has a keyset.
-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('patient.key', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

create table private.patient_keyings (
  org_id uuid not null,
  patient_id uuid not null,
  keyed_at timestamptz not null default now(),
  primary key (org_id, patient_id)
);
alter table private.patient_keyings enable row level security;
alter table private.patient_keyings force row level security;
grant select, insert, delete on private.patient_keyings to ward_definer;

grant update (request_enc, decision_enc, disagreement_enc, rebuttal_enc) on app.record_amendments to ward_definer;
grant select (id, name_enc, dob_enc, phone_enc, email_enc, address_enc, identifiers_enc) on app.patients to ward_definer;
grant select (id, note_enc) on app.clinical_entries to ward_definer;
grant select (id, request_enc, decision_enc, disagreement_enc, rebuttal_enc) on app.record_amendments to ward_definer;

-- +goose StatementBegin
create or replace function private.guard_patient_identifiers() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  -- The keying (app.ops_patient_key) seals the identifiers again under
  -- the patient's first keyset; the MRN's blind index stays.
  if old.keyset is null and new.keyset is not null and new.mrn_bidx is not distinct from old.mrn_bidx then
    return new;
  end if;
  if (new.mrn_bidx, new.identifiers_enc) is distinct from (old.mrn_bidx, old.identifiers_enc)
     and not private.am_i_lead_in_org(new.org_id) then
    raise exception 'only a lead or admin changes a patient''s MRN or identifiers' using errcode = '42501',
      hint = 'patient_identifiers';
  end if;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
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
  -- The keying (app.ops_patient_key, 00288) seals the texts again under
  -- the patient's new keyset: the same texts, each where there was one,
  -- nothing else changed. Only ward_definer's code can get here.
  if current_user = 'ward_definer'
     and (new.org_id, new.id, new.patient_id, new.entry_id, new.dsr_id, new.requested_by, new.requested_at, new.status,
          new.denial_basis, new.decided_by, new.decided_at, new.disagreement_at, new.rebuttal_by, new.rebuttal_at)
         is not distinct from
         (old.org_id, old.id, old.patient_id, old.entry_id, old.dsr_id, old.requested_by, old.requested_at, old.status,
          old.denial_basis, old.decided_by, old.decided_at, old.disagreement_at, old.rebuttal_by, old.rebuttal_at)
     and new.request_enc is not null
     and (new.decision_enc is null) = (old.decision_enc is null)
     and (new.disagreement_enc is null) = (old.disagreement_enc is null)
     and (new.rebuttal_enc is null) = (old.rebuttal_enc is null)
     and exists (select from app.patients p where p.org_id = new.org_id and p.id = new.patient_id
                   and p.keyset is not null and p.shredded_at is null) then
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
create function app.ops_unkeyed_patients(p_org uuid, p_after_org uuid, p_after_id uuid, p_limit int)
returns table (org_id uuid, id uuid)
language plpgsql stable security definer set search_path = '' as $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_unkeyed_patients: the operator''s list takes no credential' using errcode = '42501';
  end if;
  return query
    select p.org_id, p.id from app.patients p
      join app.orgs o on o.id = p.org_id
     where o.shredded_at is null and p.keyset is null and p.shredded_at is null
       and (p_org is null or p.org_id = p_org)
       and (p_after_org is null
            or (p.org_id, p.id) > (p_after_org, coalesce(p_after_id, '00000000-0000-0000-0000-000000000000')))
     order by p.org_id, p.id
     limit least(greatest(p_limit, 1), 1000);
end $$;
-- +goose StatementEnd
alter function app.ops_unkeyed_patients(uuid, uuid, uuid, int) owner to ward_definer;
revoke all on function app.ops_unkeyed_patients(uuid, uuid, uuid, int) from public;
grant execute on function app.ops_unkeyed_patients(uuid, uuid, uuid, int) to ward_ops;

-- +goose StatementBegin
-- Every value sealed for the patient under the keys of their record, one
-- row a cell: the table, the row, the column (the associated data's) and
-- the ciphertext.
create function private.patient_sealed_cells(p_org uuid, p_patient uuid)
returns table (tbl text, row_id uuid, col text, sealed bytea)
language sql stable set search_path = '' as $$
  select 'patients', p.id, c.col, c.sealed
    from app.patients p
    cross join lateral (values ('name', p.name_enc), ('dob', p.dob_enc), ('phone', p.phone_enc),
      ('email', p.email_enc), ('address', p.address_enc), ('identifiers', p.identifiers_enc)) c(col, sealed)
   where p.org_id = p_org and p.id = p_patient and c.sealed is not null
  union all
  select 'clinical_entries', e.id, 'note', e.note_enc
    from app.clinical_entries e
   where e.org_id = p_org and e.patient_id = p_patient and e.note_enc is not null
  union all
  select 'record_amendments', a.id, c.col, c.sealed
    from app.record_amendments a
    cross join lateral (values ('request', a.request_enc), ('decision', a.decision_enc),
      ('disagreement', a.disagreement_enc), ('rebuttal', a.rebuttal_enc)) c(col, sealed)
   where a.org_id = p_org and a.patient_id = p_patient and c.sealed is not null
$$;
-- +goose StatementEnd
revoke all on function private.patient_sealed_cells(uuid, uuid) from public;
grant execute on function private.patient_sealed_cells(uuid, uuid) to ward_definer;

-- +goose StatementBegin
-- The org's row for key share (an org shred, which takes it for update,
-- is done or waits), then the patient's for update: the keying's lock,
-- which a writer's keyset read for key share waits for. The patient must
-- exist, be unshredded and have no keyset.
create function private.patient_key_lock(p_org uuid, p_patient uuid)
returns void
language plpgsql set search_path = '' as $$
declare
  p record;
begin
  if private.credential_hash() is not null then
    raise exception 'patient keying: the operator''s, taking no credential' using errcode = '42501';
  end if;
  if p_org is null or p_patient is null then
    raise exception 'patient keying: the org and the patient are required' using errcode = '22023';
  end if;
  perform from app.orgs o where o.id = p_org and o.shredded_at is null for key share;
  if not found then
    raise exception 'patient keying: no such org, or it was shredded' using errcode = 'P0002';
  end if;
  select x.keyset, x.shredded_at into p from app.patients x where x.org_id = p_org and x.id = p_patient for update;
  if not found then
    raise exception 'patient keying: no such patient' using errcode = 'P0002';
  end if;
  if p.shredded_at is not null then
    raise exception 'patient keying: the patient was shredded' using errcode = '55000', hint = 'patient_shredded';
  end if;
  if p.keyset is not null then
    raise exception 'patient keying: the patient has a keyset' using errcode = '55000', hint = 'patient_keyed';
  end if;
end $$;
-- +goose StatementEnd
revoke all on function private.patient_key_lock(uuid, uuid) from public;
grant execute on function private.patient_key_lock(uuid, uuid) to ward_definer;

-- +goose StatementBegin
create function app.ops_patient_key_cells(p_org uuid, p_patient uuid)
returns table (tbl text, row_id uuid, col text, sealed bytea)
language plpgsql volatile security definer set search_path = '' as $$
begin
  perform private.patient_key_lock(p_org, p_patient);
  -- A statement after the lock: what a writer that held the row before
  -- committed is seen.
  return query select * from private.patient_sealed_cells(p_org, p_patient) c order by c.tbl, c.row_id, c.col;
end $$;
-- +goose StatementEnd
alter function app.ops_patient_key_cells(uuid, uuid) owner to ward_definer;
revoke all on function app.ops_patient_key_cells(uuid, uuid) from public;
grant execute on function app.ops_patient_key_cells(uuid, uuid) to ward_ops;

-- +goose StatementBegin
create function app.ops_patient_key(p_org uuid, p_patient uuid, p_keyset bytea, p_tables text[], p_rows uuid[],
  p_columns text[], p_old bytea[], p_new bytea[])
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  n integer := coalesce(cardinality(p_tables), 0);
begin
  perform private.patient_key_lock(p_org, p_patient);
  if p_keyset is null or octet_length(p_keyset) not between 1 and 4096 then
    raise exception 'ops_patient_key: the wrapped keyset is required' using errcode = '22023';
  end if;
  if n <> coalesce(cardinality(p_rows), 0) or n <> coalesce(cardinality(p_columns), 0)
     or n <> coalesce(cardinality(p_old), 0) or n <> coalesce(cardinality(p_new), 0) then
    raise exception 'ops_patient_key: tables, rows, columns, old and new values differ in number' using errcode = '22023';
  end if;
  if exists (select from unnest(p_old, p_new) c(o, v)
              where v is null or octet_length(v) not between 1 and 65536 or v = o) then
    raise exception 'ops_patient_key: a value sealed again is empty or unchanged' using errcode = '22023';
  end if;
  if (select count(distinct (t, r, c)) from unnest(p_tables, p_rows, p_columns) x(t, r, c)) <> n then
    raise exception 'ops_patient_key: a cell is named twice' using errcode = '22023';
  end if;
  -- Exactly the patient's sealed cells, each as it was read.
  if exists ((select * from private.patient_sealed_cells(p_org, p_patient)
              except select * from unnest(p_tables, p_rows, p_columns, p_old))
             union all
             (select * from unnest(p_tables, p_rows, p_columns, p_old)
              except select * from private.patient_sealed_cells(p_org, p_patient))) then
    raise exception 'ops_patient_key: the record changed since it was read' using errcode = '40001';
  end if;

  update app.patients x
     set keyset = p_keyset,
         name_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                               where c.t = 'patients' and c.col = 'name'), x.name_enc),
         dob_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                              where c.t = 'patients' and c.col = 'dob'), x.dob_enc),
         phone_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                where c.t = 'patients' and c.col = 'phone'), x.phone_enc),
         email_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                where c.t = 'patients' and c.col = 'email'), x.email_enc),
         address_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                  where c.t = 'patients' and c.col = 'address'), x.address_enc),
         identifiers_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                      where c.t = 'patients' and c.col = 'identifiers'), x.identifiers_enc)
   where x.org_id = p_org and x.id = p_patient;
  update app.clinical_entries e set note_enc = c.v
    from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
   where c.t = 'clinical_entries' and c.col = 'note' and e.org_id = p_org and e.patient_id = p_patient and e.id = c.r;
  update app.record_amendments a
     set request_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                  where c.t = 'record_amendments' and c.r = a.id and c.col = 'request'), a.request_enc),
         decision_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                   where c.t = 'record_amendments' and c.r = a.id and c.col = 'decision'), a.decision_enc),
         disagreement_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                       where c.t = 'record_amendments' and c.r = a.id and c.col = 'disagreement'),
                                     a.disagreement_enc),
         rebuttal_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                   where c.t = 'record_amendments' and c.r = a.id and c.col = 'rebuttal'), a.rebuttal_enc)
   where a.org_id = p_org and a.patient_id = p_patient
     and a.id in (select c.r from unnest(p_tables, p_rows) c(t, r) where c.t = 'record_amendments');
  -- Nothing left as it was read: every cell holds its new value.
  if exists (select from unnest(p_tables, p_rows, p_columns, p_new) x(t, r, c, v)
              where not exists (select from private.patient_sealed_cells(p_org, p_patient) s
                                 where s.tbl = x.t and s.row_id = x.r and s.col = x.c and s.sealed = x.v)) then
    raise exception 'ops_patient_key: a cell was not sealed again' using errcode = 'XX000';
  end if;
  insert into private.patient_keyings (org_id, patient_id) values (p_org, p_patient);
  return n;
end $$;
-- +goose StatementEnd
alter function app.ops_patient_key(uuid, uuid, bytea, text[], uuid[], text[], bytea[], bytea[]) owner to ward_definer;
revoke all on function app.ops_patient_key(uuid, uuid, bytea, text[], uuid[], text[], bytea[], bytea[]) from public;
grant execute on function app.ops_patient_key(uuid, uuid, bytea, text[], uuid[], text[], bytea[], bytea[]) to ward_ops;

-- +goose StatementBegin
-- p_org null: every org with keyings not recorded yet (a run that was
-- killed before it recorded its own is recorded by the next).
create function app.ops_patient_key_record(p_org uuid)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  o uuid;
  n integer;
  total integer := 0;
begin
  if private.credential_hash() is not null then
    raise exception 'ops_patient_key_record: the operator''s, taking no credential' using errcode = '42501';
  end if;
  for o in select distinct k.org_id from private.patient_keyings k
            where p_org is null or k.org_id = p_org order by k.org_id loop
    with gone as (delete from private.patient_keyings k where k.org_id = o returning 1)
    select count(*) into n from gone;
    if n > 0 and exists (select from app.orgs x where x.id = o and x.shredded_at is null) then
      perform audit.append_as(o, 'patient.key', 'success', 'org', o,
        p_details => jsonb_build_object('patients', n, 'by', session_user::text));
    end if;
    total := total + n;
  end loop;
  return total;
end $$;
-- +goose StatementEnd
alter function app.ops_patient_key_record(uuid) owner to ward_definer;
revoke all on function app.ops_patient_key_record(uuid) from public;
grant execute on function app.ops_patient_key_record(uuid) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
