-- TOTP second factor (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, ±1
-- step), decided in SQL (issue 8 §3).
--
-- The secret is sealed by the server with the org's AEAD keys (AD
-- totp_factors|secret|org|user), as PHI columns are; the database keeps
-- beside it the SHA-256 of the secret, which ward_app cannot read. To verify
-- a code the server opens the sealed secret and presents it with the code:
-- app.totp_verify checks the secret against its hash, computes the codes
-- itself (pgcrypto's HMAC) with its own clock, accepts each step once (the
-- last accepted step is stored), counts failures and locks the factor for
-- 15 minutes after 5, and raises the session to AAL2. Nothing but the
-- code and the secret comes from the caller.

-- +goose Up
create schema if not exists ext;
create extension if not exists pgcrypto with schema ext;
revoke all on schema ext from public;
grant usage on schema ext to ward_definer, ward_rls;

set local role ward_owner;

create table app.totp_factors (
  org_id uuid not null,
  user_id uuid not null,
  secret_enc bytea not null,
  secret_hash bytea not null check (octet_length(secret_hash) = 32),
  created_at timestamptz not null default now(),
  confirmed_at timestamptz,
  last_step bigint,
  failures int not null default 0 check (failures between 0 and 5),
  locked_until timestamptz,
  primary key (org_id, user_id),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id)
);
comment on column app.totp_factors.secret_enc is 'AEAD ciphertext under the org keyset, AD totp_factors|secret|org|user';
comment on column app.totp_factors.secret_hash is 'SHA-256 of the secret: binds the secret the server presents to the one enrolled';

alter table app.totp_factors enable row level security;
alter table app.totp_factors force row level security;
-- A member sees whether they have a factor (never its secret or hash).
create policy totp_factors_select on app.totp_factors for select to ward_app
  using (org_id = (select private.get_my_org_id()) and user_id = (select private.uid()));
grant select (org_id, user_id, created_at, confirmed_at) on app.totp_factors to ward_app;
grant select, insert, update, delete on app.totp_factors to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.mfa.enrol',  'auth', false, false, true, '{}'),
  ('auth.mfa.verify', 'auth', false, false, true, '{}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- hotp is RFC 4226's HOTP value of p_secret at counter p_counter, with
-- p_digits digits, under HMAC-p_algo ('sha1', 'sha256', 'sha512'); TOTP is
-- hotp at counter floor(unix time / 30).
create function private.hotp(p_secret bytea, p_counter bigint, p_digits int, p_algo text) returns text
language plpgsql immutable strict set search_path = '' as $$
declare
  h bytea := ext.hmac(int8send(p_counter), p_secret, p_algo);
  o int := get_byte(h, length(h) - 1) & 15;
  bin bigint;
begin
  bin := ((get_byte(h, o) & 127)::bigint << 24) | (get_byte(h, o + 1)::bigint << 16)
       | (get_byte(h, o + 2)::bigint << 8) | get_byte(h, o + 3)::bigint;
  return lpad((bin % (10::bigint ^ p_digits)::bigint)::text, p_digits, '0');
end $$;

-- totp_enrol starts enrolment for the caller's session (pending or not): it
-- stores a new unconfirmed secret, replacing an unconfirmed one. A
-- confirmed factor is not replaced (23505): nobody holding only a first
-- factor can swap the second.
create function app.totp_enrol(p_secret_enc bytea, p_secret_hash bytea, p_request text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me_pending();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if octet_length(p_secret_hash) is distinct from 32 or coalesce(octet_length(p_secret_enc), 0) < 20 then
    raise exception 'totp_enrol: a sealed secret and its 32-byte hash are required' using errcode = '22023';
  end if;
  insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash)
  values (me.org_id, me.user_id, p_secret_enc, p_secret_hash)
  on conflict (org_id, user_id) do update
    set secret_enc = excluded.secret_enc, secret_hash = excluded.secret_hash, created_at = now(),
        last_step = null, failures = 0, locked_until = null
    where app.totp_factors.confirmed_at is null;
  if not found then
    raise exception 'a confirmed TOTP factor exists' using errcode = '23505';
  end if;
  perform audit.append_as(me.org_id, 'auth.mfa.enrol', 'success', 'user', me.user_id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'session', me.session_id));
end $$;

-- totp_secret returns the caller's sealed TOTP secret (for the server to
-- open and present to totp_verify), or no row.
create function app.totp_secret(out secret_enc bytea, out confirmed boolean)
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me_pending();
  select f.secret_enc, f.confirmed_at is not null into secret_enc, confirmed
    from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id;
end $$;

-- totp_verify checks a code for the caller's session and returns the
-- status: 'ok' (the session is now AAL2 with totp in its methods and
-- authenticated now; an unconfirmed factor is confirmed), 'invalid' (wrong
-- or malformed code, or a step at or before the last accepted one),
-- 'locked' (5 failures: refused for 15 minutes, even a right code), or
-- 'not_enrolled'. Failures are counted and audited, so the caller must
-- commit whatever the status. p_secret must be the enrolled secret.
create function app.totp_verify(p_secret bytea, p_code text, p_request text default null,
  p_ip text default null, p_ua text default null)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  f app.totp_factors%rowtype;
  now_step bigint := floor(extract(epoch from now()) / 30)::bigint;
  matched bigint;
  status text;
begin
  select * into me from private.me_pending();
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
    update app.totp_factors x set last_step = matched, failures = 0, locked_until = null,
           confirmed_at = coalesce(x.confirmed_at, now())
     where x.org_id = f.org_id and x.user_id = f.user_id;
    update app.sessions s set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct a order by a) from unnest(s.amr || array['totp']) a)
     where s.id = me.session_id;
  elsif status = 'invalid' then
    update app.totp_factors x
       set failures = case when x.failures + 1 >= 5 then 0 else x.failures + 1 end,
           locked_until = case when x.failures + 1 >= 5 then now() + interval '15 minutes' else x.locked_until end
     where x.org_id = f.org_id and x.user_id = f.user_id
    returning case when x.locked_until > now() then 'locked' else 'invalid' end into status;
  end if;
  perform audit.append_as(me.org_id, 'auth.mfa.verify', case when status = 'ok' then 'success' else 'denied' end,
    'session', me.session_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('method', 'totp', 'result', status, 'confirmed', f.confirmed_at is not null));
  return status;
end $$;
-- +goose StatementEnd

alter function private.hotp(bytea, bigint, int, text) owner to ward_rls;
alter function app.totp_enrol(bytea, bytea, text) owner to ward_definer;
alter function app.totp_secret() owner to ward_definer;
alter function app.totp_verify(bytea, text, text, text, text) owner to ward_definer;
revoke all on function private.hotp(bytea, bigint, int, text), app.totp_enrol(bytea, bytea, text),
  app.totp_secret(), app.totp_verify(bytea, text, text, text, text) from public;
grant execute on function private.hotp(bytea, bigint, int, text) to ward_definer;
grant execute on function app.totp_enrol(bytea, bytea, text), app.totp_secret(),
  app.totp_verify(bytea, text, text, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
