-- A TOTP enrolment made while the member held no factor could be confirmed
-- after they got one: whoever read a new member's mail signed in with the
-- link, enrolled TOTP (allowed: no factor yet) without confirming it, and
-- once the member had registered a passkey, confirmed it from a link's
-- session and was AAL2 beside that passkey, around the rule of 00111 (a
-- member who holds a factor adds TOTP only within the step-up window).
-- app.totp_verify now asks of a confirmation what app.totp_enrol asks of an
-- enrolment.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.totp_verify(p_secret bytea, p_code text, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
  f app.totp_factors%rowtype;
  now_step bigint := floor(extract(epoch from now()) / 30)::bigint;
  matched bigint;
  status text;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found then
    return 'not_enrolled';
  end if;
  if p_secret is null or pg_catalog.sha256(p_secret) <> f.secret_hash then
    raise exception 'totp_verify: not the enrolled secret' using errcode = '22023';
  end if;
  -- Confirming an enrolment adds a factor, and asks what enrolling asks
  -- (app.totp_enrol): a member who holds a factor now (one added since the
  -- enrolment, say) confirms only within the step-up window. Else whoever
  -- read their mail before their first factor enrols, waits, and confirms
  -- from a link's session beside the member's passkey.
  if f.confirmed_at is null and private.passkey_has_factor(me.org_id, me.user_id)
     and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if f.locked_until > now() then
    status := 'locked';
  elsif p_code ~ '^[0-9]{6}$' then
    select s into matched from generate_series(now_step - 1, now_step + 1) s
     where private.hotp(p_secret, s, 6, 'sha1') = p_code
     order by s desc limit 1;
    status := case when matched is null or matched <= coalesce(f.last_step, -1) then 'invalid' else 'ok' end;
  else
    status := 'invalid';
  end if;

  if status = 'ok' then
    update app.totp_factors x set last_step = matched, failures = 0, locked_until = null, lockouts = 0,
           confirmed_at = coalesce(x.confirmed_at, now())
     where x.org_id = f.org_id and x.user_id = f.user_id;
    update app.sessions s set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct a order by a) from unnest(s.amr || array['totp']) a)
     where s.id = me.session_id;
  elsif status = 'invalid' then
    update app.totp_factors x
       set failures = case when x.failures + 1 >= 5 then 0 else x.failures + 1 end,
           lockouts = case when x.failures + 1 >= 5 then x.lockouts + 1 else x.lockouts end,
           locked_until = case when x.failures + 1 >= 5
                               then now() + least(interval '15 minutes' * power(2, least(x.lockouts, 7)),
                                                  interval '24 hours')
                               else x.locked_until end
     where x.org_id = f.org_id and x.user_id = f.user_id
    returning case when x.locked_until > now() then 'lockout' else 'invalid' end into status;
  end if;
  perform audit.append_as(me.org_id, 'auth.mfa.verify', case when status = 'ok' then 'success' else 'denied' end,
    'session', me.session_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('method', 'totp', 'result', status, 'confirmed', f.confirmed_at is not null));
  return status;
end $_$;

-- +goose StatementEnd

alter function app.totp_verify(bytea, text, text, text, text) owner to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
