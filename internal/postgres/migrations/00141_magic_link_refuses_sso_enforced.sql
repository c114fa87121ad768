-- A sign-in link request for a member SSO binds is refused by the database
-- (review of 00128). Until now app.request_magic_link created a link for
-- any live member; only the HTTP handler kept one from a member of an org
-- that enforces SSO on their domain, by asking the database first
-- (app.sso_enforced) and then requesting the link for a random org id, so
-- that the request was counted and audited as one for an address that
-- belongs to nobody. Called with the member's real org id (a server bug,
-- another caller), the function still minted the link; only spending it
-- was refused (consume_magic_link, sso_required, 00128).
--
-- Now, for a member whom private.sso_bound holds in the org the link
-- would be for, or (no org named) in any org they are a live member of,
-- request_magic_link answers exactly as for an unknown address: status
-- 'unknown' and nothing else, no link row, the request counted against
-- the address's and the source's limits (before the lookup, as for every
-- request) and audited as auth.link.request denied, reason
-- unknown_address, in no org's log. The check is part of the member lookup
-- (one statement; no row, no check, for an unknown address). Who is bound
-- is sso_bound's answer (failing closed on a gap, 00130), not the caller's:
-- p_org only names which membership the link would be for, as before.
-- consume_magic_link keeps refusing a link minted before enforcement
-- (00128); operator links (app.issue_operator_link) are unchanged.

-- +goose Up
set local role ward_owner;

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
  m record;
begin
  if octet_length(p_email_bidx) is distinct from 32 or octet_length(p_token_hash) is distinct from 32
     or octet_length(p_verifier_hash) is distinct from 32 or octet_length(p_ip_hash) is distinct from 32 then
    raise exception 'request_magic_link: address index, token, verifier and source hashes are 32 bytes each'
      using errcode = '22023';
  end if;
  select * into pol from app.instance_policy;
  pair := pg_catalog.sha256(p_email_bidx || p_ip_hash);
  -- Serialise per pair and per source (always in this order), so concurrent
  -- requests cannot all count below the limit.
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.pair.' || encode(pair, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.source.' || encode(p_ip_hash, 'hex'), 0));
  select count(*) into n_pair from app.auth_attempts a
   where a.kind = 'pair' and a.key_hash = pair and a.at > now() - make_interval(mins => pol.link_window_min);
  select count(*) into n_source from app.auth_attempts a
   where a.kind = 'source' and a.key_hash = p_ip_hash and a.at > now() - make_interval(mins => pol.link_window_min);
  if n_pair >= pol.link_max_per_address or n_source >= pol.link_max_per_source then
    status := 'rate_limited';
    -- Retry when the oldest counted attempt of the limit that bit leaves
    -- the window.
    select min(a.at) into oldest from app.auth_attempts a
     where a.at > now() - make_interval(mins => pol.link_window_min)
       and ((n_pair >= pol.link_max_per_address and a.kind = 'pair' and a.key_hash = pair)
            or (n_pair < pol.link_max_per_address and a.kind = 'source' and a.key_hash = p_ip_hash));
    retry_after_s := greatest(1, ceil(extract(epoch from
      coalesce(oldest, now()) + make_interval(mins => pol.link_window_min) - now()))::int);
    perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff', 'auth.link.request', 'denied',
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', 'rate_limited',
                                      'limit', case when n_pair >= pol.link_max_per_address then 'address' else 'source' end));
    return;
  end if;
  insert into app.auth_attempts (kind, key_hash) values ('pair', pair), ('source', p_ip_hash);
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
