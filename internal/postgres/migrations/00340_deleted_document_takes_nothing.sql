-- A deleted document takes no new version and no comment (a review of the
-- cases surface, LOW). 00315 hid a deleted document's versions and
-- comments from every read, but the insert policies of both tables look at
-- the case only: a statement under the credential of anyone who may
-- upload to the case (or comment on it) added a version, with a new
-- object and its wrapped key, or a comment to a document a lead had
-- deleted or the retention purge had removed: rows nobody reads again,
-- counted by the storage quota, whose object no purge removes (it has
-- passed that document). The API never
-- did it (an upload locks the document's row, which a deleted document
-- does not show, and answers 404), the database did not refuse it.
--
-- Now trigger document_live refuses it (42501, hint document_deleted)
-- to every statement bound to a credential (the operator's, unbound, and
-- no definer procedure inserts either row). It reads the document's row FOR SHARE, so a deletion
-- in flight is waited for and then seen (the foreign key's FOR KEY SHARE
-- does not wait for a change of deleted_at); an upload has the row locked
-- already (the server's LockDocument), a comment holds it until it
-- commits. It runs after bound_org (00339), so only the bound org's
-- documents are read for ward_app's statements.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.refuse_deleted_document() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  deleted timestamptz;
begin
  -- Unbound callers (the operator, a restore) write what they write, as
  -- in app.case_rows_stamp; every request's statement is bound.
  if coalesce(current_setting('ward.credential', true), '') = '' then
    return new;
  end if;
  select d.deleted_at into deleted from app.documents d
   where d.org_id = new.org_id and d.id = new.document_id
     for share;
  if deleted is not null then
    raise exception 'the document was deleted: it takes no new version or comment'
      using errcode = '42501', hint = 'document_deleted';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_deleted_document() owner to ward_definer;
revoke all on function app.refuse_deleted_document() from public;

create trigger document_live before insert on app.document_versions
  for each row execute function app.refuse_deleted_document();
create trigger document_live before insert on app.document_comments
  for each row execute function app.refuse_deleted_document();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
