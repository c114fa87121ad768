-- Break-glass emergency access (issue 8 §8).
--
-- An org admin designates emergency-access users (app.break_glass_users):
-- staff members holding at least two passkeys. One of them activates
-- break-glass with a fresh user-verified passkey assertion (a sign-in
-- challenge; no magic link, so it works with mail down) and a written
-- reason. app.break_glass_activate then, in one transaction:
--
--   * creates a session flagged break_glass, AAL2 (amr passkey), whose
--     absolute expiry is 60 minutes after its creation and whose idle
--     timeout is at most 60 minutes. The lifetime is a constant of the
--     procedure and a CHECK constraint of app.sessions
--     (sessions_break_glass_check): no caller passes it, and nothing may
--     renew it (rotation keeps the absolute expiry; nobody may update it);
--   * records the activation (app.break_glass_activations): the open review
--     item that stays on the org until an admin other than the operator
--     closes it with a note (app.break_glass_review);
--   * binds the new session as the transaction's credential, so that the
--     activation's own event, and the sealing of the reason under the org's
--     keys (app.org_keyset, app.break_glass_reason), are the new session's.
--     A deferred constraint trigger refuses to commit an activation without
--     its reason.
--
-- While it lives, the session reads every patient of its org and their
-- entries: private.am_i_break_glass() is true for it, and the patients and
-- clinical_entries SELECT policies admit it. Writes follow the member's
-- ordinary role. private.me_pending() reports break_glass for it, so
-- audit.append_as marks every event it makes break_glass = true.

-- +goose Up
set local role ward_owner;

alter table app.sessions add column break_glass boolean not null default false;
alter table app.sessions add constraint sessions_break_glass_check
  check (not break_glass or (assurance = 2 and amr @> array['passkey'] and idle_timeout_min <= 60
                             and absolute_expires_at <= created_at + interval '60 minutes'));
grant select (break_glass) on app.sessions to ward_rls, ward_app, ward_definer;

create table app.break_glass_users (
  org_id uuid not null,
  user_id uuid not null,
  designated_by uuid not null,
  designated_at timestamptz not null default now(),
  primary key (org_id, user_id),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id),
  foreign key (org_id, designated_by) references app.memberships (org_id, user_id)
);

create table app.break_glass_activations (
  org_id uuid not null,
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  session_id uuid not null,
  passkey_id uuid not null,
  -- The written reason and the reviewer's note: AEAD ciphertext under the
  -- org's keys, bound to break_glass_activations|column|org|id.
  reason_enc bytea check (octet_length(reason_enc) between 1 and 16384),
  activated_at timestamptz not null default now(),
  expires_at timestamptz not null,
  reviewed_at timestamptz,
  reviewed_by uuid,
  review_note_enc bytea check (octet_length(review_note_enc) between 1 and 16384),
  primary key (org_id, id),
  unique (org_id, session_id),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id),
  foreign key (org_id, session_id) references app.sessions (org_id, id),
  foreign key (org_id, reviewed_by) references app.memberships (org_id, user_id),
  check ((reviewed_at is null) = (reviewed_by is null) and (reviewed_at is null) = (review_note_enc is null))
);
create index break_glass_activations_open_idx on app.break_glass_activations (org_id, activated_at desc)
  where reviewed_at is null;

alter table app.break_glass_users enable row level security;
alter table app.break_glass_users force row level security;
alter table app.break_glass_activations enable row level security;
alter table app.break_glass_activations force row level security;

