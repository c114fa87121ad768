-- Breach revocation ends the unspent sign-in links of the users named
-- (docs/breach.md). app.breach_revoke (00231, 00232) ended a named user's
-- sessions, API keys and pending case invitations but left their sign-in
-- links live: a link asked for before the revocation (by an attacker who
-- holds the user's mailbox, or the browser that asked for it) still signed
-- the user in afterwards, with a fresh session, a way back in within
-- minutes of the response. It now also ends, as turning on SSO
-- enforcement does (00128), the org's unspent, unexpired magic links of
-- the users named (sign-in and invitation links alike): each expires now.
-- They are counted (sign_in_links) and listed among breach.revoke's
-- results. Everything else is as in 00232: the decisions come from the
-- caller's bound credential alone. The answer gains a column, so the
-- function is dropped and created again.
-- +goose Up
set local role ward_owner;

drop function app.breach_revoke(uuid[], uuid[], uuid[], uuid[], text);

-- +goose StatementBegin
create function app.breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[],
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
  select coalesce(array_agg(i.id order by i.id), '{}') into ended_invites
    from app.case_invites i
   where i.org_id = me.org_id and i.revoked_at is null and i.accepted_at is null
     and i.created_by = any (p_users);
  select coalesce(array_agg(l.id order by l.id), '{}') into ended_links
    from app.magic_links l
   where l.org_id = me.org_id and l.used_at is null and l.expires_at > now() and l.user_id = any (p_users);
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
