-- A break-glass activation racing the removal of its user's designation
-- (a LOW left by an earlier review): app.break_glass_activate read the
-- designation without a lock, so an activation whose check ran before
-- app.break_glass_designate(user, false) committed, and whose session was
-- inserted after that transaction had ended the user's emergency sessions,
-- left a live break-glass session for a user no longer designated (for up
-- to its hour). The check now locks the designation row (for share): an
-- undesignation in progress is waited for and then seen gone
-- ('not_designated'), and one that starts after the check waits for the
-- activation to commit, and its statement that ends emergency sessions
-- then sees the new one. A role change or a revoked membership deletes the
-- designation too (app.membership_revoked) before app.update_member ends
-- the member's sessions, so it meets the same lock; the membership row
-- itself is not locked (that would take the two rows in the other order
-- from app.update_member and app.membership_revoked).

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- app.break_glass_activate as before (00081 and later), the designation
-- locked.
create or replace function app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT activation_id uuid, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT admin_ids uuid[], OUT admin_emails bytea[]) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin}');
  k app.passkeys%rowtype;
  a record;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  jkt text := substring(current_setting('ward.dpop', true) from '^[A-Za-z0-9_-]{43}$');
begin
  if octet_length(p_session_hash) is distinct from 32 then
    raise exception 'break_glass_activate: a 32-byte session hash is required' using errcode = '22023';
  end if;
  if private.credential_hash() is not null then
    raise exception 'break_glass_activate: activate without a credential' using errcode = '42501';
  end if;
  select x.* into k from app.passkeys x
    join app.memberships m on m.org_id = x.org_id and m.user_id = x.user_id and m.revoked_at is null
   where x.credential_id = p_credential_id
     for update of x;
  if not found then
    raise exception 'forbidden: no such passkey' using errcode = '42501';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.get', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.backup_eligible <> k.backup_eligible then 'invalid'
    when (a.sign_count <> 0 or k.sign_count <> 0) and a.sign_count <= k.sign_count then 'sign_count'
    -- for share: a designation being taken away (app.break_glass_designate,
    -- whose transaction then ends the user's emergency sessions) is waited
    -- for and then seen gone, and one taken away after this check waits
    -- for this activation and then ends the session it made.
    when not exists (select from app.break_glass_users b
                       join app.memberships m on m.org_id = b.org_id and m.user_id = b.user_id
                      where b.org_id = k.org_id and b.user_id = k.user_id and m.role in ('provider', 'lead', 'admin')
                        for share of b)
      then 'not_designated'
    when (select count(*) from app.passkeys x where x.org_id = k.org_id and x.user_id = k.user_id) < 2
      then 'too_few_passkeys'
    else 'ok' end;
  if status = 'sign_count' then
    perform audit.append_as(k.org_id, 'auth.passkey.sign_count_regression', 'denied', 'passkey', k.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('stored', k.sign_count, 'presented', a.sign_count, 'purpose', 'break_glass'));
  end if;
  if status <> 'ok' then
    perform audit.append_as(k.org_id, 'auth.break_glass.activate', 'denied', 'user', k.user_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status, 'passkey', k.id));
    return;
  end if;
  update app.passkeys x set sign_count = a.sign_count, backup_state = a.backup_state, last_used_at = now()
   where x.org_id = k.org_id and x.id = k.id;
  select * into o from app.orgs x where x.id = k.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min, 60);
  absolute_expires_at := now() + interval '60 minutes';
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at, break_glass, passkey_id, dpop_jkt, browser)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now(), true, k.id, jkt, jkt is null)
  returning id into session_id;
  insert into app.break_glass_activations (org_id, user_id, session_id, passkey_id, expires_at)
  values (k.org_id, k.user_id, session_id, k.id, absolute_expires_at)
  returning id into activation_id;
  -- From here on the transaction acts as the new session.
  perform set_config('ward.credential', encode(p_session_hash, 'hex'), true);
  perform set_config('ward.dpop', coalesce(jkt, 'browser'), true);
  perform audit.append_as(k.org_id, 'auth.break_glass.activate', 'success', 'break_glass_activation', activation_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('method', 'passkey', 'aal', 2, 'uv', true, 'passkey', k.id,
                                    'session', session_id, 'expires_at', absolute_expires_at));
  select coalesce(array_agg(m.user_id order by m.created_at), '{}'),
         coalesce(array_agg(u.email_enc order by m.created_at), '{}')
    into admin_ids, admin_emails
    from app.memberships m join app.users u on u.id = m.user_id
   where m.org_id = k.org_id and m.role = 'admin' and m.revoked_at is null;
  user_id := k.user_id; org_id := k.org_id;
end $_$;
-- +goose StatementEnd

-- A row lock needs an UPDATE privilege on some column of the table: the
-- narrowest, on the designation's timestamp, for the definer functions'
-- role (ward_app still has SELECT only).
grant update (designated_at) on app.break_glass_users to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
