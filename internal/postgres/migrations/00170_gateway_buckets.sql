-- The gateway's rate limits hold for the org, not for each node (#10).
--
--   * Until now each `ward serve` kept the org's request and token buckets
--     in its own memory: with N nodes behind a load balancer an org could
--     make N times the calls and spend N times the tokens its policy set.
--   * The buckets now live here, one row per org that has used the
--     gateway, refilled continuously at the policy's per-minute rates
--     (app.orgs.gateway_requests_per_minute and gateway_tokens_per_minute,
--     read in the statement that takes from them) and holding at most one
--     minute's worth, on the database's clock (clock_timestamp()), so nodes
--     whose clocks disagree share one bucket all the same.
--   * app.gateway_admit(tokens) takes one request and the call's token
--     reservation, or takes nothing and says how long until it could. What
--     it took is a reservation (app.gateway_reservations) that it names by
--     id. app.gateway_settle(id, used, give_request) marks that reservation
--     settled, once: the tokens it held and the call did not use go back
--     (a call that used more is charged the rest), and its request too when
--     the call is served again (a principal found stale). The bucket takes
--     the settled reservations back in the org's next admit, so a settle
--     locks nothing but its own reservation (it runs in the transaction of
--     the call's ai.invoke event, whose commit waits for the WAL, and must
--     not hold the org's bucket meanwhile). A reservation never settled
--     stays spent; a later admit of the org removes it once it is an hour
--     old.
--   * What the database decides: both functions act on the org of the
--     bound credential (a live session of a patient or a member above, or
--     an API key holding the gateway scope; not a pending session, a
--     stakeholder or a SCIM token), never one the caller names; the limits
--     come from the org's policy; a settle gives back at most what its own
--     reservation took, once, and only to the credential that took it. The
--     token count a call used is the server's report of the upstream's
--     usage, as an ai.invoke event's is.
--   * Both tables are UNLOGGED, like app.dpop_jtis: they are worth nothing
--     after a crash (recovery empties them: buckets start again full, and
--     reservations in flight are forgotten), and a transaction that writes
--     only them does not wait for a WAL flush at commit. A standby has no
--     rows; a promoted standby starts with full buckets.
--   * The org's members read its bucket (the rule of app.orgs); nobody but
--     the two functions (ward_definer) writes either table, and nobody
--     reads the reservations.

-- +goose Up
set local role ward_owner;

create unlogged table app.gateway_buckets (
  org_id uuid primary key references app.orgs (id) on delete cascade,
  -- the policy's limits when the bucket was last touched, what it holds
  -- then, and whether that touch admitted a call
  rpm double precision not null,
  tpm double precision not null,
  at timestamptz not null,
  requests double precision not null,
  tokens double precision not null,
  admitted boolean not null default false
);
alter table app.gateway_buckets enable row level security;
alter table app.gateway_buckets force row level security;
grant select on app.gateway_buckets to ward_app;
grant select, insert, update on app.gateway_buckets to ward_definer;
create policy gateway_buckets_select on app.gateway_buckets for select to ward_app
  using (org_id = coalesce((select c.org_id from private.principal_cached c), (select private.get_my_org_id())));

create unlogged table app.gateway_reservations (
  org_id uuid not null references app.orgs (id) on delete cascade,
  id bigint generated always as identity,
  credential_id uuid not null,
  tokens bigint not null check (tokens between 0 and 1000000000),
  expires_at timestamptz not null default now() + interval '1 hour',
  -- set once by app.gateway_settle: the tokens to give back (below zero:
  -- to charge) and whether the request goes back too
  back bigint,
  give_request boolean,
  primary key (org_id, id)
);
-- the settled reservations of an org, which its next admit takes back
create index gateway_reservations_settled_idx on app.gateway_reservations (org_id) where back is not null;
alter table app.gateway_reservations enable row level security;
alter table app.gateway_reservations force row level security;
grant select, insert, update, delete on app.gateway_reservations to ward_definer;

-- Both tables take a row version or two per call on a handful of rows:
-- the default thresholds (50 rows and a fifth of the table) would start an
-- autovacuum and an autoanalyze every few dozen calls, a worker process
-- each. Page pruning keeps the bucket row's versions in its page; a
-- vacuum every 10,000 changes returns the reservations' index entries.
alter table app.gateway_buckets set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 10000);
alter table app.gateway_reservations set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 10000);

-- +goose StatementBegin
create function private.gateway_caller(out org_id uuid, out credential_id uuid)
  language plpgsql stable security definer set search_path = '' as $$
declare
  me private.principal := private.principal_now();
