-- An attacker's review of the sign-in flows (2026-12-06) found:
--
-- 1. A session held back for its device binding (pending
--    'device_binding': an unbound bearer session of a role the org binds,
--    issued before the org listed the role) could still enrol TOTP,
--    register a passkey, present a factor and rotate its token: the
--    factor procedures took their caller from private.me_pending(), which
--    admits every pending session. Whoever held such a token (it leaked:
--    binding exists so that a leaked token is worthless) planted a passkey
--    of their own and signed in with it, bound to their own key. Now the
--    factor procedures take their caller from private.me_factor(): a
--    pending session, but not one pending its device binding. Such a
--    session reads /v1/me and logs out (app.logout keeps me_pending) and
--    nothing else; its member signs in again, bound.
-- 2. A sign-in the risk score held back for a passkey (sessions.step_up =
--    'passkey') was cleared by a phished TOTP code and a passkey registered
--    after it: the passkey the gate asked for was the attacker's. Now a
--    session held back for a passkey registers none while its member holds
--    any factor (hint passkey_step_up_required); a member with no factor
--    still registers a first passkey (nothing to phish yet, and the
--    registration is mailed).
-- 3. (Found beside 2.) A session held back for a passkey that confirmed a
--    member's first TOTP code failed with a 500, its code unspent: the
--    notice's read of the member's address went through RLS, which a
--    pending session passes nothing. app.own_email() reads it.
-- 4. TOTP failures locked the factor for 15 minutes after every five,
--    without end: about 480 guesses a day for whoever reads the member's
--    mail. Now each lockout since the last accepted code doubles the next
--    (15 minutes, 30, 1 hour … at most 24 hours), and the attempt that
--    locks returns (and audits) 'lockout' instead of 'locked'.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.me_factor(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal integer, out auth_time timestamptz, out break_glass boolean, out device text, out amr text[], out pending text)
language sql stable security definer set search_path = '' as $$
  select m.kind, m.credential_id, m.user_id, m.org_id, m.role, m.session_id, m.aal, m.auth_time, m.break_glass,
         m.device, m.amr, m.pending
    from private.me_pending() m
   where m.pending is distinct from 'device_binding'
$$;
-- +goose StatementEnd
alter function private.me_factor() owner to ward_rls;
revoke all on function private.me_factor() from public;
grant execute on function private.me_factor() to ward_definer;

-- The caller's own address (sealed), for the notices a factor procedure's
-- caller is sent: a session that confirms its first TOTP code or
-- registers a passkey may still be pending (held back for a passkey, an
-- org's require_passkey), and its credential reads no row of app.users
-- under RLS, so the notice's read failed the whole step (a 500).
-- +goose StatementBegin
create function app.own_email() returns bytea
language sql stable security definer set search_path = '' as $$
  select u.email_enc from app.users u
   where u.id = (select m.user_id from private.me_factor() m where m.kind = 'session')
$$;
-- +goose StatementEnd
alter function app.own_email() owner to ward_definer;
revoke all on function app.own_email() from public;
grant execute on function app.own_email() to ward_app;

alter table app.totp_factors add column lockouts int not null default 0 check (lockouts >= 0);
comment on column app.totp_factors.lockouts is 'lockouts since the last accepted code: each doubles the next (at most 24 hours)';

-- +goose StatementBegin
do $$
declare
  f text;
  def text;
  was text;
  edits text[][] := array[
    -- 1: every factor procedure takes its caller from me_factor
    array['app.totp_enrol', 'private.me_pending()', 'private.me_factor()'],
    array['app.totp_secret', 'private.me_pending()', 'private.me_factor()'],
    array['app.totp_verify', 'private.me_pending()', 'private.me_factor()'],
    array['app.recovery_code_use', 'private.me_pending()', 'private.me_factor()'],
    array['app.passkey_begin', 'private.me_pending()', 'private.me_factor()'],
    array['app.passkey_take', 'private.me_pending()', 'private.me_factor()'],
    array['app.passkey_register', 'private.me_pending()', 'private.me_factor()'],
    array['app.rotate_session', 'private.me_pending()', 'private.me_factor()'],
    -- 2: a session the risk score held back for a passkey registers none
    -- while its member holds a factor
    array['app.passkey_begin', '  if p_purpose = ''register'' and me.break_glass then',
          '  if p_purpose = ''register'' and private.passkey_has_factor(me.org_id, me.user_id)
     and exists (select from app.sessions s where s.id = me.session_id and s.step_up = ''passkey'') then
    raise exception ''step-up required: this sign-in needs one of your passkeys, not a new one'' using errcode = ''42501'',
      hint = ''passkey_step_up_required'';
  end if;
  if p_purpose = ''register'' and me.break_glass then'],
    array['app.passkey_register', '  if me.break_glass then',
          '  if private.passkey_has_factor(me.org_id, me.user_id)
     and exists (select from app.sessions s where s.id = me.session_id and s.step_up = ''passkey'') then
    raise exception ''step-up required: this sign-in needs one of your passkeys, not a new one'' using errcode = ''42501'',
      hint = ''passkey_step_up_required'';
  end if;
  if me.break_glass then'],
    -- 3: escalating TOTP lockouts
    array['app.totp_verify', 'update app.totp_factors x set last_step = matched, failures = 0, locked_until = null,',
          'update app.totp_factors x set last_step = matched, failures = 0, locked_until = null, lockouts = 0,'],
    array['app.totp_verify',
          'locked_until = case when x.failures + 1 >= 5 then now() + interval ''15 minutes'' else x.locked_until end
     where x.org_id = f.org_id and x.user_id = f.user_id
    returning case when x.locked_until > now() then ''locked'' else ''invalid'' end into status;',
          'lockouts = case when x.failures + 1 >= 5 then x.lockouts + 1 else x.lockouts end,
           locked_until = case when x.failures + 1 >= 5
                               then now() + least(interval ''15 minutes'' * power(2, least(x.lockouts, 7)),
                                                  interval ''24 hours'')
                               else x.locked_until end
     where x.org_id = f.org_id and x.user_id = f.user_id
    returning case when x.locked_until > now() then ''lockout'' else ''invalid'' end into status;']
  ];
begin
  for i in 1 .. array_length(edits, 1) loop
    f := edits[i][1];
    select pg_get_functiondef(p.oid) into def
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname || '.' || p.proname = f;
    was := def;
    def := replace(def, edits[i][2], edits[i][3]);
    if def = was then
      raise exception '00173: % does not hold the text to change (edit %)', f, i;
    end if;
    execute def;
  end loop;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
