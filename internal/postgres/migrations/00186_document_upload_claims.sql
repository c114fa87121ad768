-- A review of cases and documents: the sweeper (internal/cases, Jobs.Sweep)
-- deletes a stored object that no committed version names once it is older
-- than its grace period and a sweep of the same node found it ownerless at
-- least ten minutes before. Nothing told it that an upload still meant to
-- commit the object: an S3 object made by a multipart upload carries the
-- time its upload started, so an upload that streamed for longer than the
-- grace period completes already "old", and a commit held up past the
-- confirmation (a stalled process, a pool or lock wait) found its object
-- deleted and committed a version whose bytes were gone.
--
-- Now an upload claims its object's key before it stores a byte
-- (app.claim_upload, in the transaction that checks the caller may upload),
-- keeps the claim fresh while its body streams (app.touch_upload, every few
-- minutes), and gives it up in the transaction that commits its version
-- (app.release_upload): a commit whose claim is gone is refused (the API
-- answers 409 upload_expired) instead of naming a deleted object. The
-- sweeper treats a key with a claim touched within the last hour as live
-- (app.live_storage_keys), and deletes an object only through
-- app.reclaim_storage_keys, which first deletes the key's stale claim, under
-- its row lock, so a claim is either taken by its commit or reclaimed by
-- the sweeper, never both. The hour is the database's, never the caller's.
-- Claims stale for a day are dropped whether or not their object exists
-- (an upload that crashed before storing anything).

-- +goose Up
set local role ward_owner;

create table app.document_uploads (
  org_id uuid not null references app.orgs (id),
  storage_key text not null,
  uploaded_by uuid not null,
  claimed_at timestamptz not null default now(),
  touched_at timestamptz not null default now(),
  primary key (org_id, storage_key),
  unique (storage_key),
  check (storage_key ~ '^orgs/[0-9a-f-]{36}/obj/[0-9a-f-]{36}$' and storage_key like 'orgs/' || org_id::text || '/obj/%')
);
create index document_uploads_touched_idx on app.document_uploads (touched_at);
-- Nobody but the functions below (ward_definer, which bypasses RLS) reads
-- or writes it: no policy, forced.
alter table app.document_uploads enable row level security;
alter table app.document_uploads force row level security;
grant select, insert, update, delete on app.document_uploads to ward_definer;

-- +goose StatementBegin
create function app.claim_upload(p_key text) returns void
    language plpgsql
    security definer
    set search_path to ''
    as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.user_id is null or me.org_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- a key of the caller's own org, as blob.ObjectKey makes them
  if p_key is null or p_key !~ ('^orgs/' || me.org_id::text || '/obj/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') then
    raise exception 'claim_upload: not an object key of the caller''s org' using errcode = '22023';
  end if;
  insert into app.document_uploads (org_id, storage_key, uploaded_by) values (me.org_id, p_key, me.user_id);
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.touch_upload(p_key text) returns boolean
    language plpgsql
    security definer
    set search_path to ''
    as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.org_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.document_uploads u set touched_at = now()
   where u.org_id = me.org_id and u.storage_key = p_key and u.uploaded_by = me.user_id;
  return found;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.release_upload(p_key text) returns boolean
    language plpgsql
    security definer
    set search_path to ''
    as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.org_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  delete from app.document_uploads u
   where u.org_id = me.org_id and u.storage_key = p_key and u.uploaded_by = me.user_id;
  return found;
end $$;
-- +goose StatementEnd

alter function app.claim_upload(text) owner to ward_definer;
revoke all on function app.claim_upload(text) from public;
grant execute on function app.claim_upload(text) to ward_app;
alter function app.touch_upload(text) owner to ward_definer;
revoke all on function app.touch_upload(text) from public;
grant execute on function app.touch_upload(text) to ward_app;
alter function app.release_upload(text) owner to ward_definer;
revoke all on function app.release_upload(text) from public;
grant execute on function app.release_upload(text) to ward_app;

-- +goose StatementBegin
create or replace function app.live_storage_keys(p_keys text[]) returns setof text
    language sql stable security definer
    set search_path to ''
    as $$
  select v.storage_key from app.document_versions v
   where v.storage_key = any (p_keys) and v.data_key is not null
  union
  -- an upload in flight (00186): claimed, touched within the hour
  select u.storage_key from app.document_uploads u
   where u.storage_key = any (p_keys) and u.touched_at > now() - interval '1 hour'
$$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.reclaim_storage_keys(p_keys text[]) returns setof text
    language plpgsql
    security definer
    set search_path to ''
    as $$
begin
  -- A stale claim of one of these keys goes first, under its row lock: a
  -- commit that holds the claim (app.release_upload, not committed yet)
  -- makes this wait, and its version is then seen below.
  delete from app.document_uploads u
   where u.touched_at < now() - interval '1 hour'
     and (u.storage_key = any (p_keys) or u.touched_at < now() - interval '1 day');
  return query
    select k from unnest(p_keys) k
     where not exists (select from app.document_versions v where v.storage_key = k and v.data_key is not null)
       and not exists (select from app.document_uploads u where u.storage_key = k);
end $$;
-- +goose StatementEnd

alter function app.reclaim_storage_keys(text[]) owner to ward_definer;
revoke all on function app.reclaim_storage_keys(text[]) from public;
grant execute on function app.reclaim_storage_keys(text[]) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