begin
  -- Who may call a model (the route's rule, held here too): a live session
  -- of a patient or a member above, or an API key with the gateway scope.
  if me.pending is null and ((me.kind = 'session' and me.role in ('patient', 'provider', 'lead', 'admin'))
                             or (me.kind = 'api_key' and private.key_holds('gateway'))) then
    org_id := me.org_id; credential_id := me.credential_id;
  end if;
end $$;
-- +goose StatementEnd
alter function private.gateway_caller() owner to ward_rls;
revoke all on function private.gateway_caller() from public;
grant execute on function private.gateway_caller() to ward_definer;

-- +goose StatementBegin
create function app.gateway_admit(p_tokens bigint, out admitted boolean, out retry_ms bigint, out requests_ms bigint,
                                  out empty_ms bigint, out reservation bigint)
  language plpgsql security definer set search_path = '' as $$
declare
  caller record := private.gateway_caller();
  org uuid := caller.org_id;
  b app.gateway_buckets%rowtype;
  need double precision;
  wait_requests double precision := 0; -- minutes
  wait_tokens double precision := 0;
begin
  if org is null then
    raise exception 'gateway_admit: a credential that may call a model is required' using errcode = '42501';
  end if;
  -- A reservation is a prompt of at most 32 MB (a token per four bytes)
  -- and a max_tokens of at most 4,194,304: never negative, never near 2^53.
  if p_tokens is null or p_tokens < 0 or p_tokens > 1000000000 then
    raise exception 'gateway_admit: a reservation is 0..1000000000 tokens' using errcode = '22023';
  end if;
  -- What this transaction writes is worth nothing after a crash (the
  -- bucket and the reservations are unlogged; a resolution may put the
  -- principal in its cache): its commit need not wait for the WAL while
  -- the org's bucket is locked. The admit runs in a transaction of its
  -- own (gateway.limiter.admit), never beside writes that must last.
  perform set_config('synchronous_commit', 'off', true);
  -- One statement: the org's settled reservations taken back, the bucket created full (which admits any call) or refilled at
  -- the policy's rates for the time since it was last touched, what came
  -- back added, then one request and the whole reservation taken if it
  -- holds them; a reservation larger than a minute's worth passes only a
  -- full bucket, which it then overdraws. The row stays locked until the
  -- transaction ends.
  with done as (
    delete from app.gateway_reservations r where r.org_id = org and r.back is not null
    returning r.back, case when r.give_request then 1 else 0 end as request),
  returned as (select coalesce(sum(d.back), 0)::double precision as tokens,
                      coalesce(sum(d.request), 0)::double precision as requests from done d)
  insert into app.gateway_buckets as g (org_id, rpm, tpm, at, requests, tokens, admitted)
  select org, o.gateway_requests_per_minute, o.gateway_tokens_per_minute, clock_timestamp(),
         o.gateway_requests_per_minute - 1, o.gateway_tokens_per_minute - p_tokens, true
    from app.orgs o where o.id = org
  on conflict (org_id) do update
    set (rpm, tpm, at, requests, tokens, admitted) = (
      select excluded.rpm, excluded.tpm, greatest(g.at, excluded.at),
             r.requests - case when r.ok then 1 else 0 end, r.tokens - case when r.ok then p_tokens else 0 end, r.ok
        from (select f.requests, f.tokens,
                     f.requests >= 1 and f.tokens > 0 and f.tokens >= least(p_tokens, excluded.tpm) as ok
                from (select least(excluded.rpm, g.requests + d.minutes * excluded.rpm + x.requests) as requests,
                             least(excluded.tpm, g.tokens + d.minutes * excluded.tpm + x.tokens) as tokens
                        from (select greatest(0, extract(epoch from excluded.at - g.at)) / 60 as minutes) d,
                             returned x) f) r)
  returning g.* into b;
  -- Now and then, the org's reservations that were never settled and
  -- have expired: they stay spent, and go (after the bucket's lock: one
  -- lock order, bucket then reservations, for every admit).
  if random() < 1.0 / 64 then
    delete from app.gateway_reservations r where r.org_id = org and r.back is null and r.expires_at < now();
  end if;
  need := least(p_tokens, b.tpm);
  -- Whatever a call asks, a bucket at or below zero admits nothing until
  -- refilled above it (or until reservations settle back into it).
  empty_ms := case when b.tokens <= 0 then least(3600000, ceil(-b.tokens / b.tpm * 60000) + 1)::bigint else 0 end;
  if b.admitted then
    insert into app.gateway_reservations (org_id, credential_id, tokens) values (org, caller.credential_id, p_tokens)
    returning id into reservation;
    admitted := true; retry_ms := 0; requests_ms := 0;
    return;
  end if;
  if b.requests < 1 then
    wait_requests := (1 - b.requests) / b.rpm;
  end if;
  if not (b.tokens > 0 and b.tokens >= need) then
    wait_tokens := (greatest(need, 1) - b.tokens) / b.tpm;
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
create function app.gateway_settle(p_reservation bigint, p_used bigint, p_give_request boolean) returns boolean
  language plpgsql security definer set search_path = '' as $$
declare
  caller record := private.gateway_caller();
  org uuid := caller.org_id;
begin
  -- The reservation of this credential's call, once; the tokens the call
  -- used (the upstream's report, 0..10^9: a larger count is charged as
  -- 10^9) decide what goes back. Anything else settles nothing.
  if org is null or p_reservation is null or p_used is null or p_give_request is null then
    return false;
  end if;
  update app.gateway_reservations r
     set back = r.tokens - least(greatest(p_used, 0), 1000000000), give_request = p_give_request
   where r.org_id = org and r.id = p_reservation and r.back is null
     and r.credential_id = caller.credential_id;
  return found;
end $$;
-- +goose StatementEnd
alter function app.gateway_settle(bigint, bigint, boolean) owner to ward_definer;
revoke all on function app.gateway_settle(bigint, bigint, boolean) from public;
grant execute on function app.gateway_settle(bigint, bigint, boolean) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
