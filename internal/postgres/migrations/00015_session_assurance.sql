-- Assurance on the session, enforced by the database (issue 8 §1).
--
-- Every session carries its assurance level (1 or 2) and its methods (amr).
-- Every credential has a bar: admins and leads always need AAL2 (an instance
-- rule no org can switch off); an org's require_mfa raises every role to
-- AAL2 and its require_passkey asks for a passkey with user verification
-- ('passkey' in amr). A session below its bar is *pending*:
--
--   * private.me(), and so every RLS helper, policy and procedure built on
--     it, resolves a pending session to nobody: an AAL1 admin session reads
--     zero rows, whatever the server asks.
--   * private.me_pending() is the one resolver underneath: it resolves any
--     live credential, pending or not, and says what it still needs
--     (pending = 'mfa' | 'passkey', NULL when it meets its bar). Only the
--     definer procedures may call it (ward_app may not): app.whoami (so a
--     pending session can read /v1/me and learn what to present),
--     app.logout, app.org_keyset (a pending session opens its own second
--     factor's sealed secret) and the second-factor procedures.
--   * Tightening an org's policy ends, in the same transaction, every
--     session of the org that no longer meets it.

-- +goose Up
set local role ward_owner;

alter table app.orgs add column require_mfa boolean not null default false,
  add column require_passkey boolean not null default false;
alter table app.sessions add constraint sessions_amr_check
  check (amr <@ array['email', 'totp', 'passkey', 'recovery_code', 'sso']::text[] and cardinality(amr) between 1 and 5);

-- The helpers' owner reads the org's assurance policy, nothing else of it.
grant select (id, require_mfa, require_passkey) on app.orgs to ward_rls;

-- +goose StatementBegin
-- assurance_bar is what a member of role needs in an org with these
-- policies: 'passkey', 'mfa', or NULL (a first factor is enough).
create function private.assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean)
returns text
language sql immutable set search_path = '' as $$
  select case when p_require_passkey then 'passkey'
              when p_require_mfa or p_role in ('admin', 'lead') then 'mfa' end
$$;

-- meets_bar reports whether a session of assurance p_aal with methods
-- p_amr meets p_bar. A UV passkey is AAL2 and satisfies both bars; TOTP and
-- recovery codes satisfy only 'mfa'.
create function private.meets_bar(p_bar text, p_aal int, p_amr text[]) returns boolean
language sql immutable set search_path = '' as $$
  select case p_bar when 'passkey' then p_aal >= 2 and p_amr @> array['passkey']
                    when 'mfa' then p_aal >= 2
                    else true end
$$;

-- me_pending resolves the presented credential (ward.credential) to a
-- principal whether or not it meets its assurance bar, and says what it
-- still needs in pending. It is the one resolver: me() is this minus the
-- pending credentials. The ward.org hint must name the principal's org.
create function private.me_pending(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text,
  out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  h bytea := private.credential_hash();
begin
  if h is null then
    return;
  end if;
  select 'session', s.id, s.user_id, s.org_id, m.role, s.id, s.assurance, s.authenticated_at, false, null, s.amr,
         case when not private.meets_bar(private.assurance_bar(m.role, o.require_mfa, o.require_passkey),
                                          s.assurance, s.amr)
              then private.assurance_bar(m.role, o.require_mfa, o.require_passkey) end
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
    from app.sessions s
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
    join app.orgs o on o.id = s.org_id
   where s.token_hash = h
     and s.revoked_at is null
     and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;

-- me resolves the presented credential to a principal only when it meets
-- its assurance bar; a pending credential is nobody. Every RLS helper and
-- every procedure that reads or changes data builds on it.
create or replace function private.me(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text)
language plpgsql stable security definer set search_path = '' as $$
begin
  select r.kind, r.credential_id, r.user_id, r.org_id, r.role, r.session_id, r.aal, r.auth_time, r.break_glass, r.device
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device
    from private.me_pending() r
   where r.pending is null;
end $$;
-- +goose StatementEnd

alter function private.assurance_bar(text, boolean, boolean) owner to ward_rls;
alter function private.meets_bar(text, int, text[]) owner to ward_rls;
alter function private.me_pending() owner to ward_rls;
revoke all on function private.assurance_bar(text, boolean, boolean), private.meets_bar(text, int, text[]),
  private.me_pending() from public;
grant execute on function private.assurance_bar(text, boolean, boolean), private.meets_bar(text, int, text[])
  to ward_definer, ward_app;
grant execute on function private.me_pending() to ward_definer;

-- The registry: changing the assurance policy is the procedure's to record.
alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires)
values ('org.assurance_policy.update', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

drop function app.whoami();

-- +goose StatementBegin
-- whoami resolves the presented credential to its principal, pending or
-- not (pending says what it still needs), and, for a session, touches
-- last_seen_at when private.touch_due says so. No row = no live credential.
create function app.whoami(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal int, out auth_time timestamptz, out absolute_expires_at timestamptz, out idle_expires_at timestamptz,
  out amr text[], out pending text)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
begin
  select * into me from private.me_pending();
  if me.credential_id is null then
    return;
  end if;
  kind := me.kind; credential_id := me.credential_id; user_id := me.user_id; org_id := me.org_id;
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := me.auth_time;
  amr := me.amr; pending := me.pending;
  if me.kind = 'session' then
    update app.sessions x set last_seen_at = now()
     where x.id = me.session_id and private.touch_due(x.last_seen_at, x.idle_timeout_min)
    returning * into s;
    if not found then
      select * into s from app.sessions x where x.id = me.session_id;
    end if;
    absolute_expires_at := s.absolute_expires_at;
    idle_expires_at := least(s.absolute_expires_at, s.last_seen_at + make_interval(mins => s.idle_timeout_min));
  end if;
  return next;
end $$;

-- logout ends the presented session, pending or not, and records it. It
-- returns false when the credential names no live session.
create function app.logout(p_request text default null) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me_pending();
  if me.session_id is null then
    return false;
  end if;
  -- The event first: after the update the credential names nobody.
  perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', me.session_id,
    p_request => p_request, p_actor => me.user_id, p_details => jsonb_build_object('reason', 'logout'));
  update app.sessions s set revoked_at = now(), revoked_reason = 'logout'
   where s.id = me.session_id and s.revoked_at is null;
  return true;
