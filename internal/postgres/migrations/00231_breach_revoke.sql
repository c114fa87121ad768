-- Breach response (DESIGN §8): an org's admin scopes an incident from the
-- audit log (the server reads the log and the records under the admin's
-- credential; breach.scope is the read's event, with the affected patients
-- as its results) and revokes the compromised credentials in one call:
--
--  * app.breach_revoke ends the org's live sessions named by id or by
--    their user, and revokes the org's API keys named by id or created by
--    one of those users, and SCIM tokens named by id. Only an admin's
--    session that presented a second factor within the last 10 minutes
--    (42501, step_up_required), not break-glass. Each list holds at most
--    1,000 ids (22023 otherwise); ids of another org, unknown ids and
--    credentials already ended are passed over, so the answer's counts say
--    what this call ended. A revocation that ended nothing is not an
--    error and leaves no event.
--  * One event, breach.revoke (a reserved action), counts each kind and
--    carries the ended credentials' ids as its results; it is appended
--    before the updates, since the caller's own session may be among them.
--  * Sessions end with revoked_reason 'breach'.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[],
  p_request text default null, out sessions integer, out api_keys integer, out scim_tokens integer)
returns record
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
  ended_sessions uuid[];
  ended_keys uuid[];
  ended_tokens uuid[];
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: an incident''s credentials are revoked by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  p_sessions := coalesce(p_sessions, '{}');
  p_users := coalesce(p_users, '{}');
  p_api_keys := coalesce(p_api_keys, '{}');
  p_scim_tokens := coalesce(p_scim_tokens, '{}');
  if cardinality(p_sessions) > 1000 or cardinality(p_users) > 1000 or cardinality(p_api_keys) > 1000
     or cardinality(p_scim_tokens) > 1000 then
    raise exception 'each list of credentials to revoke holds at most 1,000 ids' using errcode = '22023';
  end if;

  select coalesce(array_agg(s.id order by s.id), '{}') into ended_sessions
    from app.sessions s
   where s.org_id = me.org_id and s.revoked_at is null
     and (s.id = any (p_sessions) or s.user_id = any (p_users));
  select coalesce(array_agg(k.id order by k.id), '{}') into ended_keys
    from app.api_keys k
   where k.org_id = me.org_id and k.revoked_at is null
     and (k.id = any (p_api_keys) or k.created_by = any (p_users));
  select coalesce(array_agg(t.id order by t.id), '{}') into ended_tokens
    from app.scim_tokens t
   where t.org_id = me.org_id and t.revoked_at is null and t.id = any (p_scim_tokens);
  sessions := cardinality(ended_sessions);
  api_keys := cardinality(ended_keys);
  scim_tokens := cardinality(ended_tokens);
  if sessions + api_keys + scim_tokens = 0 then
    return;
  end if;

  -- The event first: the caller's own session may be among those ended.
  perform audit.append_as(me.org_id, 'breach.revoke', 'success',
    p_results => ended_sessions || ended_keys || ended_tokens, p_request => p_request,
    p_details => jsonb_build_object('sessions', sessions, 'api_keys', api_keys, 'scim_tokens', scim_tokens,
      'users', cardinality(p_users)));
  update app.sessions s set revoked_at = now(), revoked_reason = 'breach'
   where s.org_id = me.org_id and s.id = any (ended_sessions) and s.revoked_at is null;
  update app.api_keys k set revoked_at = now()
   where k.org_id = me.org_id and k.id = any (ended_keys) and k.revoked_at is null;
  update app.scim_tokens t set revoked_at = now()
   where t.org_id = me.org_id and t.id = any (ended_tokens) and t.revoked_at is null;
end $$;
-- +goose StatementEnd

alter function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) owner to ward_definer;
revoke all on function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) from public;
grant execute on function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) to ward_app;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('breach.scope', 'audit', true, false, false, '{}'),
  ('breach.revoke', 'auth', false, false, true, '{}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
