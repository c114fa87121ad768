-- A member replaced their TOTP authenticator by removing it and enrolling
-- again (app.totp_enrol refuses to write over a confirmed factor): for a
-- while they had none, and one whose bar needs a second factor and who
-- holds no passkey could not remove it at all (the last-factor rule of
-- app.totp_delete). Replacement without the gap:
--
--  * app.totp_replace stores a new secret (sealed by the server under the
--    org's keys, like the current one) beside the confirmed factor, as
--    pending: only from a session that presented a second factor within
--    the last 10 minutes (42501, step_up_required), not break-glass, and
--    only over a confirmed factor. The pending secret belongs to that
--    session and lives 10 minutes (a constant of these functions, not the
--    caller's). A new replacement overwrites an older pending one.
--  * The pending secret never verifies anything: app.totp_verify checks a
--    code against the secret whose hash is secret_hash, which stays the
--    old factor's, so a sign-in or a step-up presents the old factor until
--    the swap.
--  * app.totp_confirm takes the pending secret's first code, from the
--    session that enrolled it, still within the step-up window: it swaps
--    the secret in (the accepted step becomes its last step, failures,
--    lockouts and lock are reset), ends the member's other sessions that
--    presented TOTP (the old secret may be what leaked, as app.totp_delete
--    has it), is audited as auth.mfa.replace (a new action) and answers
--    the member's sealed address for the notice. Five wrong codes discard
--    the pending secret; an expired one is discarded when presented.
--  * app.totp_pending_secret answers the caller's session its own live
--    pending secret (sealed), for the server to open and present.
--
-- The table's constraint holds the pending columns together, over a
-- confirmed factor only.
-- +goose Up
set local role ward_owner;

alter table app.totp_factors
  add column pending_secret_enc bytea,
  add column pending_secret_hash bytea,
  add column pending_created_at timestamptz,
  add column pending_session uuid,
  add column pending_failures integer not null default 0,
  add constraint totp_factors_pending_check check (
    (pending_secret_enc is null) = (pending_secret_hash is null)
    and (pending_secret_enc is null) = (pending_created_at is null)
    and (pending_secret_enc is null) = (pending_session is null)
    and (pending_secret_enc is null or (confirmed_at is not null and octet_length(pending_secret_hash) = 32))),
  add constraint totp_factors_pending_failures_check check (pending_failures between 0 and 5);

comment on column app.totp_factors.pending_secret_enc is
  'a replacement secret not yet confirmed (AEAD ciphertext under the org keyset, AD totp_factors|secret|org|user: it becomes secret_enc as it is)';
comment on column app.totp_factors.pending_session is
  'the session that enrolled the replacement: only it confirms it, within 10 minutes of pending_created_at';

-- +goose StatementBegin
create function app.totp_replace(p_secret_enc bytea, p_secret_hash bytea, p_request text default null,
  out status text, out confirm_by timestamptz)
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  f app.totp_factors%rowtype;
begin
  select * into me from private.me_factor();
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
  if octet_length(p_secret_hash) is distinct from 32 or coalesce(octet_length(p_secret_enc), 0) < 20 then
    raise exception 'totp_replace: a sealed secret and its 32-byte hash are required' using errcode = '22023';
  end if;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found or f.confirmed_at is null then
    status := 'not_confirmed';
    return;
  end if;
  if p_secret_hash = f.secret_hash then
    raise exception 'totp_replace: the replacement is the current secret' using errcode = '22023';
  end if;
  update app.totp_factors x
     set pending_secret_enc = p_secret_enc, pending_secret_hash = p_secret_hash, pending_created_at = now(),
         pending_session = me.session_id, pending_failures = 0
   where x.org_id = f.org_id and x.user_id = f.user_id;
  perform audit.append_as(me.org_id, 'auth.mfa.enrol', 'success', 'user', me.user_id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'replacement', true,
      'session', me.session_id));
  status := 'ok';
  confirm_by := now() + interval '10 minutes';
end $$;
-- +goose StatementEnd
alter function app.totp_replace(bytea, bytea, text) owner to ward_definer;
revoke all on function app.totp_replace(bytea, bytea, text) from public;
grant execute on function app.totp_replace(bytea, bytea, text) to ward_app;

-- +goose StatementBegin
create function app.totp_pending_secret(out secret_enc bytea, out confirm_by timestamptz)
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    return;
  end if;
  select f.pending_secret_enc, f.pending_created_at + interval '10 minutes' into secret_enc, confirm_by
    from app.totp_factors f
   where f.org_id = me.org_id and f.user_id = me.user_id and f.pending_session = me.session_id
     and f.pending_created_at > now() - interval '10 minutes';
end $$;
-- +goose StatementEnd
alter function app.totp_pending_secret() owner to ward_definer;
revoke all on function app.totp_pending_secret() from public;
grant execute on function app.totp_pending_secret() to ward_app;

-- +goose StatementBegin
create function app.totp_confirm(p_secret bytea, p_code text, p_request text default null, p_ip text default null,
  p_ua text default null, out status text, out email_enc bytea)
language plpgsql security definer set search_path = '' as $_$
declare
  me record;
  f app.totp_factors%rowtype;
  now_step bigint := floor(extract(epoch from now()) / 30)::bigint;
  matched bigint;
  ended int;
begin
  select * into me from private.me_factor();
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
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found or f.pending_secret_enc is null or f.pending_session is distinct from me.session_id then
    status := 'not_pending';
    return;
  end if;
  if f.pending_created_at <= now() - interval '10 minutes' then
    update app.totp_factors x
       set pending_secret_enc = null, pending_secret_hash = null, pending_created_at = null, pending_session = null,
           pending_failures = 0
     where x.org_id = f.org_id and x.user_id = f.user_id;
    perform audit.append_as(me.org_id, 'auth.mfa.replace', 'denied', 'user', me.user_id, p_request => p_request,
      p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
      p_details => jsonb_build_object('method', 'totp', 'result', 'expired', 'session', me.session_id));
    status := 'expired';
    return;
  end if;
  if p_secret is null or pg_catalog.sha256(p_secret) <> f.pending_secret_hash then
    raise exception 'totp_confirm: not the pending secret' using errcode = '22023';
  end if;
  if p_code ~ '^[0-9]{6}$' then
    select s into matched from generate_series(now_step - 1, now_step + 1) s
     where private.hotp(p_secret, s, 6, 'sha1') = p_code
     order by s desc limit 1;
  end if;
  if matched is null then
    -- Five wrong codes discard the replacement: the member enrols again.
    update app.totp_factors x
       set pending_failures = case when x.pending_failures + 1 >= 5 then 0 else x.pending_failures + 1 end,
           pending_secret_enc = case when x.pending_failures + 1 >= 5 then null else x.pending_secret_enc end,
           pending_secret_hash = case when x.pending_failures + 1 >= 5 then null else x.pending_secret_hash end,
           pending_created_at = case when x.pending_failures + 1 >= 5 then null else x.pending_created_at end,
           pending_session = case when x.pending_failures + 1 >= 5 then null else x.pending_session end
     where x.org_id = f.org_id and x.user_id = f.user_id
    returning case when x.pending_secret_enc is null then 'discarded' else 'invalid' end into status;
    perform audit.append_as(me.org_id, 'auth.mfa.replace', 'denied', 'user', me.user_id, p_request => p_request,
      p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
      p_details => jsonb_build_object('method', 'totp', 'result', status, 'session', me.session_id));
    return;
  end if;
  -- The old secret may be what leaked: the member's other sessions that
  -- presented TOTP end, as a removal ends them (this one stays: it just
  -- presented the new secret).
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp']
     and s.id <> me.session_id;
  update app.sessions s set revoked_at = now(), revoked_reason = 'totp_replaced'
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp']
     and s.id <> me.session_id;
  update app.totp_factors x
     set secret_enc = x.pending_secret_enc, secret_hash = x.pending_secret_hash, created_at = now(),
         confirmed_at = now(), last_step = matched, failures = 0, lockouts = 0, locked_until = null,
         pending_secret_enc = null, pending_secret_hash = null, pending_created_at = null, pending_session = null,
         pending_failures = 0
   where x.org_id = f.org_id and x.user_id = f.user_id;
  perform audit.append_as(me.org_id, 'auth.mfa.replace', 'success', 'user', me.user_id, p_request => p_request,
    p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('method', 'totp', 'sessions_ended', ended, 'session', me.session_id));
  select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  status := 'ok';
end $_$;
-- +goose StatementEnd
alter function app.totp_confirm(bytea, text, text, text, text) owner to ward_definer;
revoke all on function app.totp_confirm(bytea, text, text, text, text) from public;
grant execute on function app.totp_confirm(bytea, text, text, text, text) to ward_app;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.mfa.replace', 'auth', false, false, true, '{}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