end $$;

-- org_keyset returns the wrapped keysets of the caller's org, or of the
-- instance (org ffffffff-…). A pending session gets its org's keysets too:
-- it opens its own second factor's sealed secret with them. Keys are not
-- data: every row stays behind RLS, which refuses a pending session.
create or replace function app.org_keyset(p_org uuid, out purpose text, out wrapped bytea)
returns setof record
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_org <> 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
     and p_org is distinct from (select m.org_id from private.me_pending() m) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query select k.purpose, k.wrapped from private.keysets k where k.org_id = p_org;
end $$;

-- set_assurance_policy (admins) sets the org's require_mfa and
-- require_passkey and ends, in the same transaction, every session of the
-- org that no longer meets its bar. An admin may require passkeys only
-- from a session that presented one (so the policy cannot lock its author
-- out). Returns how many sessions it ended.
create function app.set_assurance_policy(p_require_mfa boolean, p_require_passkey boolean,
  p_request text default null)
returns int
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  old app.orgs%rowtype;
  ended int;
begin
  select * into me from private.me_pending() where pending is null;
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_require_mfa is null or p_require_passkey is null then
    raise exception 'require_mfa and require_passkey are both required' using errcode = '22023';
  end if;
  if p_require_passkey and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'require_passkey may be set only from a session signed in with a passkey' using errcode = '22023';
  end if;
  select * into old from app.orgs where id = me.org_id for update;
  update app.orgs set require_mfa = p_require_mfa, require_passkey = p_require_passkey where id = me.org_id;
  update app.sessions s set revoked_at = now(), revoked_reason = 'assurance_policy'
    from app.memberships m
   where m.org_id = s.org_id and m.user_id = s.user_id
     and s.org_id = me.org_id and s.revoked_at is null
     and not private.meets_bar(private.assurance_bar(m.role, p_require_mfa, p_require_passkey), s.assurance, s.amr);
  get diagnostics ended = row_count;
  perform audit.append_as(me.org_id, 'org.assurance_policy.update', 'success', 'org', me.org_id,
    p_request => p_request,
    p_details => jsonb_build_object('require_mfa', p_require_mfa, 'require_passkey', p_require_passkey,
                                    'old_require_mfa', old.require_mfa, 'old_require_passkey', old.require_passkey,
                                    'sessions_ended', ended));
  return ended;
end $$;
-- +goose StatementEnd

alter function app.whoami() owner to ward_definer;
alter function app.logout(text) owner to ward_definer;
alter function app.set_assurance_policy(boolean, boolean, text) owner to ward_definer;
grant select (require_mfa, require_passkey) on app.orgs to ward_definer;
revoke all on function app.whoami(), app.logout(text), app.set_assurance_policy(boolean, boolean, text) from public;
grant execute on function app.whoami(), app.logout(text), app.set_assurance_policy(boolean, boolean, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
