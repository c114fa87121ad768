-- A member removes their own TOTP factor (DELETE /v1/auth/totp). Before, no
-- route removed one: app.totp_enrol refuses a second enrolment while a
-- confirmed factor exists, so a member who lost the phone holding it, or
-- who thinks its secret leaked, signed in with a recovery code and could
-- never enrol a new one (only ending their membership removed it).
--
-- app.totp_delete takes nothing from its caller but the request id: the
-- member, the session, its assurance and step-up age and break-glass are
-- the bound credential's (private.me). Who may: a session (not an API key),
-- not break-glass, stepped up within the last 10 minutes, as a passkey's
-- deletion. The last-factor rule is app.passkey_delete's: a member whose
-- bar is mfa keeps a second factor, so the factor goes only when a passkey
-- stays (a bar of passkey is met by passkeys alone; none needs nothing).
-- The member's passkeys and factor are locked first, in the order
-- app.passkey_delete locks them, so a passkey's deletion and this one take
-- turns and cannot both count the other's factor as left.
--
-- The member's sessions whose second factor was TOTP (amr holds totp) end
-- with it (revoked_reason totp_deleted; audited first, the caller's own
-- session may be one of them), as a deleted passkey's sessions do: a
-- secret thought leaked must not leave the sessions it opened. An
-- unconfirmed enrolment is removed too (status ok); with neither, the
-- answer is not_found. Audited as auth.mfa.delete, success or denied
-- (last_factor).
--
-- app.member_totp_reset is the help desk's: an admin removes another
-- member's TOTP factor (DELETE /v1/members/{user_id}/totp), for a member
-- who lost it and has no other factor or recovery code left. The member
-- then enrols again from a magic-link session, as a member with no factor
-- does, so the admin must have confirmed who asks out of band; it is no
-- route for API keys. Who may, read from the bound credential alone: an
-- admin's session, not break-glass, stepped up within 10 minutes; not on
-- themself (their own route applies the last-factor rule). The member's
-- TOTP sessions end with it, and the reset is audited as auth.mfa.reset
-- with the member as its object; a member of another org or one without a
-- factor is not_found. A reset also voids the member's unused recovery
-- codes: a member who comes to the help desk has lost their factor, and
-- codes left behind would count for nothing in enrolment (a member with
-- no TOTP and no passkey enrols from a sign-in link) while still giving
-- AAL2 to whoever holds them. Both functions answer the member's sealed
-- address beside the status, for the notice the server mails them.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.totp_delete(p_request text default null, out status text, out email_enc bytea)
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  o app.orgs%rowtype;
  bar text;
  f app.totp_factors%rowtype;
  passkeys int;
  ended int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
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
  -- The member's passkeys, then their factor, locked (app.passkey_delete's
  -- order): a concurrent passkey deletion counts what this one leaves.
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id order by k.id for update;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found then
    status := 'not_found';
    return;
  end if;
  select * into o from app.orgs x where x.id = me.org_id;
  bar := private.assurance_bar(me.role, o.require_mfa, o.require_passkey);
  select count(*) into passkeys from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id;
  if f.confirmed_at is not null and bar = 'mfa' and passkeys = 0 then
    perform audit.append_as(me.org_id, 'auth.mfa.delete', 'denied', 'user', me.user_id, p_request => p_request,
      p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'reason', 'last_factor', 'bar', bar));
    status := 'last_factor';
    return;
  end if;
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp'];
  perform audit.append_as(me.org_id, 'auth.mfa.delete', 'success', 'user', me.user_id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'confirmed', f.confirmed_at is not null,
      'passkeys_left', passkeys, 'sessions_ended', ended, 'session', me.session_id));
  update app.sessions s set revoked_at = now(), revoked_reason = 'totp_deleted'
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp'];
  delete from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id;
  select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  status := 'ok';
end $$;
-- +goose StatementEnd
alter function app.totp_delete(text) owner to ward_definer;
revoke all on function app.totp_delete(text) from public;
grant execute on function app.totp_delete(text) to ward_app;

-- +goose StatementBegin
create function app.member_totp_reset(p_user uuid, p_request text default null, out status text, out email_enc bytea)
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
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null and s.amr @> array['totp'];
  select count(*) into voided from app.recovery_codes c
   where c.org_id = me.org_id and c.user_id = p_user and c.used_at is null;
  perform audit.append_as(me.org_id, 'auth.mfa.reset', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('method', 'totp', 'confirmed', f.confirmed_at is not null,
      'sessions_ended', ended, 'recovery_codes_voided', voided));
  update app.sessions s set revoked_at = now(), revoked_reason = 'totp_reset'
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null and s.amr @> array['totp'];
  delete from app.totp_factors x where x.org_id = me.org_id and x.user_id = p_user;
  delete from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user;
  select u.email_enc into email_enc from app.users u where u.id = p_user;
  status := 'ok';
end $$;
-- +goose StatementEnd
alter function app.member_totp_reset(uuid, text) owner to ward_definer;
revoke all on function app.member_totp_reset(uuid, text) from public;
grant execute on function app.member_totp_reset(uuid, text) to ward_app;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.mfa.delete', 'auth', false, false, true, '{}'),
  ('auth.mfa.reset', 'auth', false, false, true, '{object}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
