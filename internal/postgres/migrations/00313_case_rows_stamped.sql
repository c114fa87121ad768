-- An attacker's review of cases and documents (MEDIUM): the database took
-- the server's word for what only the server should write in a new row of
-- the case tables, so a statement under one credential (an injected one,
-- or a server that was made to run it) could write what the API never
-- lets that credential write, and the database did not refuse it:
--
--   - a document filed already provided and accepted (provided_at,
--     accepted_at, accepted_by naming a lead, accepted_version): an
--     employer with the upload permission recorded the clinic's
--     acceptance of their own wage statement, and backdated its delivery
--     (private.guard_document_update checks these columns on UPDATE only;
--     docs/cases.md said "even with direct SQL");
--   - a version, a comment or a document created in the past (created_at):
--     an upload backdated before the request's due date, a comment placed
--     before the one it answers, a document made old enough for the
--     retention purge;
--   - an invitation created in the past, which app.case_invite_rate does
--     not count (its 50 an hour are counted by created_at), and valid for
--     as long as the caller liked (expires_at: the instance's
--     case_invite_ttl_days was applied by the server's query only);
--   - a grant or an invitation giving access for centuries
--     (access_expires_at: "at most five years ahead" was the server's
--     check only), and a grant inserted with expiry_recorded_at set, whose
--     expiry the job then never audits (case.member.expire);
--   - a version whose content type is active content (text/html ...): the
--     server sniffs and refuses it, the database stored whatever it was
--     given, and downloads serve the row's type.
--
-- Now, for a statement bound to a credential (ward.credential set: every
-- request's; the server's unbound jobs and definer procedures such as
-- app.accept_case_invite, and the operator, are not), trigger
-- app.case_rows_stamp stamps what is the database's to say and refuses
-- what only a later step may write:
--   - created_at (documents, versions, comments, invitations) and a
--     grant's added_at and updated_at are now(); a new grant's
--     expiry_recorded_at is null;
--   - an invitation expires no later than now() plus the instance's
--     case_invite_ttl_days (an earlier end stays);
--   - access_expires_at of a new invitation or grant, or a grant's changed
--     one, is at most five years and a day ahead (the server's five years,
--     with a day for the clocks of two hosts): 23514, hint access_too_long;
--   - a new document is neither provided nor accepted (42501, hint
--     document_not_filed): its first upload provides it, a manager accepts
--     it, each through guard_document_update;
--   - a version's content type is no active content (23514, hint
--     active_content), as the server's refusedTypes.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.case_rows_stamp() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  ttl int;
begin
  -- Unbound callers (jobs, procedures run unbound, the operator) write
  -- what they write; a request's statement is stamped.
  if coalesce(current_setting('ward.credential', true), '') = '' then
    return new;
  end if;
  if tg_table_name = 'case_members' then
    if tg_op = 'INSERT' then
      new.added_at := now();
      new.updated_at := now();
      new.expiry_recorded_at := null;
    end if;
    if new.access_expires_at > now() + interval '5 years 1 day'
       and (tg_op = 'INSERT' or new.access_expires_at is distinct from old.access_expires_at) then
      raise exception 'access ends at most five years ahead' using errcode = '23514', hint = 'access_too_long';
    end if;
    return new;
  end if;
  if tg_op <> 'INSERT' then
    return new;
  end if;
  new.created_at := now();
  if tg_table_name = 'case_invites' then
    select p.case_invite_ttl_days into ttl from app.instance_policy p;
    new.expires_at := least(new.expires_at, now() + make_interval(days => coalesce(ttl, 7)));
    new.accepted_by := null;
    if new.access_expires_at > now() + interval '5 years 1 day' then
      raise exception 'access ends at most five years ahead' using errcode = '23514', hint = 'access_too_long';
    end if;
  elsif tg_table_name = 'documents' then
    if new.provided_at is not null or new.accepted_at is not null or new.accepted_by is not null
       or new.accepted_version is not null then
      raise exception 'a document is provided by its first upload and accepted by those who manage its case, never as it is filed'
        using errcode = '42501', hint = 'document_not_filed';
    end if;
  elsif tg_table_name = 'document_versions' then
    if lower(new.content_type) ~ '^\s*(text/html|text/xml|application/xhtml|application/javascript|text/javascript|image/svg)' then
      raise exception 'active content is not stored' using errcode = '23514', hint = 'active_content';
    end if;
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.case_rows_stamp() owner to ward_definer;
revoke execute on function app.case_rows_stamp() from public;

create trigger case_rows_stamp before insert or update of access_expires_at on app.case_members
  for each row execute function app.case_rows_stamp();
create trigger case_rows_stamp before insert on app.case_invites
  for each row execute function app.case_rows_stamp();
create trigger case_rows_stamp before insert on app.documents
  for each row execute function app.case_rows_stamp();
create trigger case_rows_stamp before insert on app.document_versions
  for each row execute function app.case_rows_stamp();
create trigger case_rows_stamp before insert on app.document_comments
  for each row execute function app.case_rows_stamp();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
