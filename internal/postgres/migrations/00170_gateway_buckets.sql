-- The gateway's rate limits hold for the org, not for each node (#10).
--
--   * Until now each `ward serve` kept the org's request and token buckets
--     in its own memory: with N nodes behind a load balancer an org could
--     make N times the calls and spend N times the tokens its policy set.
--   * The buckets now live here, one row per org that has used the
--     gateway, refilled continuously at the policy's per-minute rates
--     (app.orgs.gateway_requests_per_minute and gateway_tokens_per_minute,
--     read in the statement that takes from them, so a policy change holds
--     at once on every node) and holding at most one minute's worth.
--   * app.gateway_admit(tokens) takes one request and the call's token
--     reservation, or takes nothing and says how long until it could;
--     app.gateway_settle(requests, tokens) gives back what a call did not
--     use (or charges what it used beyond its reservation). Both act on the
--     org of the bound credential, never one the caller names, and read the
--     limits from the org's policy, never from the caller. The amounts are
--     the server's report of the call (its reservation, the upstream's
--     usage), as an audit event's details are: the database keeps the
--     arithmetic, the capacity and the tenant, and a settle never fills a
--     bucket beyond a minute's worth.
--   * The clock is the database's (clock_timestamp()), so nodes whose
--     clocks disagree share one bucket all the same.
--   * The table is UNLOGGED, like app.dpop_jtis: a bucket is worth nothing
--     after a crash (it is emptied by recovery, and starts again full), and
--     a transaction that writes only unlogged rows does not wait for a WAL
--     flush at commit. A standby has no rows in it; a promoted standby
--     starts with full buckets.
--   * Rows are read by the org's members (the same rule as app.orgs);
--     nobody writes them but the two functions (ward_definer).

-- +goose Up
set local role ward_owner;

create unlogged table app.gateway_buckets (
  org_id uuid primary key references app.orgs (id) on delete cascade,
  requests double precision not null,
  tokens double precision not null,
  at timestamptz not null
);
alter table app.gateway_buckets enable row level security;
alter table app.gateway_buckets force row level security;
grant select on app.gateway_buckets to ward_app;
grant select, insert, update on app.gateway_buckets to ward_definer;
create policy gateway_buckets_select on app.gateway_buckets for select to ward_app
  using (org_id = coalesce((select c.org_id from private.principal_cached c), (select private.get_my_org_id())));

-- +goose StatementBegin
create function app.gateway_admit(p_tokens bigint, out admitted boolean, out retry_ms bigint, out requests_ms bigint)
  language plpgsql security definer set search_path = '' as $$
declare
  me private.principal := private.principal_now();
  org uuid;
  rpm double precision;
  tpm double precision;
  t timestamptz := clock_timestamp();
  b app.gateway_buckets%rowtype;
  need double precision;
  wait_requests double precision := 0; -- minutes
  wait_tokens double precision := 0;
begin
  -- A live (not pending) session or API key; a SCIM token calls no model.
  if me.pending is null and me.kind in ('session', 'api_key') then
    org := me.org_id;
  end if;
  if org is null then
    raise exception 'gateway_admit: a live credential is required' using errcode = '42501';
  end if;
  -- A reservation is a prompt of at most 32 MB (a token per four bytes)
  -- and a max_tokens of at most 4,194,304: never negative, never near 2^53.
  if p_tokens is null or p_tokens < 0 or p_tokens > 1000000000 then
    raise exception 'gateway_admit: a reservation is 0..1000000000 tokens' using errcode = '22023';
  end if;
  select o.gateway_requests_per_minute, o.gateway_tokens_per_minute into rpm, tpm from app.orgs o where o.id = org;
  -- The bucket, created full, refilled for the time since it was last
  -- touched and locked until this transaction ends.
  insert into app.gateway_buckets as g (org_id, requests, tokens, at) values (org, rpm, tpm, t)
  on conflict (org_id) do update
    set requests = least(rpm, g.requests + greatest(0, extract(epoch from t - g.at)) / 60 * rpm),
        tokens = least(tpm, g.tokens + greatest(0, extract(epoch from t - g.at)) / 60 * tpm),
        at = greatest(g.at, t)
  returning g.* into b;
  -- One request, and the whole reservation; a reservation larger than a
  -- minute's worth passes only a full bucket, which it then overdraws.
  need := least(p_tokens, tpm);
  if b.requests < 1 then
    wait_requests := (1 - b.requests) / rpm;
  end if;
  if not (b.tokens > 0 and b.tokens >= need) then
    wait_tokens := (greatest(need, 1) - b.tokens) / tpm;
  end if;
  if wait_requests = 0 and wait_tokens = 0 then
    update app.gateway_buckets g set requests = b.requests - 1, tokens = b.tokens - p_tokens where g.org_id = org;
    admitted := true; retry_ms := 0; requests_ms := 0;
    return;
  end if;
  admitted := false;
  retry_ms := least(3600000, ceil(greatest(wait_requests, wait_tokens) * 60000))::bigint;
  requests_ms := least(3600000, ceil(wait_requests * 60000))::bigint;
end $$;
-- +goose StatementEnd
alter function app.gateway_admit(bigint) owner to ward_definer;
revoke all on function app.gateway_admit(bigint) from public;
grant execute on function app.gateway_admit(bigint) to ward_app;

-- +goose StatementBegin
create function app.gateway_settle(p_requests integer, p_tokens bigint) returns void
  language plpgsql security definer set search_path = '' as $$
declare
  me private.principal := private.principal_now();
  org uuid;
  rpm double precision;
  tpm double precision;
  t timestamptz := clock_timestamp();
begin
  if me.pending is null and me.kind in ('session', 'api_key') then
    org := me.org_id;
  end if;
  if p_requests is null or p_requests not in (0, 1) or p_tokens is null or abs(p_tokens) > 1000000000 then
    raise exception 'gateway_settle: 0 or 1 request and -1000000000..1000000000 tokens' using errcode = '22023';
  end if;
  -- A credential that no longer resolves settles nothing: its call's
  -- reservation stays spent, which errs on the side of the limit.
  if org is null or (p_requests = 0 and p_tokens = 0) then
    return;
  end if;
  select o.gateway_requests_per_minute, o.gateway_tokens_per_minute into rpm, tpm from app.orgs o where o.id = org;
  update app.gateway_buckets g
     set requests = least(rpm, g.requests + greatest(0, extract(epoch from t - g.at)) / 60 * rpm + p_requests),
         tokens = least(tpm, g.tokens + greatest(0, extract(epoch from t - g.at)) / 60 * tpm + p_tokens),
         at = greatest(g.at, t)
   where g.org_id = org;
end $$;
-- +goose StatementEnd
alter function app.gateway_settle(integer, bigint) owner to ward_definer;
revoke all on function app.gateway_settle(integer, bigint) from public;
grant execute on function app.gateway_settle(integer, bigint) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
