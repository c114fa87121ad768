-- +goose Up
-- Reminders about data-subject requests falling due (docs/dsr.md): each
-- live admin of the org is mailed once when an open request is due within
-- seven days, and once when it is overdue; a request extended (a new due
-- date) is reminded of again. The job (ward_ops) claims each reminder in
-- app.dsr_due_reminders, which audits it, before the mail goes out, so two
-- nodes never send the same one.
set local role ward_owner;

create table app.dsr_reminders (
  org_id uuid not null,
  dsr_id uuid not null,
  kind text not null check (kind in ('due_soon', 'overdue')),
  due_at timestamptz not null,
  user_id uuid not null,
  sent_at timestamptz not null default now(),
  primary key (org_id, dsr_id, kind, due_at, user_id),
  foreign key (org_id, dsr_id) references app.dsr_requests (org_id, id)
);
-- Nobody but app.dsr_due_reminders (ward_definer, which bypasses RLS)
-- reads or writes it: no policy, forced.
alter table app.dsr_reminders enable row level security;
alter table app.dsr_reminders force row level security;
grant select, insert on app.dsr_reminders to ward_definer;
grant select on app.dsr_requests to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('dsr.remind', 'patient', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- dsr_due_reminders claims up to p_max reminders (at most 1,000) that are
-- due: an open request whose due date is less than seven days away
-- (due_soon) or past (overdue), for each live admin of its org not yet
-- reminded of that kind for that due date. Each claim is recorded and
-- audited (dsr.remind, the admin as actor) in the caller's transaction;
-- the rows carry what the mail needs (the admin's sealed address), never
-- the request's subject. The window is the database's, not the caller's.
create function app.dsr_due_reminders(p_max int default 100)
returns table (org_id uuid, dsr_id uuid, kind text, dsr_kind text, user_id uuid, email_enc bytea, due_at timestamptz)
language plpgsql security definer set search_path = '' as $$
#variable_conflict use_column
declare
  r record;
begin
  for r in
    select d.org_id, d.id, d.kind as dsr_kind, d.due_at, m.user_id,
           case when d.due_at < now() then 'overdue' else 'due_soon' end as kind
      from app.dsr_requests d
      join app.memberships m on m.org_id = d.org_id and m.role = 'admin' and m.revoked_at is null
     where d.status = 'open' and d.due_at < now() + interval '7 days'
       and not exists (select from app.dsr_reminders x
                        where x.org_id = d.org_id and x.dsr_id = d.id and x.due_at = d.due_at and x.user_id = m.user_id
                          and x.kind = case when d.due_at < now() then 'overdue' else 'due_soon' end)
     order by d.due_at, d.id, m.user_id
     limit least(greatest(coalesce(p_max, 100), 1), 1000)
  loop
    -- Two nodes may pick the same reminder: the primary key lets one
    -- insert it, and the other waits for that one's commit and skips it.
    insert into app.dsr_reminders (org_id, dsr_id, kind, due_at, user_id)
    values (r.org_id, r.id, r.kind, r.due_at, r.user_id)
    on conflict do nothing;
    if found then
      perform audit.append_as(r.org_id, 'dsr.remind', 'success', 'dsr_request', r.id,
        p_details => jsonb_build_object('kind', r.kind, 'dsr_kind', r.dsr_kind, 'due_at', r.due_at),
        p_actor => r.user_id);
      org_id := r.org_id; dsr_id := r.id; kind := r.kind; dsr_kind := r.dsr_kind; due_at := r.due_at;
      user_id := r.user_id;
      select u.email_enc into email_enc from app.users u where u.id = r.user_id;
      return next;
    end if;
  end loop;
end $$;
-- +goose StatementEnd
alter function app.dsr_due_reminders(int) owner to ward_definer;
revoke all on function app.dsr_due_reminders(int) from public;
grant execute on function app.dsr_due_reminders(int) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
