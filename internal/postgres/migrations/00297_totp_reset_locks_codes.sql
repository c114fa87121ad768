-- An admin's reset of a member's authenticator ends the session a recovery
-- code raises while the reset runs (a review of 00291, LOW: a race).
-- app.member_totp_reset read the member's sessions, ended those whose amr
-- holds totp or recovery_code, and only then deleted the codes. A code
-- being used at that moment (app.recovery_code_use: the code marked used
-- and the session raised to AAL2 with recovery_code, not committed yet)
-- left the session's committed version without recovery_code, so the
-- reset passed it over; it then waited only to delete the spent code, and
-- the AAL2 session the voided code opened outlived the reset meant to end
-- it. The reset now locks the member's codes before it reads their
-- sessions: a use in flight is waited for and its session ended; a use
-- that starts after waits for the reset and finds no code.
-- app.recovery_codes_generate already deletes the old set before it ends
-- the sessions. Otherwise the function is as in 00291.
-- +goose Up
set local role ward_owner;

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
  -- (00297) the member's recovery codes, locked before their sessions are
  -- read: a code being used (app.recovery_code_use, which locks it) is
  -- waited for, and the session it raised is read below, with recovery_code
  -- in its amr; a use that comes after waits for this and finds no code.
  perform from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user order by c.code_hash for update;
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
