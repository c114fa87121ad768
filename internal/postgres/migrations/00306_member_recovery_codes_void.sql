-- An admin voids a member's recovery codes without touching their other
-- factors (a review of the identity work, LOW). The only admin path to a
-- member's codes was the reset of their TOTP factor
-- (app.member_totp_reset), which answers not_found for a member without
-- one: a member who lost their device and holds a passkey and codes, or
-- whose codes leaked (the mail a used code sends says so), could only ask
-- to lose their TOTP factor with them, or nothing at all.
--
-- app.member_recovery_codes_void(user) voids the member's recovery codes,
-- used and unused, and ends their live sessions in the org that presented
-- a recovery code (revoked_reason recovery_codes_voided), as the reset and
-- a new set do (00291). It takes what the reset takes: an admin's session
-- (no API key) stepped up within 10 minutes, not break-glass, another
-- member of the caller's org (status self for the admin themself, who
-- generates a new set of their own; not_found for no such member or one
-- without codes). Audited as auth.mfa.reset with the member as its object
-- and details method recovery_codes, sessions_ended and
-- recovery_codes_voided (the unused ones). One change of a member's set at
-- a time, as app.recovery_codes_generate (00267); the codes are locked
-- before the sessions are read, as in 00297: a code being used is waited
-- for and the session it raised ends too. The member's email_enc is
-- answered for the notice.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.member_recovery_codes_void(p_user uuid, p_request text default null,
  out status text, out email_enc bytea)
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  ended int;
  voided int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: a member''s recovery codes are voided by an admin''s session' using errcode = '42501';
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
  -- One change of the member's set at a time (app.recovery_codes_generate
  -- takes the same lock), then the codes, locked before the sessions are
  -- read: a code being used (app.recovery_code_use) is waited for, and the
  -- session it raised is read below with recovery_code in its amr.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.recovery_codes.' || me.org_id::text || '.' || p_user::text, 0));
  perform from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user order by c.code_hash for update;
  if not found then
    status := 'not_found';
    return;
  end if;
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and s.amr @> array['recovery_code'];
  select count(*) into voided from app.recovery_codes c
   where c.org_id = me.org_id and c.user_id = p_user and c.used_at is null;
  perform audit.append_as(me.org_id, 'auth.mfa.reset', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('method', 'recovery_codes', 'sessions_ended', ended,
      'recovery_codes_voided', voided));
  update app.sessions s set revoked_at = now(), revoked_reason = 'recovery_codes_voided'
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and s.amr @> array['recovery_code'];
  delete from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user;
  select u.email_enc into email_enc from app.users u where u.id = p_user;
  status := 'ok';
end $$;
-- +goose StatementEnd

alter function app.member_recovery_codes_void(uuid, text) owner to ward_definer;
revoke all on function app.member_recovery_codes_void(uuid, text) from public;
grant execute on function app.member_recovery_codes_void(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
