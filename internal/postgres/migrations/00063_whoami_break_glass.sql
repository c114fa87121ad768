-- whoami reports break-glass (issue 8 §8): a client learns from /v1/me
-- that its session is a break-glass session (every event it makes is
-- flagged, and it ends 60 minutes after activation).

-- +goose Up
set local role ward_owner;

drop function app.whoami();

-- +goose StatementBegin
-- whoami as in 00018, and break_glass says whether the session is a
-- break-glass session.
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
begin
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
