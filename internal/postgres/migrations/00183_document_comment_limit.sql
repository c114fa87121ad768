-- A security review (case documents, LOW): nothing limited how many
-- comments a document takes. A case party with the comment permission
-- could post 4,000-character comments without end (only the per-principal
-- request rate applied), and every read of the comments decrypted all of
-- them. Reads are now paged (the API); this caps what is stored: a document
-- takes at most 1,000 comments. The count is taken when a comment is
-- inserted, under a per-document transaction lock, so concurrent inserts
-- cannot both take the last place; the limit is a constant here, never the
-- caller's. A refusal is 54000 with hint comment_limit (the API answers 409
-- comment_limit) and nothing is written. Comments are never deleted, so a
-- document at the cap stays there.

-- +goose Up
set local role ward_owner;

grant select (org_id, document_id) on app.document_comments to ward_definer;

-- +goose StatementBegin
create function app.document_comment_limit() returns trigger
    language plpgsql
    security definer
    set search_path to ''
    as $$
declare
  used bigint;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.document_comments.' || new.document_id::text, 0));
  select count(*) into used
    from app.document_comments m
   where m.org_id = new.org_id and m.document_id = new.document_id;
  if used >= 1000 then
    raise exception 'the document has the most comments it may hold'
      using errcode = '54000', hint = 'comment_limit';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.document_comment_limit() owner to ward_definer;
revoke all on function app.document_comment_limit() from public;

create trigger document_comments_limit before insert on app.document_comments
  for each row execute function app.document_comment_limit();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
