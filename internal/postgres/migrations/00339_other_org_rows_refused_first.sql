-- A row of another org is refused before any trigger reads that org (the
-- leftovers of 00301 and 00325 on the case tables, LOW: oracles and lock
-- waits across tenants). BEFORE INSERT triggers run before the row's
-- policy, and several of them read or lock the org the new row names, as
-- their definer or under their own lock, whoever the caller is. A
-- statement under a credential of org B that inserted a row naming org A
-- and one of A's ids was told:
--   - "case closed" (hint case_closed) for a closed case of A, and the
--     policy's refusal for an open one (app.case_closed_refusal: documents,
--     versions, comments, invitations, grants);
--   - "at most 50 invitations an hour" (54000, with the seconds until the
--     next one in its detail) when a member of A had sent 50 in the last
--     hour (app.case_invite_rate);
--   - "the org's document storage quota is used up" (54000) for a version
--     bigger than what A has left, so A's stored bytes by bisection
--     (app.document_version_quota);
--   - "an accepted document takes new versions only from those who manage
--     its case" for an accepted document of A, another message (hint
--     not_document_party) for one not yet accepted (private.guard_version_insert);
--   - "the document has the most comments it may hold" (54000) for a
--     document of A with 1,000 comments (app.document_comment_limit);
-- and it waited for A's own writes, holding the lock they wait on in turn
-- (the case's status lock, the invitation rate lock of a member of A, the
-- document's version lock, A's quota lock, the document's comment lock,
-- the access-request lock of a member of A in private.dsr_guard, A's legal
-- hold lock in app.legal_hold_serialise and app.dsr_retention_serialise):
-- whether a member of A was writing just then, and A's writers held up
-- by B's statements.
--
-- Now trigger bound_org, the first BEFORE INSERT trigger of these tables
-- (triggers of a table fire in the order of their names;
-- TestOtherOrgRowsRefusedFirst checks that no other sorts before it),
-- refuses a row of another org than the bound credential's before any of
-- them runs, with the policy's own error (42501, "new row violates
-- row-level security policy for table ..."): what the policy says anyway,
-- since every insert policy of these tables admits only the bound org's
-- rows. It does so for the statements ward_app runs itself, the ones a
-- policy governs, whatever is bound: a row of a pending credential, or of
-- none, is refused as every policy refuses it. It is decided by who the
-- statement runs as (current_user; the function is SECURITY INVOKER), not
-- by what is bound: a SECURITY DEFINER procedure runs its statements as
-- ward_definer, which no policy governs, and app.accept_case_invite
-- inserts the grant in the inviting org, for an invitee who may be a
-- member of another. A correction of 00313's header, which counts "definer
-- procedures such as app.accept_case_invite" among the unbound callers: a
-- definer procedure sees its caller's ward.credential like any statement
-- (called bound, the acceptance's grant is stamped: an invitation the
-- operator wrote with ten years of access is refused, access_too_long,
-- and accepted unbound; TestAcceptanceBoundIsStamped); the acceptance
-- runs unbound because the server binds no credential
-- before it calls it (cases.acceptInBrowser binds the request id only),
-- and bound to a credential of another org its audit event is refused
-- (42501, "audit: credential does not belong to this org").
-- Those rows, and the operator's and the jobs', go on to every trigger as
-- before. The bound org's own rows are checked as before (a member of A is
-- told that A's case is closed).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.refuse_other_org_row() returns trigger
language plpgsql
set search_path to ''
as $$
begin
  -- The invoker's role: ward_app's own statements are the ones a policy
  -- governs; a definer procedure's (ward_definer) and the operator's are
  -- checked by the triggers after this one.
  if current_user <> 'ward_app' then
    return new;
  end if;
  -- the org the insert policies admit
  if new.org_id is distinct from coalesce((select c.org_id from private.principal_cached c),
                                          private.get_my_org_id()) then
    raise exception 'new row violates row-level security policy for table "%"', tg_table_name
      using errcode = '42501';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_other_org_row() owner to ward_definer;
revoke all on function app.refuse_other_org_row() from public;

create trigger bound_org before insert on app.documents
  for each row execute function app.refuse_other_org_row();
create trigger bound_org before insert on app.document_versions
  for each row execute function app.refuse_other_org_row();
create trigger bound_org before insert on app.document_comments
  for each row execute function app.refuse_other_org_row();
create trigger bound_org before insert on app.case_invites
  for each row execute function app.refuse_other_org_row();
create trigger bound_org before insert on app.case_members
  for each row execute function app.refuse_other_org_row();
create trigger bound_org before insert on app.dsr_requests
  for each row execute function app.refuse_other_org_row();
create trigger bound_org before insert on app.legal_holds
  for each row execute function app.refuse_other_org_row();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