-- The org's admins (sessions, not keys) see both; only the procedures write.
create policy break_glass_users_select on app.break_glass_users for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));
create policy break_glass_activations_select on app.break_glass_activations for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));
grant select on app.break_glass_users, app.break_glass_activations to ward_app;
grant select, insert, delete on app.break_glass_users to ward_definer;
grant select, insert on app.break_glass_activations to ward_definer;
grant update (reason_enc, reviewed_at, reviewed_by, review_note_enc) on app.break_glass_activations to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.break_glass.activate', 'auth',   false, false, true,  '{object}'),
  ('org.break_glass.designate', 'org',    false, false, true,  '{object}'),
  ('org.break_glass.review',    'org',    false, false, true,  '{object}'),
  ('break_glass.list',          'access', true,  false, false, '{}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- me_pending as in 00027, except that it reports a session's break_glass
-- flag (audit.append_as records it on every event).
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
           case when not private.meets_bar(private.assurance_bar(m.role, o.require_mfa, o.require_passkey),
                                            s.assurance, s.amr)
                then private.assurance_bar(m.role, o.require_mfa, o.require_passkey) end
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
  end if;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;

-- am_i_break_glass reports whether the presented credential is a live
-- break-glass session (it reads every patient of its org).
create function private.am_i_break_glass() returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return coalesce((select m.break_glass from private.me() m), false);
end $$;

-- break_glass_reason_given refuses, at commit, an activation whose reason
-- was never written.
create function private.break_glass_reason_given() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if not exists (select from app.break_glass_activations a
                  where a.org_id = new.org_id and a.id = new.id and a.reason_enc is not null) then
    raise exception 'a break-glass activation needs its written reason' using errcode = '23514';
  end if;
  return null;
end $$;

-- break_glass_admin returns the caller when it is an admin's live session
-- (not a key, not a break-glass session) that presented a second factor
-- within the last 10 minutes; else it raises 42501.
create function private.break_glass_admin(out user_id uuid, out org_id uuid)
language plpgsql stable set search_path = '' as $$
declare
  me record;
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  user_id := me.user_id; org_id := me.org_id;
end $$;

-- break_glass_designate (an admin who stepped up) makes p_user an
-- emergency-access user of the org (p_on) or stops it. Only a live staff
-- member (provider, lead, admin) holding at least two passkeys may be
-- designated: P0002 when p_user is no such member, 22023 when they hold
-- fewer passkeys. Returns whether anything changed; audited when it did.
create function app.break_glass_designate(p_user uuid, p_on boolean, p_request text default null)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  n int;
begin
  select * into me from private.break_glass_admin();
  if p_user is null or p_on is null then
    raise exception 'break_glass_designate: user and on are required' using errcode = '22023';
  end if;
  if p_on then
    if not exists (select from app.memberships m where m.org_id = me.org_id and m.user_id = p_user
                     and m.revoked_at is null and m.role in ('provider', 'lead', 'admin')) then
      raise exception 'no live staff member of this org has this id' using errcode = 'P0002';
    end if;
    if (select count(*) from app.passkeys k where k.org_id = me.org_id and k.user_id = p_user) < 2 then
      raise exception 'an emergency-access user must hold at least two passkeys' using errcode = '22023';
    end if;
    insert into app.break_glass_users (org_id, user_id, designated_by) values (me.org_id, p_user, me.user_id)
    on conflict do nothing;
  else
    delete from app.break_glass_users b where b.org_id = me.org_id and b.user_id = p_user;
  end if;
  get diagnostics n = row_count;
  if n > 0 then
    perform audit.append_as(me.org_id, 'org.break_glass.designate', 'success', 'user', p_user,
      p_request => p_request, p_details => jsonb_build_object('designated', p_on));
  end if;
  return n > 0;
end $$;

-- break_glass_activate finishes a break-glass activation whose passkey
-- assertion the server verified (signature) with the key
-- app.passkey_credential gave it, for the sign-in challenge spent in this
-- transaction. The database checks the client and authenticator data (UV
-- required) and the counter, as app.passkey_assert does, and that the
-- passkey's member is a designated emergency-access user, still staff
-- (provider, lead or admin), holding at least two passkeys. Status 'ok', 'invalid', 'sign_count', 'not_designated' or
-- 'too_few_passkeys' (refusals audited; the caller commits whatever the
-- status). On 'ok' it creates the 60-minute break-glass session with the
-- token hash p_session_hash, records the activation, binds the session as
-- this transaction's credential (ward.credential), audits, and returns the
-- org's admins (ids and sealed addresses) to notify. The caller must then
-- store the sealed reason (app.break_glass_reason) before committing.
create function app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea,
  p_auth_data bytea, p_session_hash bytea, p_request text default null, p_ip text default null,
  p_ua text default null,
  out status text, out activation_id uuid, out session_id uuid, out user_id uuid, out org_id uuid,
  out absolute_expires_at timestamptz, out idle_timeout_min int, out admin_ids uuid[], out admin_emails bytea[])
language plpgsql volatile security definer set search_path = '' as $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin}');
  k app.passkeys%rowtype;
  a record;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
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
    when not exists (select from app.break_glass_users b
                       join app.memberships m on m.org_id = b.org_id and m.user_id = b.user_id
                      where b.org_id = k.org_id and b.user_id = k.user_id and m.role in ('provider', 'lead', 'admin'))
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
                            assurance, amr, authenticated_at, break_glass)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now(), true)
  returning id into session_id;
  insert into app.break_glass_activations (org_id, user_id, session_id, passkey_id, expires_at)
  values (k.org_id, k.user_id, session_id, k.id, absolute_expires_at)
  returning id into activation_id;
  -- From here on the transaction acts as the new session.
  perform set_config('ward.credential', encode(p_session_hash, 'hex'), true);
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
end $$;

