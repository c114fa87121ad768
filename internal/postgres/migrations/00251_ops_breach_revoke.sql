-- The operator's breach revocation (`ward breach revoke`, docs/breach.md),
-- and one revocation for the admin's and the operator's functions.
-- app.breach_revoke (00231, 00232, 00244, 00245) ends an incident's
-- credentials in one org, for that org's admin who stepped up. An incident
-- can span orgs (a network that reached several orgs, a support engineer's
-- stolen laptop, a leaked dump of session hashes): the operator, who
-- scoped it with `ward breach scope`, ends its credentials in every org at
-- once with app.ops_breach_revoke, for ward_ops only. Both now call
-- private.breach_end, which ends in one org, locking what it chooses in id
-- order (00245): the sessions named; every session of the users named,
-- their unspent sign-in links (00244), the API keys and SCIM tokens they
-- made and their pending case invitations; and the API keys and SCIM
-- tokens named. SCIM tokens made by a user named are new here: a revoked
-- admin's SCIM token still provisioned members (a lead reads every record)
-- where the admin's API keys were ended. It records one reserved
-- breach.revoke event (the operator's with `operator: true` and the
-- database role) and a case.invite.revoke per invitation. The helper is
-- called by the two definer functions only, which decide the org: the
-- admin's from the bound credential, the operator's from the rows the ids
-- reach (the grant is the authority; it refuses a bound credential). It
-- takes nothing but ids (no lifetime, limit or identity) and answers a row
-- per org touched.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.breach_end(p_org uuid, p_sessions uuid[], p_users uuid[], p_api_keys uuid[],
  p_scim_tokens uuid[], p_request text, p_by jsonb,
  out sessions integer, out api_keys integer, out scim_tokens integer, out case_invites integer,
  out sign_in_links integer)
returns record
language plpgsql
set search_path to ''
as $$
declare
  r record;
  ended_sessions uuid[];
  ended_keys uuid[];
  ended_tokens uuid[];
  ended_invites uuid[];
  ended_links uuid[];
begin
  -- Each choice locks its rows: a concurrent call waits here for this
  -- one's commit, then finds them ended (a locked row is checked again
  -- once its lock is released) and leaves them out.
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_sessions
    from (select s.id from app.sessions s
           where s.org_id = p_org and s.revoked_at is null
             and (s.id = any (p_sessions) or s.user_id = any (p_users))
           order by s.id for no key update of s) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_keys
    from (select k.id from app.api_keys k
           where k.org_id = p_org and k.revoked_at is null
             and (k.id = any (p_api_keys) or k.created_by = any (p_users))
           order by k.id for no key update of k) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_tokens
    from (select t.id from app.scim_tokens t
           where t.org_id = p_org and t.revoked_at is null
             and (t.id = any (p_scim_tokens) or t.created_by = any (p_users))
           order by t.id for no key update of t) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_invites
    from (select i.id from app.case_invites i
           where i.org_id = p_org and i.revoked_at is null and i.accepted_at is null
             and i.created_by = any (p_users)
           order by i.id for no key update of i) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_links
    from (select l.id from app.magic_links l
           where l.org_id = p_org and l.used_at is null and l.expires_at > now() and l.user_id = any (p_users)
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
  perform audit.append_as(p_org, 'breach.revoke', 'success',
    p_results => ended_sessions || ended_keys || ended_tokens || ended_invites || ended_links, p_request => p_request,
    p_details => coalesce(p_by, '{}') || jsonb_build_object('sessions', sessions, 'api_keys', api_keys,
      'scim_tokens', scim_tokens, 'case_invites', case_invites, 'sign_in_links', sign_in_links,
      'users', cardinality(p_users)));
  for r in
    update app.case_invites i set revoked_at = now()
     where i.org_id = p_org and i.id = any (ended_invites) and i.revoked_at is null and i.accepted_at is null
    returning i.org_id, i.id, i.case_id
  loop
    perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
      p_request => p_request, p_details => coalesce(p_by, '{}') || jsonb_build_object('reason', 'breach'));
  end loop;
  update app.sessions s set revoked_at = now(), revoked_reason = 'breach'
   where s.org_id = p_org and s.id = any (ended_sessions) and s.revoked_at is null;
  update app.api_keys k set revoked_at = now()
   where k.org_id = p_org and k.id = any (ended_keys) and k.revoked_at is null;
  update app.scim_tokens t set revoked_at = now()
   where t.org_id = p_org and t.id = any (ended_tokens) and t.revoked_at is null;
  update app.magic_links l set expires_at = now()
   where l.org_id = p_org and l.id = any (ended_links) and l.used_at is null and l.expires_at > now();
