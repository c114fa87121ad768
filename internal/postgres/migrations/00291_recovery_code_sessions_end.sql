-- A set of recovery codes that is voided takes the sessions its codes
-- opened with it (an attacker's review, MEDIUM). A code used is mailed to
-- its member ("someone holds your codes"), and the two ways to void a set
-- are a new set (app.recovery_codes_generate) and an admin's reset
-- (app.member_totp_reset, which voids the unused codes so that they no
-- longer give AAL2 to whoever holds them). Neither ended the sessions a
-- code had already raised to AAL2: whoever read the member's mail and held
-- a code kept reading the org's records as the member, for the rest of the
-- session's lifetime (12 hours by default), after what the member and the
-- admin took for the remedy. A TOTP factor's removal or reset and a
-- passkey's deletion already end the sessions they opened (00214, 00080):
-- a secret thought leaked must not leave the sessions it opened.
--
-- app.recovery_codes_generate now ends the member's other live sessions in
-- the org whose amr holds recovery_code (revoked_reason
-- recovery_codes_replaced), and counts them in its event (sessions_ended).
-- The caller's own session stays: it has just presented a second factor
-- within ten minutes (the member who signed in with a code after losing
-- their phone generates the new set from that session).
--
-- app.member_totp_reset ends the member's sessions whose amr holds totp or
-- recovery_code (revoked_reason totp_reset, as before), counted in the
-- event's sessions_ended as before. Otherwise both functions are as they
-- were (00267, 00214).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.recovery_codes_generate(p_hashes bytea[], p_request text default null) returns void
    language plpgsql security definer
    set search_path = ''
    as $$
declare
  me record;
  ended int;
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
  -- (00291) the sessions a code of the old set opened end with the set,
  -- but the caller's own.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null
     and s.amr @> array['recovery_code'] and s.id <> me.session_id;
  perform audit.append_as(me.org_id, 'auth.recovery_codes.generate', 'success', 'user', me.user_id,
    p_request => p_request, p_details => jsonb_build_object('count', 10, 'sessions_ended', ended));
  update app.sessions s set revoked_at = now(), revoked_reason = 'recovery_codes_replaced'
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null
     and s.amr @> array['recovery_code'] and s.id <> me.session_id;
end $$;
-- +goose StatementEnd

alter function app.recovery_codes_generate(bytea[], text) owner to ward_definer;
revoke all on function app.recovery_codes_generate(bytea[], text) from public;
grant execute on function app.recovery_codes_generate(bytea[], text) to ward_app;

-- +goose StatementBegin
create or replace function app.member_totp_reset(p_user uuid, p_request text default null, out status text, out email_enc bytea)
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  f app.totp_factors%rowtype;
  ended int;
  voided int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: a member''s factor is reset by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_user is null or p_user = me.user_id then
    status := 'self';
    return;
  end if;
  perform from app.memberships m where m.org_id = me.org_id and m.user_id = p_user and m.revoked_at is null;
  if not found then
    status := 'not_found';
    return;
  end if;
  -- The member's passkeys, then their factor, as app.totp_delete locks them.
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = p_user order by k.id for update;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = p_user for update;
  if not found then
    status := 'not_found';
    return;
  end if;
  -- (00291) the sessions a voided recovery code opened end too.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and (s.amr @> array['totp'] or s.amr @> array['recovery_code']);
  select count(*) into voided from app.recovery_codes c
   where c.org_id = me.org_id and c.user_id = p_user and c.used_at is null;
  perform audit.append_as(me.org_id, 'auth.mfa.reset', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('method', 'totp', 'confirmed', f.confirmed_at is not null,
      'sessions_ended', ended, 'recovery_codes_voided', voided));
  update app.sessions s set revoked_at = now(), revoked_reason = 'totp_reset'
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and (s.amr @> array['totp'] or s.amr @> array['recovery_code']);
  delete from app.totp_factors x where x.org_id = me.org_id and x.user_id = p_user;
  delete from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user;
  select u.email_enc into email_enc from app.users u where u.id = p_user;
  status := 'ok';
end $$;
-- +goose StatementEnd

alter function app.member_totp_reset(uuid, text) owner to ward_definer;
revoke all on function app.member_totp_reset(uuid, text) from public;
grant execute on function app.member_totp_reset(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
