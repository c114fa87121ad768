-- A closed case owes nothing (00185 made it read-only, and its reminders
-- stop): a document requested on it and not provided was still counted
-- overdue once its due date passed, in the case's document counts, in the
-- documents' status and under the list's overdue filter, while nobody can
-- upload it until the case is reopened.
--
--   * app.document_status(provided, due, case_status) is the status with
--     the case's: complete once a file was provided; pending, never
--     overdue, while the case is closed; overdue past the due date
--     otherwise. Reopened, the same request is overdue again if its date
--     has passed (the status is derived at read time, never stored).
--   * The two-argument form stays as it was (the operators' role reads it).
--   * The server's queries pass the case's status; the reminders already
--     skip closed cases (app.due_reminders).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.document_status(p_provided timestamptz, p_due timestamptz, p_case_status text) returns text
    language sql stable
    set search_path to ''
    as $$
  select case when p_provided is not null then 'complete'
              when p_case_status = 'closed' then 'pending'
              when p_due is not null and p_due < now() then 'overdue'
              else 'pending' end
$$;
-- +goose StatementEnd
revoke all on function app.document_status(timestamptz, timestamptz, text) from public;
grant execute on function app.document_status(timestamptz, timestamptz, text) to ward_app, ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
