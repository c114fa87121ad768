-- A browser that has signed in as a member before is not locked out by the
-- per-address link limit (00143). That limit counts every request for an
-- address, whatever its source, so anyone may fill it and keep it full: a
-- lock-out lever against a member who signs in by link. The usual answer
-- (OWASP's "device cookies") is to let a device that has completed a
-- sign-in for the address before pass that one limit.
--
-- app.remember_device, called with a new session's credential (created in
-- the last minute, as app.session_browser), stores the hash of a random
-- device token the server sets as a cookie: bound to the session's member
-- (org, user), for a fixed 30 days, at most 10 per member (the oldest go).
-- It takes nothing from its caller but the token's hash.
--
-- app.request_magic_link takes the hash of the device token the browser
-- presents (p_device_hash, optional). Only when the address's limit bit
-- does it look the device up, for the member the address belongs to (in
-- the org named, when one is) while their membership is live; a match
-- lifts that one limit. The per-address-and-source and per-source limits
-- still apply, the request still counts against the address, and the
-- link's audit event says known_device. An unknown address, another
-- member's device and a forged or expired token are answered as before:
-- rate limited, with the same Retry-After.
--
-- The table has no policy for any login role: only the two functions
-- (ward_definer) read or write it. A member's devices go with their
-- membership (foreign key, on delete cascade); a revoked membership's
-- devices no longer match.

-- +goose Up
set local role ward_owner;

create table app.known_devices (
  org_id uuid not null,
  user_id uuid not null,
  token_hash bytea not null check (octet_length(token_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (org_id, user_id, token_hash),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id) on delete cascade,
  check (expires_at <= created_at + interval '30 days')
);
alter table app.known_devices enable row level security;
alter table app.known_devices force row level security;
grant select, insert, delete, update (created_at, expires_at) on app.known_devices to ward_definer;

-- +goose StatementBegin
create function app.remember_device(p_device_hash bytea) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
begin
  if octet_length(p_device_hash) is distinct from 32 then
    raise exception 'remember_device: the device token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into me from private.me_pending();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into s from app.sessions x where x.id = me.session_id;
  if s.created_at <= now() - interval '1 minute' then
    return false;
  end if;
  insert into app.known_devices (org_id, user_id, token_hash, expires_at)
  values (s.org_id, s.user_id, p_device_hash, now() + interval '30 days')
  on conflict (org_id, user_id, token_hash) do update set created_at = now(), expires_at = now() + interval '30 days';
  -- Expired devices, and any beyond the newest 10, go.
  delete from app.known_devices d
   where d.org_id = s.org_id and d.user_id = s.user_id
     and (d.expires_at <= now()
          or d.token_hash not in (select k.token_hash from app.known_devices k
                                   where k.org_id = s.org_id and k.user_id = s.user_id
                                   order by k.created_at desc limit 10));
  return true;
end $$;
-- +goose StatementEnd
alter function app.remember_device(bytea) owner to ward_definer;
revoke all on function app.remember_device(bytea) from public;
grant execute on function app.remember_device(bytea) to ward_app;

-- The old signature goes (a call with its eight arguments would otherwise
-- be ambiguous). In a DO block because sqlc, which reads these files for
-- its catalog, drops the wrong entry of this function's history.
-- +goose StatementBegin
do $$ begin
  drop function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text);
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.request_magic_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea, p_ip inet, p_ip_hash bytea, p_request text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, p_device_hash bytea DEFAULT NULL::bytea, OUT status text, OUT org_id uuid, OUT user_id uuid, OUT email_enc bytea, OUT ttl_min integer, OUT retry_after_s integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  pol app.instance_policy%rowtype;
  pair bytea;
  oldest timestamptz;
  n_pair int;
  n_source int;
  n_address int;
  over_address boolean;
  known boolean := false;
  hit text;
  m record;
