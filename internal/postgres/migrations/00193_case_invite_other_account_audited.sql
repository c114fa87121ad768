-- An acceptance of an invitation refused because the browser holds another
-- member's session (409 invite_other_account, since 00190's landing) wrote
-- no audit event, while every other refused acceptance is a denied
-- case.invite.accept. It is one now, with reason invite_other_account.
--
--   * The server refuses such an acceptance before anything is read or
--     spent, in a transaction bound to the browser's session, and rolls it
--     back; the event is written in a transaction of its own by
--     app.audit_case_invite_other_account, unbound (the signed-in member
--     may be of another org, whose credential cannot write this org's
--     events), as app.audit_sso_required is.
--   * It decides nothing on the server's word: it records the event only
--     when the token names an invitation that can still be accepted
--     (private.case_invite_status, 00192: the server refuses only those,
--     other acceptances answer their own status) and the session hash
--     names a live session of a live member whose address is not the one
--     invited (the session's own liveness, not the request's device
--     binding: it only decides whether a refusal is recorded).
--     Otherwise it records nothing and returns false.
--   * The event is in the invitation's org, on the invitation and its case,
--     as the other denied acceptances. It names the signed-in member as
--     the actor when their session is in that org; a member of another
--     org is not named in this org's log (details.signed_in: this_org or
--     other_org). No address and no PHI. It spends nothing.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.audit_case_invite_other_account(p_token_hash bytea, p_session_hash bytea,
    p_collapsed integer default 1, p_request text default null, p_ip text default null, p_ua text default null)
    returns boolean
    language plpgsql security definer
    set search_path to ''
    as $$
declare
  i app.case_invites%rowtype;
  sess record;
  details jsonb;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32 then
    raise exception 'audit_case_invite_other_account: token and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash;
  if not found or private.case_invite_status(i) <> 'ok' then
    return false;
  end if;
  -- The session the token names (or a token it rotated away from within
  -- the last 30 seconds, as private.me_pending reads it), live, of a live
  -- member, whose user is not the invited address.
  select s.org_id, s.user_id into sess
    from (select x.id from app.sessions x where x.token_hash = p_session_hash
          union all
          select t.session_id from app.session_tokens t
           where t.token_hash = p_session_hash and t.retired_at > now() - interval '30 seconds'
          limit 1) k
    join app.sessions s on s.id = k.id
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
    join app.users u on u.id = s.user_id
   where s.revoked_at is null and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null
     and u.email_bidx is distinct from i.email_bidx;
  if not found then
    return false;
  end if;
  details := jsonb_build_object('reason', 'invite_other_account',
    'signed_in', case when sess.org_id = i.org_id then 'this_org' else 'other_org' end);
  if p_collapsed > 1 then
    details := details || jsonb_build_object('collapsed', p_collapsed);
  end if;
  perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_details => details, p_case => i.case_id,
    p_actor => case when sess.org_id = i.org_id then sess.user_id end);
  return true;
end $$;
-- +goose StatementEnd
alter function app.audit_case_invite_other_account(bytea, bytea, integer, text, text, text) owner to ward_definer;
revoke all on function app.audit_case_invite_other_account(bytea, bytea, integer, text, text, text) from public;
grant execute on function app.audit_case_invite_other_account(bytea, bytea, integer, text, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
