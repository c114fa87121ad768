-- A security review of 00154 and 00155 found four things to tighten:
--
--   * private.case_grantee_role answered for any member of the caller's
--     org, so a provider managing one case could learn, user id by user id,
--     who was a patient or a stakeholder of the org (members a provider's
--     credential does not see). It now answers only for a member the
--     caller's credential sees (private.my_org_member_ids) or one who holds
--     or held a grant on that case (which the caller sees on the case), and
--     never says patient: a patient is no grantee, and null is all the
--     caller learns, as for a user who is no member at all.
--   * app.forget_session_device ended only the named session. Other live
--     sessions bound to the same device key (DPoP: exactly one device) stay
--     usable on a lost phone. They are ended too (reason device_forgotten),
--     and counted. Sessions that share only a user agent may be other
--     machines, and are still only marked. "Ended" now also means the
--     named session was live: not revoked, and not past its idle or
--     absolute expiry (before, an expired session was reported as ended).
--   * The organisation a stakeholder acts for (recipient_org, on case
--     grants and invitations) refused only ASCII controls ([[:cntrl:]]
--     under the C locale). It is shown to people in mail, listings and
--     disclosure reports, so it now also refuses C1 controls, line and
--     paragraph separators, bidirectional overrides and isolates, and
--     invisible format characters, which can make a name read as another.

-- +goose Up
set local role ward_owner;

alter table app.case_members drop constraint case_members_recipient_org_check;
alter table app.case_members add constraint case_members_recipient_org_check check (
  recipient_org is null
  or (kind <> 'staff' and char_length(recipient_org) between 1 and 180
      and recipient_org !~ '[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]'
      and recipient_org = btrim(recipient_org)));
alter table app.case_invites drop constraint case_invites_recipient_org_check;
alter table app.case_invites add constraint case_invites_recipient_org_check check (
  recipient_org is null
  or (char_length(recipient_org) between 1 and 180
      and recipient_org !~ '[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]'
      and recipient_org = btrim(recipient_org)));

-- +goose StatementBegin
-- case_grantee_role: what a live member is for a grant on p_case (staff or
-- stakeholder), for a caller who manages p_case and already sees that
-- member (in the org's member list their credential shows, or on the
-- case's grants); null otherwise: no such member, a patient, another org,
-- a member the caller does not see, or a caller who does not manage the
-- case. Who asks comes from the credential, never a parameter.
create or replace function private.case_grantee_role(p_case uuid, p_user uuid) returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  o uuid := private.get_my_org_id();
begin
  if o is null or p_case is null or p_user is null
     or not (private.am_i_lead() or p_case = any (private.my_managed_case_ids())) then
    return null;
  end if;
  if not (p_user = any (private.my_org_member_ids())
          or exists (select from app.case_members cm
                      where cm.org_id = o and cm.case_id = p_case and cm.user_id = p_user)) then
    return null;
  end if;
  return (select case when m.role in ('provider', 'lead', 'admin') then 'staff'
                      when m.role = 'stakeholder' then 'stakeholder' end
            from app.memberships m
           where m.org_id = o and m.user_id = p_user and m.revoked_at is null);
end $$;
-- +goose StatementEnd

drop function app.forget_session_device(uuid, text);

-- +goose StatementBegin
create function app.forget_session_device(p_session uuid, p_request text default null,
  out forgotten int, out ended boolean, out others_ended int)
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
  others uuid[];
begin
  select * into me from private.me();
  if me.session_id is null or me.kind is distinct from 'session' then
    raise exception 'forbidden: only a session of the member forgets a device' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into s from app.sessions x
   where x.org_id = me.org_id and x.user_id = me.user_id and x.id = p_session
     for update;
  if not found then
    raise exception 'no session of yours in this org has this id' using errcode = 'P0002';
  end if;
  update app.sessions x set device_forgotten_at = now()
   where x.org_id = me.org_id and x.user_id = me.user_id and x.device_forgotten_at is null
     and (x.id = s.id or x.user_agent is not distinct from s.user_agent
          or (s.dpop_jkt is not null and x.dpop_jkt = s.dpop_jkt));
  get diagnostics forgotten = row_count;
  ended := s.revoked_at is null and s.absolute_expires_at > now()
           and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now();
  -- Every other live session bound to the same device key is on that
  -- device: it ends too.
  if s.dpop_jkt is not null then
    select coalesce(array_agg(x.id), '{}') into others from (
      select x.id from app.sessions x
       where x.org_id = me.org_id and x.user_id = me.user_id and x.id <> s.id and x.dpop_jkt = s.dpop_jkt
         and x.revoked_at is null and x.absolute_expires_at > now()
         and x.last_seen_at + make_interval(mins => x.idle_timeout_min) > now()
       order by x.id
         for update) x;
  else
    others := '{}';
  end if;
  others_ended := cardinality(others);
  -- The event first: ending the caller's own session ends the credential
  -- that names the actor.
  perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', s.id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('reason', 'device_forgotten', 'ended', ended,
                                                           'sessions_forgotten', forgotten,
                                                           'other_sessions_ended', others_ended));
  update app.sessions x set revoked_at = now(), revoked_reason = 'device_forgotten'
   where x.org_id = me.org_id and x.user_id = me.user_id
     and ((ended and x.id = s.id) or x.id = any (others));
end $$;
-- +goose StatementEnd
alter function app.forget_session_device(uuid, text) owner to ward_definer;
revoke all on function app.forget_session_device(uuid, text) from public;
grant execute on function app.forget_session_device(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