begin
  if octet_length(p_email_bidx) is distinct from 32 or octet_length(p_token_hash) is distinct from 32
     or octet_length(p_verifier_hash) is distinct from 32 or octet_length(p_ip_hash) is distinct from 32
     or (p_device_hash is not null and octet_length(p_device_hash) <> 32) then
    raise exception 'request_magic_link: address index, token, verifier, source and device hashes are 32 bytes each'
      using errcode = '22023';
  end if;
  select * into pol from app.instance_policy;
  pair := pg_catalog.sha256(p_email_bidx || p_ip_hash);
  -- Serialise per address, per pair and per source (always in this order),
  -- so concurrent requests cannot all count below a limit.
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.address.' || encode(p_email_bidx, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.pair.' || encode(pair, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.source.' || encode(p_ip_hash, 'hex'), 0));
  select count(*) filter (where a.kind = 'pair' and a.key_hash = pair),
         count(*) filter (where a.kind = 'source' and a.key_hash = p_ip_hash),
         count(*) filter (where a.kind = 'address' and a.key_hash = p_email_bidx)
    into n_pair, n_source, n_address
    from app.auth_attempts a
   where ((a.kind = 'pair' and a.key_hash = pair) or (a.kind = 'source' and a.key_hash = p_ip_hash)
          or (a.kind = 'address' and a.key_hash = p_email_bidx))
     and a.at > now() - make_interval(mins => pol.link_window_min);
  over_address := n_address >= pol.link_max_per_address_all;
  -- A device that signed in as the address's member before passes the
  -- address's limit (looked up only when it bit).
  if over_address and p_device_hash is not null then
    select exists (
      select from app.known_devices d
        join app.users u on u.id = d.user_id
        join app.memberships ms on ms.org_id = d.org_id and ms.user_id = d.user_id and ms.revoked_at is null
       where u.email_bidx = p_email_bidx and d.token_hash = p_device_hash and d.expires_at > now()
         and (p_org is null or d.org_id = p_org)) into known;
    over_address := not known;
  end if;
  hit := case when over_address then 'address_all'
              when n_pair >= pol.link_max_per_address then 'address'
              when n_source >= pol.link_max_per_source then 'source' end;
  if hit is not null then
    status := 'rate_limited';
    -- Retry when every limit that bit has room again: the latest of the
    -- times at which each one's oldest counted attempt leaves the window.
    select max(o.oldest) into oldest from (
      select min(a.at) as oldest from app.auth_attempts a
       where a.at > now() - make_interval(mins => pol.link_window_min)
         and ((over_address and a.kind = 'address' and a.key_hash = p_email_bidx)
              or (n_pair >= pol.link_max_per_address and a.kind = 'pair' and a.key_hash = pair)
              or (n_source >= pol.link_max_per_source and a.kind = 'source' and a.key_hash = p_ip_hash))
       group by a.kind) o;
    retry_after_s := greatest(1, ceil(extract(epoch from
      coalesce(oldest, now()) + make_interval(mins => pol.link_window_min) - now()))::int);
    perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff', 'auth.link.request', 'denied',
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', 'rate_limited', 'limit', hit));
    return;
  end if;
  insert into app.auth_attempts (kind, key_hash) values ('address', p_email_bidx), ('pair', pair), ('source', p_ip_hash);
  -- Expired attempts go a few at a time, through the index on at.
  delete from app.auth_attempts x where x.ctid = any (array(
    select y.ctid from app.auth_attempts y where y.at < now() - interval '1 day' limit 100));

  -- The member the link would be for, and whether SSO binds them (00141):
  -- in the org named, or, with none named, in any org they are a live
  -- member of.
  select ms.org_id, ms.user_id, u.email_enc,
         exists (select from app.memberships b
                  where b.user_id = ms.user_id and b.revoked_at is null
                    and (p_org is null or b.org_id = p_org)
                    and private.sso_bound(b.org_id, b.user_id)) as sso_bound
    into m
    from app.users u join app.memberships ms on ms.user_id = u.id
   where u.email_bidx = p_email_bidx and ms.revoked_at is null
     and (p_org is null or ms.org_id = p_org)
   order by ms.created_at
   limit 1;
  -- A member SSO binds signs in through the org's IdP: no link, and the
  -- answer, the count and the audit event of an address that belongs to
  -- nobody (no account-existence oracle).
  if m.user_id is null or m.sso_bound then
    status := 'unknown';
    perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff', 'auth.link.request', 'denied',
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', 'unknown_address'));
    return;
  end if;
  insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, request_ip)
  values (m.org_id, m.user_id, p_token_hash, p_verifier_hash, now() + make_interval(mins => pol.link_ttl_min), p_ip);
  perform audit.append_as(m.org_id, 'auth.link.request', 'success', 'user', m.user_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('browser_bound', true) || case when known then '{"known_device": true}'::jsonb else '{}'::jsonb end,
    p_actor => m.user_id);
  status := 'created'; org_id := m.org_id; user_id := m.user_id; email_enc := m.email_enc;
  ttl_min := pol.link_ttl_min;
end $$;
-- +goose StatementEnd
alter function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text, bytea) owner to ward_definer;
revoke all on function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text, bytea) from public;
grant execute on function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text, bytea) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
