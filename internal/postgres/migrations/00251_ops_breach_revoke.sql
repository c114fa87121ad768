-- The operator's breach revocation (`ward breach revoke`, docs/breach.md).
-- app.breach_revoke (00231, 00232) ends an incident's credentials in one
-- org, for that org's admin who stepped up. An incident can span orgs (a
-- stolen laptop of a support engineer, a network that reached several
-- orgs, a leaked database dump of session hashes): the operator, who
-- scoped it with `ward breach scope`, ends its credentials in every org at
-- once. app.ops_breach_revoke is that revocation for ward_ops: it ends the
-- sessions named, every session of the users named with the API keys they
-- made and their pending case invitations, and the API keys and SCIM
-- tokens named, wherever they are, in one transaction. It takes nothing
-- but ids (no lifetime, limit or identity: the ids are what is ended, and
-- the grant is the authority), refuses when called with a bound credential
-- (an app session has no business here), and records in each org it
-- touched one reserved breach.revoke event (details: by the operator's
-- database role, the counts), then one case.invite.revoke per invitation,
-- as app.breach_revoke does. It answers a row per org touched.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.ops_breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[],
  p_request text default null)
returns table (org_id uuid, sessions integer, api_keys integer, scim_tokens integer, case_invites integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  o uuid;
  r record;
  ended_sessions uuid[];
  ended_keys uuid[];
  ended_tokens uuid[];
  ended_invites uuid[];
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
    select t.org_id from app.scim_tokens t where t.revoked_at is null and t.id = any (p_scim_tokens)
    union
    select i.org_id from app.case_invites i
     where i.revoked_at is null and i.accepted_at is null and i.created_by = any (p_users)
    order by 1
  loop
    select coalesce(array_agg(s.id order by s.id), '{}') into ended_sessions
      from app.sessions s
     where s.org_id = o and s.revoked_at is null and (s.id = any (p_sessions) or s.user_id = any (p_users));
    select coalesce(array_agg(k.id order by k.id), '{}') into ended_keys
      from app.api_keys k
     where k.org_id = o and k.revoked_at is null and (k.id = any (p_api_keys) or k.created_by = any (p_users));
    select coalesce(array_agg(t.id order by t.id), '{}') into ended_tokens
      from app.scim_tokens t
     where t.org_id = o and t.revoked_at is null and t.id = any (p_scim_tokens);
    select coalesce(array_agg(i.id order by i.id), '{}') into ended_invites
      from app.case_invites i
     where i.org_id = o and i.revoked_at is null and i.accepted_at is null and i.created_by = any (p_users);
    org_id := o;
    sessions := cardinality(ended_sessions);
    api_keys := cardinality(ended_keys);
    scim_tokens := cardinality(ended_tokens);
    case_invites := cardinality(ended_invites);
    if sessions + api_keys + scim_tokens + case_invites = 0 then
      continue;
    end if;
    perform audit.append_as(o, 'breach.revoke', 'success',
      p_results => ended_sessions || ended_keys || ended_tokens || ended_invites, p_request => p_request,
      p_details => jsonb_build_object('by', session_user::text, 'operator', true, 'sessions', sessions,
        'api_keys', api_keys, 'scim_tokens', scim_tokens, 'case_invites', case_invites,
        'users', cardinality(p_users)));
    for r in
      update app.case_invites i set revoked_at = now()
       where i.org_id = o and i.id = any (ended_invites) and i.revoked_at is null and i.accepted_at is null
      returning i.org_id, i.id, i.case_id
    loop
      perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
        p_request => p_request, p_details => jsonb_build_object('reason', 'breach', 'operator', true));
    end loop;
    update app.sessions s set revoked_at = now(), revoked_reason = 'breach'
     where s.org_id = o and s.id = any (ended_sessions) and s.revoked_at is null;
    update app.api_keys k set revoked_at = now()
     where k.org_id = o and k.id = any (ended_keys) and k.revoked_at is null;
    update app.scim_tokens t set revoked_at = now()
     where t.org_id = o and t.id = any (ended_tokens) and t.revoked_at is null;
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