-- break_glass_reason stores the sealed written reason of the presented
-- break-glass session's own activation, once.
create function app.break_glass_reason(p_activation uuid, p_reason_enc bytea) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.break_glass is not true then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if octet_length(p_reason_enc) is null or octet_length(p_reason_enc) not between 1 and 16384 then
    raise exception 'break_glass_reason: a sealed reason is required' using errcode = '22023';
  end if;
  update app.break_glass_activations x set reason_enc = p_reason_enc
   where x.org_id = me.org_id and x.id = p_activation and x.session_id = me.session_id and x.reason_enc is null;
  if not found then
    raise exception 'forbidden' using errcode = '42501';
  end if;
end $$;

-- break_glass_review (an admin who stepped up, not the operator) closes an
-- open review item with a sealed note. Returns false when the activation
-- is not the org's or was closed already.
create function app.break_glass_review(p_activation uuid, p_note_enc bytea, p_request text default null)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  x app.break_glass_activations%rowtype;
begin
  select * into me from private.break_glass_admin();
  if octet_length(p_note_enc) is null or octet_length(p_note_enc) not between 1 and 16384 then
    raise exception 'break_glass_review: a sealed note is required' using errcode = '22023';
  end if;
  select * into x from app.break_glass_activations a
   where a.org_id = me.org_id and a.id = p_activation and a.reviewed_at is null for update;
  if not found then
    return false;
  end if;
  if x.user_id = me.user_id then
    raise exception 'another admin must review your own break-glass access' using errcode = '42501';
  end if;
  update app.break_glass_activations a set reviewed_at = now(), reviewed_by = me.user_id, review_note_enc = p_note_enc
   where a.org_id = x.org_id and a.id = x.id;
  perform audit.append_as(me.org_id, 'org.break_glass.review', 'success', 'break_glass_activation', x.id,
    p_request => p_request, p_details => jsonb_build_object('operator', x.user_id, 'session', x.session_id));
  return true;
end $$;
-- +goose StatementEnd

create constraint trigger break_glass_reason_given after insert on app.break_glass_activations
  deferrable initially deferred for each row execute function private.break_glass_reason_given();

alter function private.me_pending() owner to ward_rls;
alter function private.am_i_break_glass() owner to ward_rls;
alter function private.break_glass_reason_given() owner to ward_rls;
grant select (org_id, id, reason_enc) on app.break_glass_activations to ward_rls;
alter function app.break_glass_designate(uuid, boolean, text) owner to ward_definer;
alter function app.break_glass_activate(bytea, bytea, bytea, bytea, bytea, text, text, text) owner to ward_definer;
alter function app.break_glass_reason(uuid, bytea) owner to ward_definer;
alter function app.break_glass_review(uuid, bytea, text) owner to ward_definer;
revoke all on function private.am_i_break_glass(), private.break_glass_reason_given(), private.break_glass_admin(),
  app.break_glass_designate(uuid, boolean, text),
  app.break_glass_activate(bytea, bytea, bytea, bytea, bytea, text, text, text),
  app.break_glass_reason(uuid, bytea), app.break_glass_review(uuid, bytea, text) from public;
grant execute on function private.am_i_break_glass() to ward_app, ward_definer;
grant execute on function private.break_glass_admin() to ward_definer;
grant execute on function app.break_glass_designate(uuid, boolean, text),
  app.break_glass_activate(bytea, bytea, bytea, bytea, bytea, text, text, text),
  app.break_glass_reason(uuid, bytea), app.break_glass_review(uuid, bytea, text) to ward_app;

-- A live break-glass session reads every patient of its org, and their
-- entries.
drop policy patients_select on app.patients;
create policy patients_select on app.patients for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or id = any ((select private.my_patient_ids())::uuid[])
              or (select private.key_holds('gateway'))
              or (select private.am_i_break_glass())));
drop policy clinical_entries_select on app.clinical_entries;
create policy clinical_entries_select on app.clinical_entries for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or patient_id = any ((select private.my_patient_ids())::uuid[])
              or (select private.am_i_break_glass())));

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
