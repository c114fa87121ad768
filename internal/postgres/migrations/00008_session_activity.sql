-- An active session stays alive whatever its idle timeout: last_seen_at is
-- touched when a tenth of the idle timeout has passed (at most a minute),
-- not once a minute, which ended a 1-minute idle session in active use.
-- And a credential's holder may learn why it no longer works.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- touch_due reports whether a session last seen at p_last_seen, with an
-- idle timeout of p_idle_min minutes, must be touched now: when a tenth of
-- the idle timeout, capped at one minute, has passed. A client whose
-- requests are at most 0.9 × the idle timeout apart never goes idle.
create function private.touch_due(p_last_seen timestamptz, p_idle_min int) returns boolean
language sql stable set search_path = '' as $$
  select p_last_seen <= now() - least(interval '1 minute', make_interval(secs => p_idle_min * 6))
$$;
-- +goose StatementEnd
alter function private.touch_due(timestamptz, int) owner to ward_rls;
revoke all on function private.touch_due(timestamptz, int) from public;
grant execute on function private.touch_due(timestamptz, int) to ward_definer, ward_app;

drop function app.whoami();

-- +goose StatementBegin
-- whoami resolves the presented credential to its principal and, for a
-- session, touches last_seen_at when private.touch_due says so. No row = no
-- live credential.
create function app.whoami(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal int, out auth_time timestamptz, out absolute_expires_at timestamptz, out idle_expires_at timestamptz)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
begin
  select * into me from private.me();
  if me.credential_id is null then
    return;
  end if;
  kind := me.kind; credential_id := me.credential_id; user_id := me.user_id; org_id := me.org_id;
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := me.auth_time;
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

-- credential_status tells the holder of a credential that no longer
-- resolves why: 'revoked', 'expired' (its absolute lifetime), 'idle', or
-- NULL when the hash names no credential. Only the presented credential's
-- own row is read, so it answers only its holder.
create function app.credential_status() returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  s app.sessions%rowtype;
  live_member boolean;
begin
  select * into s from app.sessions x where x.token_hash = private.credential_hash();
  if not found then
    return null;
  end if;
  select exists (select from app.memberships m where m.org_id = s.org_id and m.user_id = s.user_id
                   and m.revoked_at is null) into live_member;
  return case
    when s.revoked_at is not null or not live_member then 'revoked'
    when s.absolute_expires_at <= now() then 'expired'
    when s.last_seen_at + make_interval(mins => s.idle_timeout_min) <= now() then 'idle'
    else 'live' end;
end $$;
-- +goose StatementEnd

alter function app.whoami() owner to ward_definer;
alter function app.credential_status() owner to ward_definer;
revoke all on function app.whoami(), app.credential_status() from public;
grant execute on function app.whoami(), app.credential_status() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
