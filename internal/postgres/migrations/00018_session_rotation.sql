-- Session token rotation with reuse detection (issue 8 §5).
--
-- A session's token rotates on step-up (a verified second factor): the
-- server presents the new token's hash to app.rotate_session, the old hash
-- moves to app.session_tokens, and for 30 seconds (requests in flight)
-- the old token still resolves to the session. After that it resolves to
-- nothing, and the first request that presents it (app.whoami runs on
-- every request) revokes the whole session, every token of it, and records
-- auth.token_reuse: a rotated token in use after its grace is a stolen one,
-- or was.

-- +goose Up
set local role ward_owner;

alter table app.sessions add constraint sessions_org_id_key unique (org_id, id);

create table app.session_tokens (
  org_id uuid not null,
  session_id uuid not null,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  retired_at timestamptz not null default now(),
  primary key (org_id, session_id, token_hash),
  foreign key (org_id, session_id) references app.sessions (org_id, id)
);
alter table app.session_tokens enable row level security;
alter table app.session_tokens force row level security;
-- Nobody reads or writes retired tokens but the procedures (no policy).
grant select, insert on app.session_tokens to ward_definer;
grant select on app.session_tokens to ward_rls;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires)
values ('auth.token_reuse', 'auth', false, false, true, '{object}');
alter table audit.actions force row level security;

drop function app.whoami();

-- +goose StatementBegin
-- me_pending as in 00015, and a token retired within the last 30 seconds
-- still names its session.
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
  if sid is null then
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
   where s.id = sid
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

-- rotate_session gives the presented session (pending or not) a new token:
-- the current hash is retired (30 seconds of grace), p_new_hash becomes the
-- session's. Presenting a token that is itself retired rotates nothing
-- (42501): only the current token rotates. Returns the absolute expiry.
create function app.rotate_session(p_new_hash bytea) returns timestamptz
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
begin
  if octet_length(p_new_hash) is distinct from 32 then
    raise exception 'rotate_session: the new hash is 32 bytes' using errcode = '22023';
  end if;
  select * into me from private.me_pending();
  select * into s from app.sessions x where x.id = me.session_id and x.token_hash = private.credential_hash()
     for update;
  if not found then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  insert into app.session_tokens (org_id, session_id, token_hash) values (s.org_id, s.id, s.token_hash);
  update app.sessions x set token_hash = p_new_hash where x.id = s.id;
  return s.absolute_expires_at;
end $$;

-- whoami as in 00015; and a token retired more than 30 seconds ago revokes
-- its session (the family) and records auth.token_reuse, then names nobody.
create function app.whoami(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal int, out auth_time timestamptz, out absolute_expires_at timestamptz, out idle_expires_at timestamptz,
  out amr text[], out pending text)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
  reused app.session_tokens%rowtype;
begin
  select * into me from private.me_pending();
  if me.credential_id is null then
    select * into reused from app.session_tokens t
     where t.token_hash = private.credential_hash() and t.retired_at <= now() - interval '30 seconds';
    if found then
      update app.sessions x set revoked_at = now(), revoked_reason = 'token_reuse'
       where x.id = reused.session_id and x.revoked_at is null
      returning * into s;
      if found then
        perform audit.append_as(s.org_id, 'auth.token_reuse', 'denied', 'session', s.id, p_actor => s.user_id,
          p_request => current_setting('ward.request', true),
          p_details => jsonb_build_object('retired_at', reused.retired_at, 'action', 'session_revoked'));
      end if;
    end if;
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

-- credential_status as in 00008, and a retired token reports its session's
-- status ('revoked' after reuse detection).
create or replace function app.credential_status() returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  s app.sessions%rowtype;
  live_member boolean;
begin
  select * into s from app.sessions x where x.token_hash = private.credential_hash();
  if not found then
    select x.* into s from app.session_tokens t join app.sessions x on x.id = t.session_id
     where t.token_hash = private.credential_hash();
    if not found then
      return null;
    end if;
  end if;
  select exists (select from app.memberships m where m.org_id = s.org_id and m.user_id = s.user_id
                   and m.revoked_at is null) into live_member;
  return case
    when s.revoked_at is not null or not live_member then 'revoked'
    when s.absolute_expires_at <= now() then 'expired'
    when s.last_seen_at + make_interval(mins => s.idle_timeout_min) <= now() then 'idle'
    else 'live' end;
end $$;
-- +goose StatementEnd

alter function app.rotate_session(bytea) owner to ward_definer;
alter function app.whoami() owner to ward_definer;
revoke all on function app.rotate_session(bytea), app.whoami() from public;
grant execute on function app.rotate_session(bytea), app.whoami() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