end $$;
-- +goose StatementEnd

revoke all on function private.breach_end(uuid, uuid[], uuid[], uuid[], uuid[], text, jsonb) from public;
grant execute on function private.breach_end(uuid, uuid[], uuid[], uuid[], uuid[], text, jsonb) to ward_definer;

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
  x record;
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
  if cardinality(p_sessions) > 1000 or cardinality(p_users) > 1000 or cardinality(p_api_keys) > 1000
     or cardinality(p_scim_tokens) > 1000 then
    raise exception 'each list of credentials to revoke holds at most 1,000 ids' using errcode = '22023';
  end if;
  select * into x from private.breach_end(me.org_id, coalesce(p_sessions, '{}'), coalesce(p_users, '{}'),
    coalesce(p_api_keys, '{}'), coalesce(p_scim_tokens, '{}'), p_request, '{}');
  sessions := x.sessions; api_keys := x.api_keys; scim_tokens := x.scim_tokens;
  case_invites := x.case_invites; sign_in_links := x.sign_in_links;
end $$;
-- +goose StatementEnd

alter function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) owner to ward_definer;
revoke all on function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) from public;
grant execute on function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text) to ward_app;

-- +goose StatementBegin
create function app.ops_breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[],
  p_request text default null)
returns table (org_id uuid, sessions integer, api_keys integer, scim_tokens integer, case_invites integer,
  sign_in_links integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  o uuid;
  x record;
begin
  if private.credential_hash() is not null then
    raise exception 'ops_breach_revoke: the operator''s revocation takes no credential' using errcode = '42501';
  end if;
  p_sessions := coalesce(p_sessions, '{}');
  p_users := coalesce(p_users, '{}');
  p_api_keys := coalesce(p_api_keys, '{}');
  p_scim_tokens := coalesce(p_scim_tokens, '{}');
  if cardinality(p_sessions) > 10000 or cardinality(p_users) > 10000 or cardinality(p_api_keys) > 10000
     or cardinality(p_scim_tokens) > 10000 then
    raise exception 'ops_breach_revoke: each list of credentials to revoke holds at most 10,000 ids' using errcode = '22023';
  end if;
  for o in
    select s.org_id from app.sessions s
     where s.revoked_at is null and (s.id = any (p_sessions) or s.user_id = any (p_users))
    union
    select k.org_id from app.api_keys k
     where k.revoked_at is null and (k.id = any (p_api_keys) or k.created_by = any (p_users))
    union
    select t.org_id from app.scim_tokens t
     where t.revoked_at is null and (t.id = any (p_scim_tokens) or t.created_by = any (p_users))
    union
    select i.org_id from app.case_invites i
     where i.revoked_at is null and i.accepted_at is null and i.created_by = any (p_users)
    union
    select l.org_id from app.magic_links l
     where l.used_at is null and l.expires_at > now() and l.user_id = any (p_users)
    order by 1
  loop
    select * into x from private.breach_end(o, p_sessions, p_users, p_api_keys, p_scim_tokens, p_request,
      jsonb_build_object('operator', true, 'by', session_user::text));
    if x.sessions + x.api_keys + x.scim_tokens + x.case_invites + x.sign_in_links = 0 then
      continue;
    end if;
    org_id := o; sessions := x.sessions; api_keys := x.api_keys; scim_tokens := x.scim_tokens;
    case_invites := x.case_invites; sign_in_links := x.sign_in_links;
    return next;
  end loop;
end $$;
-- +goose StatementEnd

alter function app.ops_breach_revoke(uuid[], uuid[], uuid[], uuid[], text) owner to ward_definer;
revoke all on function app.ops_breach_revoke(uuid[], uuid[], uuid[], uuid[], text) from public;
grant execute on function app.ops_breach_revoke(uuid[], uuid[], uuid[], uuid[], text) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
