-- A session that registering a passkey raised to AAL2 is bound to that
-- passkey (a review of 00305, LOW). 00292 and 00305 bind a session to
-- each passkey that steps it up, so deleting any of them ends it; but a
-- member with no second factor who registers their first passkey in a
-- sign-in link's session (AAL1) is raised to AAL2 by app.passkey_register,
-- which bound nothing: someone holding that session (a link read from the
-- member's mailbox) who registered a passkey of their own kept an AAL2
-- session after the member found and deleted the unknown passkey.
--
-- Now the registration binds the session it raises, as a step-up by the
-- new passkey would: passkey_id when the session is bound to none yet,
-- else step_up_passkey_ids. A session already at AAL2 (stepped up by
-- another factor, which a member with a factor must do before registering)
-- is not bound: the passkey raised nothing. Otherwise as in 00111 and 00173.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT passkey_id uuid) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{register}');
  me record;
  a record;
begin
  select * into me from private.me_factor();
  if me.session_id is distinct from c.session_id then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if private.passkey_has_factor(me.org_id, me.user_id) and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if exists (select from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id)
     and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'step-up required: present one of your passkeys first' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if private.passkey_has_factor(me.org_id, me.user_id)
     and exists (select from app.sessions s where s.id = me.session_id and s.step_up = 'passkey') then
    raise exception 'step-up required: this sign-in needs one of your passkeys, not a new one' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.create', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.credential_id is null or p_public_key is null
      or substring(p_auth_data from a.key_offset for octet_length(p_public_key)) is distinct from p_public_key then 'invalid'
    when p_name is null or length(p_name) not between 1 and 100 or cardinality(p_transports) > 8 then 'invalid'
    when exists (select from app.passkeys k where k.credential_id = a.credential_id) then 'exists'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(me.org_id, 'auth.passkey.register', 'denied', 'session', me.session_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status));
    return;
  end if;
  insert into app.passkeys (org_id, user_id, credential_id, public_key, aaguid, sign_count, backup_eligible,
                            backup_state, transports, name)
  values (me.org_id, me.user_id, a.credential_id, p_public_key, a.aaguid, a.sign_count, a.backup_eligible,
          a.backup_state, coalesce(p_transports, '{}'), p_name)
  returning id into passkey_id;
  -- A session this passkey raised to AAL2 is bound to it, as a step-up by
  -- it would be (00292, 00305): deleting the passkey ends the session.
  update app.sessions s set assurance = 2, authenticated_at = now(),
         amr = (select array_agg(distinct x order by x) from unnest(s.amr || array['passkey']) x),
         passkey_id = case when s.assurance < 2 then coalesce(s.passkey_id, passkey_register.passkey_id) else s.passkey_id end,
         step_up_passkey_ids = case when s.assurance < 2 and s.passkey_id is not null
                                      then s.step_up_passkey_ids || passkey_register.passkey_id
                                    else s.step_up_passkey_ids end
   where s.id = me.session_id;
  perform audit.append_as(me.org_id, 'auth.passkey.register', 'success', 'passkey', passkey_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('session', me.session_id, 'aaguid', a.aaguid,
                                    'backup_eligible', a.backup_eligible, 'backup_state', a.backup_state));
end $$;
-- +goose StatementEnd

alter function app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text, p_ip text, p_ua text) owner to ward_definer;
revoke all on function app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text, p_ip text, p_ua text) from public;
grant execute on function app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text, p_ip text, p_ua text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
