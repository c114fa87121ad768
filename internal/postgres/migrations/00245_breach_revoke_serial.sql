-- Two breach revocations at once count and record each credential once
-- (fixes 00244). app.breach_revoke chose what it ends with plain reads and
-- then updated those rows: a second call made while the first was still
-- open read the same live sessions, keys, tokens, invitations and links,
-- waited for the first to commit, updated nothing, and still answered
-- with their counts and recorded a second breach.revoke listing them as
-- ended by it, so the counts no longer said what the call ended and the
-- log told of two revocations of one session. Each read now locks the rows
-- it chooses (for no key update, the lock the updates take, in id order),
-- so a second call waits for the first and then finds them ended: it
-- counts nothing and, having ended nothing, records nothing. Otherwise the
-- function is 00244's.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[],
  p_request text default null, out sessions integer, out api_keys integer, out scim_tokens integer,
  out case_invites integer, out sign_in_links integer)
returns record
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
  r record;
  ended_sessions uuid[];
  ended_keys uuid[];
  ended_tokens uuid[];
  ended_invites uuid[];
  ended_links uuid[];
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

  -- Each choice locks its rows: a concurrent call waits here for this
  -- one's commit, then finds them ended (a locked row is checked again
  -- once its lock is released) and leaves them out.
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_sessions
    from (select s.id from app.sessions s
           where s.org_id = me.org_id and s.revoked_at is null
             and (s.id = any (p_sessions) or s.user_id = any (p_users))
           order by s.id for no key update of s) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_keys
    from (select k.id from app.api_keys k
           where k.org_id = me.org_id and k.revoked_at is null
             and (k.id = any (p_api_keys) or k.created_by = any (p_users))
           order by k.id for no key update of k) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_tokens
    from (select t.id from app.scim_tokens t
           where t.org_id = me.org_id and t.revoked_at is null and t.id = any (p_scim_tokens)
           order by t.id for no key update of t) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_invites
    from (select i.id from app.case_invites i
           where i.org_id = me.org_id and i.revoked_at is null and i.accepted_at is null
             and i.created_by = any (p_users)
           order by i.id for no key update of i) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_links
    from (select l.id from app.magic_links l
           where l.org_id = me.org_id and l.used_at is null and l.expires_at > now() and l.user_id = any (p_users)
           order by l.id for no key update of l) x;
  sessions := cardinality(ended_sessions);
  api_keys := cardinality(ended_keys);
  scim_tokens := cardinality(ended_tokens);
  case_invites := cardinality(ended_invites);
  sign_in_links := cardinality(ended_links);
  if sessions + api_keys + scim_tokens + case_invites + sign_in_links = 0 then
    return;
  end if;

  -- The event first: the caller's own session may be among those ended.
  perform audit.append_as(me.org_id, 'breach.revoke', 'success',
    p_results => ended_sessions || ended_keys || ended_tokens || ended_invites || ended_links, p_request => p_request,
    p_details => jsonb_build_object('sessions', sessions, 'api_keys', api_keys, 'scim_tokens', scim_tokens,
      'case_invites', case_invites, 'sign_in_links', sign_in_links, 'users', cardinality(p_users)));
  for r in
    update app.case_invites i set revoked_at = now()
     where i.org_id = me.org_id and i.id = any (ended_invites) and i.revoked_at is null and i.accepted_at is null
    returning i.org_id, i.id, i.case_id
  loop
    perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
      p_request => p_request, p_details => jsonb_build_object('reason', 'breach'));
  end loop;
  update app.sessions s set revoked_at = now(), revoked_reason = 'breach'
   where s.org_id = me.org_id and s.id = any (ended_sessions) and s.revoked_at is null;
  update app.api_keys k set revoked_at = now()
   where k.org_id = me.org_id and k.id = any (ended_keys) and k.revoked_at is null;
  update app.scim_tokens t set revoked_at = now()
   where t.org_id = me.org_id and t.id = any (ended_tokens) and t.revoked_at is null;
  update app.magic_links l set expires_at = now()
   where l.org_id = me.org_id and l.id = any (ended_links) and l.used_at is null and l.expires_at > now();
end $$;
-- +goose StatementEnd

alter function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) owner to ward_definer;
revoke all on function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) from public;
grant execute on function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
