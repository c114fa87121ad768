-- Device binding required by role (issue 8 §6, device_binding_required_for).
--
-- An org lists the roles whose sessions must be bound to a device when
-- used from a non-browser client: bound to a DPoP key (00027), or presented
-- by a browser in the session cookie. The server tells the database which
-- it verified for this request in ward.dpop: a DPoP key's thumbprint, or
-- 'browser' when the credential came in the Secure, HttpOnly,
-- SameSite=Strict session cookie through the browser's same-origin checks.
-- A browser session is bound to the passkey or link ceremony that created
-- it in that browser, and a DPoP session to its key. An unbound session of
-- such a role presented any other way (a bearer token) is pending
-- 'device_binding' in private.me_pending(): it is no credential to any
-- policy or procedure (it may read /v1/me and log out). Where a session is
-- issued without a DPoP proof to a member of such a role, the server hands
-- the token out in the cookie only (internal/httpapi).
--
-- The default is no role: an upgrade must not cut off every bearer-token
-- client of an existing deployment. docs/authentication.md recommends
-- provider, lead and admin (the issue's default), set with
-- PUT /v1/org/device-binding-policy.

-- +goose Up
set local role ward_owner;

alter table app.orgs add column device_binding_required_for text[] not null default '{}'
  check (device_binding_required_for <@ array['patient', 'provider', 'lead', 'admin', 'stakeholder']::text[]);
grant select (device_binding_required_for) on app.orgs to ward_rls;
grant update (device_binding_required_for) on app.orgs to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.device_binding_policy.update', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- me_pending as in 00061, and an unbound session of a role the org
-- requires device binding of, presented neither with a verified DPoP
-- proof nor in the browser's cookie, is pending 'device_binding' (before
-- any second factor it may also lack: a bearer client must bind first).
create or replace function private.me_pending(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text,
  out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  h bytea := private.credential_hash();
  sid uuid;
begin
  if h is null then
    return;
  end if;
  select s.id into sid from app.sessions s where s.token_hash = h;
  if sid is null then
    select t.session_id into sid from app.session_tokens t
     where t.token_hash = h and t.retired_at > now() - interval '30 seconds';
  end if;
  if sid is not null then
    select 'session', s.id, s.user_id, s.org_id, m.role, s.id, s.assurance, s.authenticated_at, s.break_glass, null,
           s.amr,
           case when s.dpop_jkt is null and m.role = any (o.device_binding_required_for)
                     and current_setting('ward.dpop', true) is distinct from 'browser'
                then 'device_binding'
                when not private.meets_bar(coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)),
                                            s.assurance, s.amr)
                then coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)) end
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.sessions s
      join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
      join app.orgs o on o.id = s.org_id
     where s.id = sid
       and s.revoked_at is null
       and s.absolute_expires_at > now()
       and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
       and m.revoked_at is null
       and (s.dpop_jkt is null or s.dpop_jkt = nullif(current_setting('ward.dpop', true), ''));
  else
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
    -- SCIM tokens (00050): a live token resolves to its org, with no user,
    -- no role and no session.
    if kind is null then
      select 'scim_token', t.id, null, t.org_id, null, null, 1, t.created_at, false, null, '{}'::text[], null
        into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
        from app.scim_tokens t
       where t.token_hash = h and t.revoked_at is null;
    end if;
  end if;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;

-- set_device_binding_policy (an admin who stepped up within 10 minutes)
-- sets the roles whose non-browser sessions must be DPoP-bound. Sessions
-- already issued follow the new policy on their next request.
create function app.set_device_binding_policy(p_roles text[], p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  old text[];
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if p_roles is null or array_position(p_roles, null) is not null
     or not p_roles <@ array['patient', 'provider', 'lead', 'admin', 'stakeholder']::text[] then
    raise exception 'roles are patient, provider, lead, admin and stakeholder' using errcode = '22023';
  end if;
  select o.device_binding_required_for into old from app.orgs o where o.id = me.org_id for update;
  update app.orgs o set device_binding_required_for = (select coalesce(array_agg(distinct r order by r), '{}')
                                                        from unnest(p_roles) r)
   where o.id = me.org_id;
  perform audit.append_as(me.org_id, 'org.device_binding_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('roles', to_jsonb(p_roles), 'old_roles', to_jsonb(old)));
end $$;
-- +goose StatementEnd

alter function private.me_pending() owner to ward_rls;
alter function app.set_device_binding_policy(text[], text) owner to ward_definer;
revoke all on function app.set_device_binding_policy(text[], text) from public;
grant execute on function app.set_device_binding_policy(text[], text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
