-- Generating recovery codes kills the old set (00017), but two generations
-- at once each deleted only the codes committed before they began and each
-- inserted ten: twenty requests sent together from one stepped-up session
-- left sixty live codes (an attacker's review, LOW: a set its member never
-- kept, or one generated from a stolen session beside the member's own,
-- stayed a working second factor after what the member took for the last
-- regeneration). app.recovery_codes_generate now takes a transaction-scoped
-- advisory lock on the member before it deletes, so each generation
-- deletes the set the one before it committed. Otherwise the function is
-- as before.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.recovery_codes_generate(p_hashes bytea[], p_request text default null) returns void
    language plpgsql security definer
    set search_path = ''
    as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.session_id is null then
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
  if p_hashes is null or cardinality(p_hashes) <> 10 or array_ndims(p_hashes) <> 1
     or exists (select from unnest(p_hashes) h where h is null or octet_length(h) <> 32)
     or (select count(distinct h) from unnest(p_hashes) h) <> 10 then
    raise exception 'recovery_codes_generate: ten distinct 32-byte hashes' using errcode = '22023';
  end if;
  -- (00267) one generation at a time per member: each deletes the set the
  -- one before it committed, so the newest set is the only one left.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.recovery_codes.' || me.org_id::text || '.' || me.user_id::text, 0));
  delete from app.recovery_codes r where r.org_id = me.org_id and r.user_id = me.user_id;
  insert into app.recovery_codes (org_id, user_id, code_hash)
  select me.org_id, me.user_id, h from unnest(p_hashes) h;
  perform audit.append_as(me.org_id, 'auth.recovery_codes.generate', 'success', 'user', me.user_id,
    p_request => p_request, p_details => jsonb_build_object('count', 10));
end $$;

-- +goose StatementEnd

alter function app.recovery_codes_generate(bytea[], text) owner to ward_definer;
revoke all on function app.recovery_codes_generate(bytea[], text) from public;
grant execute on function app.recovery_codes_generate(bytea[], text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
