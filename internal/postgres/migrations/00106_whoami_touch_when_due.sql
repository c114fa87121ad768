-- app.whoami runs on every authenticated request; until now it sent an
-- UPDATE of the caller's session on each of them, and the UPDATE, even when
-- private.touch_due said no row was due and it changed nothing, cost a
-- plan, a row lock attempt and the statement trigger that moves the
-- principal epoch (00070): about 120 µs inside the server under load, a
-- quarter of whoami (pg_stat_statements, `ward bench`, 8 clients). whoami
-- now reads the session first and updates it only when the touch is due
-- (at most once a minute, or every tenth of the idle timeout), checking
-- due again under the row lock as before. What it returns is unchanged.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- whoami as in 00100, and the session's last_seen_at is written only when
-- it is due.
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

alter function app.whoami() owner to ward_definer;
revoke all on function app.whoami() from public;
grant execute on function app.whoami() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
