-- Device binding (issue 8 §6, RFC 9449 DPoP). A client that signs in with a
-- DPoP proof gets a session bound to the thumbprint (RFC 7638, SHA-256,
-- base64url) of the proof's key. From then on the session resolves only in
-- a transaction whose ward.dpop names that thumbprint: the server sets it
-- from a proof it verified for this very request (signature, htm, htu,
-- iat, ath = the token's hash), and a proof's jti is accepted once
-- (app.dpop_use). A bound token stolen without its key resolves to
-- nobody, whatever the server is asked.

-- +goose Up
set local role ward_owner;

alter table app.sessions add column dpop_jkt text check (dpop_jkt ~ '^[A-Za-z0-9_-]{43}$');
grant select (dpop_jkt) on app.sessions to ward_rls, ward_app;
grant update (dpop_jkt) on app.sessions to ward_definer;

-- Proof ids seen, per key, for as long as a proof's iat can be accepted
-- (ten minutes covers the window of five minutes back and one ahead).
create table app.dpop_proofs (
  jkt text not null check (jkt ~ '^[A-Za-z0-9_-]{43}$'),
  jti_hash bytea not null check (octet_length(jti_hash) = 32),
  expires_at timestamptz not null default now() + interval '10 minutes',
  primary key (jkt, jti_hash)
);
create index dpop_proofs_expiry_idx on app.dpop_proofs (expires_at);
alter table app.dpop_proofs enable row level security;
alter table app.dpop_proofs force row level security;
-- No policy for ward_app: only app.dpop_use reads or writes it.
grant select, insert, delete on app.dpop_proofs to ward_definer;

-- +goose StatementBegin
-- me_pending as in 00019, except that a session bound to a DPoP key
-- resolves only when ward.dpop names that key's thumbprint.
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

-- dpop_use records a proof's jti for its key and reports whether it was
-- new: a replayed proof is refused. Old entries go as new ones come.
create function app.dpop_use(p_jkt text, p_jti_hash bytea) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  n int;
begin
  if p_jkt is null or p_jkt !~ '^[A-Za-z0-9_-]{43}$' or octet_length(p_jti_hash) is distinct from 32 then
    raise exception 'a thumbprint and a 32-byte jti hash are required' using errcode = '22023';
  end if;
  delete from app.dpop_proofs d
   where d.ctid = any (array(select x.ctid from app.dpop_proofs x where x.expires_at < now() limit 100));
  insert into app.dpop_proofs (jkt, jti_hash) values (p_jkt, p_jti_hash) on conflict do nothing;
  get diagnostics n = row_count;
  return n = 1;
end $$;

-- dpop_bind binds the presented session (pending or not) to a DPoP key,
-- once, in its first minute: at sign-in, never later and never again.
create function app.dpop_bind(p_jkt text) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  if p_jkt is null or p_jkt !~ '^[A-Za-z0-9_-]{43}$' then
    raise exception 'a thumbprint is required' using errcode = '22023';
  end if;
  select * into me from private.me_pending();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.sessions s set dpop_jkt = p_jkt
   where s.id = me.session_id and s.dpop_jkt is null and s.created_at > now() - interval '1 minute';
  return found;
end $$;
-- +goose StatementEnd

alter function private.me_pending() owner to ward_rls;
alter function app.dpop_use(text, bytea) owner to ward_definer;
alter function app.dpop_bind(text) owner to ward_definer;
revoke all on function app.dpop_use(text, bytea), app.dpop_bind(text) from public;
grant execute on function app.dpop_use(text, bytea), app.dpop_bind(text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
