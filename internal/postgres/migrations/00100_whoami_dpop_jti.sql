-- A DPoP proof's jti is recorded in the round trip that resolves the
-- credential (issue 8, DESIGN §11: session validation ≤ 0.1 ms added per
-- request). Until now the server called app.dpop_use in a round trip of
-- its own before app.whoami, about a millisecond per DPoP request. Now the
-- server binds, beside ward.dpop (the thumbprint of the key whose proof it
-- verified for this request), ward.dpop_jti: the hex SHA-256 of that
-- proof's jti, in the same set_config statement, and app.whoami records
-- it. The proof itself is still verified by the server before (signature,
-- htm, htu, iat, ath): the database cannot check a signature, and records
-- only what the server hands it, as app.dpop_use did.
--
-- What whoami now guarantees, whatever the server asks:
-- - a thumbprint comes with a jti: whoami with ward.dpop naming a key and
--   no well-formed ward.dpop_jti is an error (22023), so the server cannot
--   resolve a credential with a key and skip the replay check;
-- - the jti is recorded only for a credential that resolved (after
--   private.me_pending(), which checks the binding), so a stolen token
--   presented with another key, or a revoked session, records nothing;
-- - a jti seen before for that key is refused with 23505 (constraint
--   dpop_proofs_pkey), and the whole resolution rolls back with it (the
--   touch of last_seen_at included): a replayed proof resolves nobody.
-- Expired proof ids go in batches of at most 256, on about one whoami in
-- 32 that records one (not on every request: the probe of the expiry
-- index and the delete are not free), which removes up to eight times as
-- many rows as the requests add. app.dpop_use stays for sign-in proofs
-- (no credential yet), and still cleans up as it did.

-- +goose Up
set local role ward_owner;

drop function app.whoami();

-- +goose StatementBegin
-- whoami as in 00063, and with a DPoP key (ward.dpop) it records the
-- proof's jti (ward.dpop_jti) once the credential resolved.
create function app.whoami(
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
    insert into app.dpop_proofs (jkt, jti_hash) values (jkt, decode(jti, 'hex')) on conflict do nothing;
    if not found then
      raise exception 'the DPoP proof''s jti was used before' using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    if random() < 1.0 / 32 then
      delete from app.dpop_proofs d
       where d.ctid = any (array(select x.ctid from app.dpop_proofs x where x.expires_at < now() limit 256));
    end if;
  end if;
  kind := me.kind; credential_id := me.credential_id; user_id := me.user_id; org_id := me.org_id;
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := me.auth_time;
  amr := me.amr; pending := me.pending; break_glass := coalesce(me.break_glass, false);
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
-- +goose StatementEnd

alter function app.whoami() owner to ward_definer;
revoke all on function app.whoami() from public;
grant execute on function app.whoami() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
