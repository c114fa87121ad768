-- A crypto-shredded org's refusal tells nothing to a caller of another org
-- (00301's pattern, for the org; the stop-70 note's leftover, LOW: an
-- oracle). app.refuse_shredded_org runs BEFORE INSERT, so before the row's
-- policy: a caller bound to org B who inserted a clinical entry, an access
-- request, a legal hold or a case invitation naming org A was told "org
-- shredded" (55000) for a shredded A and refused by the policy (42501) for
-- a live one, so learned whether that unguessable id is a shredded org.
-- Those four are the tables ward_app inserts into itself; the others with
-- the trigger (memberships, sessions, sign-in links, API keys, SCIM tokens,
-- SSO connections, keysets) are written only by SECURITY DEFINER functions,
-- some of them for an org other than their caller's (an invitation accepted
-- by a member of another org), so they keep app.refuse_shredded_org as it
-- is. On the four, a caller bound to a credential has only rows of its own
-- org checked; a row naming another org (or any row of a pending
-- credential, which has no org) goes to its policy, which refuses it as any
-- row of another org. No SECURITY DEFINER function inserts into the four
-- (private.record_amendment_guard, an invoker trigger, files the amendment's
-- queue entry under the policy). A caller bound to no credential (ward_ops,
-- a superuser, a job) has every row checked, as the bound org's own rows
-- are: nothing the shred refuses gets in.
--
-- Left as they are: app.legal_hold_serialise and app.dsr_retention_serialise
-- take the hold lock of the org the new row names before the policy refuses
-- it (a caller of another org may wait for that org's hold write; the lock
-- goes when the statement fails, nothing is read), and the case triggers'
-- reads of another org's case (app.case_closed_refusal, app.case_invite_rate).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.refuse_shredded_org_own() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
begin
  -- A row of another org than the caller's is its policy's to refuse.
  if current_setting('ward.credential', true) <> ''
     and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  -- Locked: a shred holding the row is waited for, then seen.
  select o.shredded_at into shredded from app.orgs o where o.id = new.org_id for key share;
  if shredded is not null then
    raise exception 'the org was crypto-shredded: it takes no new member, credential or key'
      using errcode = '55000', hint = 'org_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_shredded_org_own() owner to ward_definer;
revoke all on function app.refuse_shredded_org_own() from public;

drop trigger org_shredded on app.clinical_entries;
create trigger org_shredded before insert on app.clinical_entries
  for each row execute function app.refuse_shredded_org_own();
drop trigger org_shredded on app.dsr_requests;
create trigger org_shredded before insert on app.dsr_requests
  for each row execute function app.refuse_shredded_org_own();
drop trigger org_shredded on app.legal_holds;
create trigger org_shredded before insert on app.legal_holds
  for each row execute function app.refuse_shredded_org_own();
drop trigger org_shredded on app.case_invites;
create trigger org_shredded before insert on app.case_invites
  for each row execute function app.refuse_shredded_org_own();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
