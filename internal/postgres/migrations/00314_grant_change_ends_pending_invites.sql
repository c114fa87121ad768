-- An attacker's review of cases and documents (MEDIUM): revoking a case
-- grant, or narrowing it, left the invitations still pending for its
-- holder's address on that case as they were. An attorney invited twice
-- (a link resent, or sent by the provider and again by the lead) accepted
-- one; removed from the case, they accepted the other (as a live member
-- of the org: "sign_in_required", no new session needed) and the session
-- they still held downloaded the case's documents again, with nobody
-- granting it after the removal. One narrowed to view regained download
-- the same way. The org-wide revocation (00123) already ends the
-- invitations pending for the member's address; the case's did not.
--
-- Now trigger app.case_member_ended_invites, after a grant is revoked
-- (any path but another trigger's: a membership's revocation, which
-- revokes the invitations itself with its own reason, and the care team's)
-- or changed by a statement bound to a credential (a manager's PUT: kind,
-- permissions or access end; the acceptance of an invitation runs unbound
-- and renews a grant as before), revokes the invitations pending for the
-- holder's address on that case, each audited as case.invite.revoke
-- (reason grant_revoked or grant_changed) in the caller's name. The grant
-- is the managers' latest word on what the holder reaches; an invitation
-- sent after it works as any other.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.case_member_ended_invites() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r record;
  why text;
begin
  if pg_catalog.pg_trigger_depth() > 1 then
    return null; -- another trigger's change (membership_revoked, care_team_leave) says its own
  end if;
  if old.revoked_at is null and new.revoked_at is not null then
    why := 'grant_revoked';
  elsif new.revoked_at is null and coalesce(current_setting('ward.credential', true), '') <> ''
        and (new.kind, new.permissions, new.access_expires_at, old.revoked_at is null)
            is distinct from (old.kind, old.permissions, old.access_expires_at, true) then
    why := 'grant_changed';
  else
    return null;
  end if;
  for r in
    update app.case_invites i set revoked_at = now()
      from app.users u
     where u.id = new.user_id and i.org_id = new.org_id and i.case_id = new.case_id
       and i.email_bidx = u.email_bidx and i.accepted_at is null and i.revoked_at is null
    returning i.org_id, i.id, i.case_id
  loop
    perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
      p_details => jsonb_build_object('reason', why));
  end loop;
  return null;
end $$;
-- +goose StatementEnd
alter function app.case_member_ended_invites() owner to ward_definer;
revoke execute on function app.case_member_ended_invites() from public;

create trigger case_member_ended_invites after update of revoked_at, kind, permissions, access_expires_at
  on app.case_members for each row execute function app.case_member_ended_invites();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
