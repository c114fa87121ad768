-- A sign-in link's address is limited across all sources. Until now an
-- address was limited per source (link_max_per_address, per address and
-- client source) and each source on its own (link_max_per_source), so an
-- attacker with many sources (a botnet, an IPv6 block: the HTTP limiter
-- counts a /64) could send one address as many links as they had sources:
-- mail bombing, and a flood of live links in one inbox.
--
-- Now app.request_magic_link also counts every request for the address,
-- whatever its source, in the same window (kind 'address', keyed by the
-- address's blind index, which app.users already holds), up to
-- app.instance_policy.link_max_per_address_all (default 15 per window,
-- 1..1000; ward_ops may change it, as the other limits). The count is taken
-- before the member lookup, as the others are, so an unknown address and a
-- member's answer alike (no account-existence oracle). A refusal is
-- audited with limit 'address_all'; Retry-After is now the time at which
-- every limit that bit has room again (it was the per-pair one alone when
-- both bit). The cost of the limit is that anyone may spend an address's
-- links for a window; passkeys, SSO and TOTP after a session are not
-- limited by it (docs/threat-model.md).

-- +goose Up
set local role ward_owner;

alter table app.instance_policy
  add column link_max_per_address_all int not null default 15
    check (link_max_per_address_all between 1 and 1000);
grant update (link_max_per_address_all) on app.instance_policy to ward_ops;

alter table app.auth_attempts drop constraint auth_attempts_kind_check;
alter table app.auth_attempts add constraint auth_attempts_kind_check check (kind in ('pair', 'source', 'address'));

-- +goose StatementBegin
create or replace function app.request_magic_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea, p_ip inet, p_ip_hash bytea, p_request text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT org_id uuid, OUT user_id uuid, OUT email_enc bytea, OUT ttl_min integer, OUT retry_after_s integer) RETURNS record
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
  hit text;
  m record;
begin
  if octet_length(p_email_bidx) is distinct from 32 or octet_length(p_token_hash) is distinct from 32
     or octet_length(p_verifier_hash) is distinct from 32 or octet_length(p_ip_hash) is distinct from 32 then
    raise exception 'request_magic_link: address index, token, verifier and source hashes are 32 bytes each'
      using errcode = '22023';
  end if;
  select * into pol from app.instance_policy;
  pair := pg_catalog.sha256(p_email_bidx || p_ip_hash);
  -- Serialise per address, per pair and per source (always in this order),
  -- so concurrent requests cannot all count below a limit.
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.address.' || encode(p_email_bidx, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.pair.' || encode(pair, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.source.' || encode(p_ip_hash, 'hex'), 0));
  select count(*) into n_pair from app.auth_attempts a
   where a.kind = 'pair' and a.key_hash = pair and a.at > now() - make_interval(mins => pol.link_window_min);
  select count(*) into n_source from app.auth_attempts a
   where a.kind = 'source' and a.key_hash = p_ip_hash and a.at > now() - make_interval(mins => pol.link_window_min);
  select count(*) into n_address from app.auth_attempts a
   where a.kind = 'address' and a.key_hash = p_email_bidx and a.at > now() - make_interval(mins => pol.link_window_min);
  hit := case when n_address >= pol.link_max_per_address_all then 'address_all'
              when n_pair >= pol.link_max_per_address then 'address'
              when n_source >= pol.link_max_per_source then 'source' end;
  if hit is not null then
    status := 'rate_limited';
    -- Retry when every limit that bit has room again: the latest of the
    -- times at which each one's oldest counted attempt leaves the window.
    select max(o.oldest) into oldest from (
      select min(a.at) as oldest from app.auth_attempts a
       where a.at > now() - make_interval(mins => pol.link_window_min)
         and ((n_address >= pol.link_max_per_address_all and a.kind = 'address' and a.key_hash = p_email_bidx)
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
    p_details => jsonb_build_object('browser_bound', true), p_actor => m.user_id);
  status := 'created'; org_id := m.org_id; user_id := m.user_id; email_enc := m.email_enc;
  ttl_min := pol.link_ttl_min;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
