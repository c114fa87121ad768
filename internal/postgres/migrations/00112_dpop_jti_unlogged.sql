-- A DPoP-bound request's proof id (jti) is remembered in an unlogged table
-- (issue 8, DESIGN §11: session validation ≤ 0.1 ms added per request).
-- Since 00100 app.whoami recorded it in app.dpop_proofs, a logged table:
-- on every DPoP request the resolution became a write transaction whose
-- commit, with synchronous_commit on as in production, waits for a WAL
-- flush (and for a synchronous standby, where there is one), mostly the
-- request's only logged write. A transaction that writes only unlogged
-- relations writes its commit record without waiting for its flush.
--
-- An unlogged relation is reset by crash recovery, and is empty on a
-- promoted standby and in a restored base backup: the memory of proof ids
-- is lost exactly then. So that a loss cannot let a replay through, the
-- memory has an epoch: app.dpop_jti_epoch, an unlogged sequence, reset
-- with the table (both go back to their init fork), whose value is when
-- the memory began (seconds since 1970). The server binds, beside
-- ward.dpop and ward.dpop_jti, the proof's iat as it verified it
-- (ward.dpop_iat, seconds since 1970); whoami refuses a proof whose iat is
-- not later than the epoch plus the server's future skew (DPoPMaxSkew, one
-- minute): such a proof may have been accepted, before the epoch, by a
-- memory that is gone (the server accepts an iat up to a minute ahead of
-- its clock, so a proof used before the epoch carries an iat at most a
-- minute after it). When the sequence was reset (never set since), whoami
-- sets it to now: the memory begins again. setval is not transactional,
-- so the epoch stays even when that request is then refused. The price:
-- for the minute after a crash or a failover, DPoP-bound requests are
-- refused, as replays (their proofs' iat is too close to the restart);
-- the clients' next proofs pass a minute later. A proof with no iat bound
-- (a server of the previous version, during a deploy) counts as the oldest
-- the server accepts (five minutes). The comparison uses the database's
-- clock for the epoch and the Ward servers' for iat: they are assumed in
-- sync to well under a minute, as the iat window already assumes.
--
-- The refusal is the replay refusal (23505 on dpop_proofs_pkey, the
-- resolution rolled back). The jti memory is disjoint from
-- app.dpop_proofs, which keeps sign-in proofs (app.dpop_use, logged as
-- before): a sign-in proof carries no ath and a request proof must, so
-- neither passes as the other. The ids whoami recorded until now are
-- copied over and the epoch set to 0: the new memory continues the logged
-- one. Expired ids go as before (one resolution in 32 deletes up to 256).

-- +goose Up
set local role ward_owner;

create unlogged table app.dpop_jtis (
  jkt text not null check (jkt ~ '^[A-Za-z0-9_-]{43}$'),
  jti_hash bytea not null check (octet_length(jti_hash) = 32),
  expires_at timestamptz not null default now() + interval '10 minutes',
  primary key (jkt, jti_hash)
);
create index dpop_jtis_expiry_idx on app.dpop_jtis (expires_at);
alter table app.dpop_jtis enable row level security;
alter table app.dpop_jtis force row level security;
-- No policy for ward_app: only app.whoami reads or writes it.
grant select, insert, delete on app.dpop_jtis to ward_definer;

-- The memory's epoch: when it began, in seconds since 1970; not called
-- (is_called false) after a reset.
create unlogged sequence app.dpop_jti_epoch as bigint minvalue 0 start with 0;
grant select, update on sequence app.dpop_jti_epoch to ward_definer;

insert into app.dpop_jtis (jkt, jti_hash, expires_at)
select jkt, jti_hash, expires_at from app.dpop_proofs where expires_at >= now();
select setval('app.dpop_jti_epoch', 0, true);

-- +goose StatementBegin
-- whoami as in 00106, and the jti goes to app.dpop_jtis, refused when its
-- proof's iat does not follow the memory's start.
create or replace function app.whoami(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal int, out auth_time timestamptz, out absolute_expires_at timestamptz, out idle_expires_at timestamptz,
  out amr text[], out pending text, out break_glass boolean)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
  reused app.session_tokens%rowtype;
  jkt text := substring(current_setting('ward.dpop', true) from '^[A-Za-z0-9_-]{43}$');
  jti text := current_setting('ward.dpop_jti', true);
  iat bigint := substring(current_setting('ward.dpop_iat', true) from '^[0-9]{1,12}$')::bigint;
  began bigint;
  called boolean;
begin
  if jkt is not null and (jti is null or jti !~ '^[0-9a-f]{64}$') then
    raise exception 'a DPoP key comes with its proof''s jti hash (ward.dpop_jti)' using errcode = '22023';
  end if;
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
  if jkt is not null then
    select e.last_value, e.is_called into began, called from app.dpop_jti_epoch e;
    if not called then
      -- the memory was reset (crash recovery, a promoted standby, a
      -- restored backup): it begins again now.
      began := setval('app.dpop_jti_epoch', floor(extract(epoch from now()))::bigint, true);
    end if;
    if coalesce(iat, floor(extract(epoch from now() - interval '5 minutes'))::bigint) <= began + 60 then
      raise exception 'the DPoP proof''s iat does not follow the start of the jti memory (%): it may have been used before',
        to_timestamp(began) using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    insert into app.dpop_jtis (jkt, jti_hash) values (jkt, decode(jti, 'hex')) on conflict do nothing;
    if not found then
      raise exception 'the DPoP proof''s jti was used before' using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    if random() < 1.0 / 32 then
      delete from app.dpop_jtis d
       where d.ctid = any (array(select x.ctid from app.dpop_jtis x where x.expires_at < now() limit 256));
    end if;
  end if;
  kind := me.kind; credential_id := me.credential_id; user_id := me.user_id; org_id := me.org_id;
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := me.auth_time;
  amr := me.amr; pending := me.pending; break_glass := coalesce(me.break_glass, false);
  if me.kind = 'session' then
    select * into s from app.sessions x where x.id = me.session_id;
    if private.touch_due(s.last_seen_at, s.idle_timeout_min) then
      update app.sessions x set last_seen_at = now()
       where x.id = me.session_id and private.touch_due(x.last_seen_at, x.idle_timeout_min)
      returning * into s;
      if not found then
        select * into s from app.sessions x where x.id = me.session_id;
      end if;
    end if;
    absolute_expires_at := s.absolute_expires_at;
    idle_expires_at := least(s.absolute_expires_at, s.last_seen_at + make_interval(mins => s.idle_timeout_min));
  end if;
  return next;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
