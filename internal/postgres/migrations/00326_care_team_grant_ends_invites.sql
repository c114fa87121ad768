-- A staff grant that another trigger ends while its holder stays a member
-- ends the invitations pending for the holder's address on that case too
-- (a hostile review of 00314, LOW). 00314's app.case_member_ended_invites
-- returned at once for a change made inside another trigger, on the word
-- that those triggers "say their own"; app.membership_revoked does (a
-- revoked member's invitations, by address, org-wide), but app.care_team_leave
-- (a provider taken off a patient's care team loses their staff grants on
-- the patient's cases) and app.membership_revoked's role change (staff
-- demoted) revoke no invitation. A provider removed from the care team who
-- had an invitation pending for their address on the case accepted it and
-- was back on the case with the invitation's permissions, nobody granting
-- it after the removal: 00314's attack through another path.
--
-- Now, inside another trigger, the invitations end unless the holder's
-- membership is itself revoked (app.membership_revoked, an AFTER trigger,
-- ends them with its own reason, member_revoked); the reason is
-- grant_revoked, in the name of whoever made the change. Otherwise as 00314.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.case_member_ended_invites() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r record;
  why text;
begin
  if pg_catalog.pg_trigger_depth() > 1 then
    -- another trigger's change: a revoked membership ends the member's
    -- invitations itself (member_revoked); a care team's removal or a
    -- role change does not
    if not (old.revoked_at is null and new.revoked_at is not null)
       or not exists (select from app.memberships m
                       where m.org_id = new.org_id and m.user_id = new.user_id and m.revoked_at is null) then
      return null;
    end if;
    why := 'grant_revoked';
  elsif old.revoked_at is null and new.revoked_at is not null then
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
