-- Break-glass reaches cases (issue 8 §8): a live break-glass session reads
-- every case of its org and their documents, versions and comments, and
-- downloads the documents, as it reads every patient (00060). The
-- cases, documents, document_versions and document_comments SELECT
-- policies and app.open_document_version already ask
-- private.my_case_ids('view' / 'download'); it now answers every case of
-- the org for a break-glass session. Uploads, comments and case
-- management follow the member's ordinary role. Every event the session
-- makes carries break_glass = true (audit.append_as reads it from
-- private.me()).

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- my_case_ids as in 00028, and a live break-glass session reaches every
-- case of its org for view and download.
create or replace function private.my_case_ids(p_perm text) returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  if p_perm is null or p_perm not in ('view', 'upload', 'download', 'comment') then
    return '{}';
  end if;
  select * into me from private.me();
  if me.user_id is null or me.kind is distinct from 'session' then
    return '{}';
  end if;
  return coalesce((select array_agg(distinct x.id) from (
      select c.id from app.cases c
       where me.break_glass and p_perm in ('view', 'download') and c.org_id = me.org_id
      union all
      select cm.case_id as id from app.case_members cm
       where cm.org_id = me.org_id and cm.user_id = me.user_id and cm.revoked_at is null
         and (cm.access_expires_at is null or cm.access_expires_at > now())
         and p_perm = any (cm.permissions)
      union all
      select c.id from app.cases c
        join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
       where me.role in ('provider', 'lead') and c.org_id = me.org_id and ct.provider_id = me.user_id
      union all
      select c.id from app.cases c
        join app.patient_links pl on pl.org_id = c.org_id and pl.patient_id = c.patient_id
       where me.role = 'patient' and p_perm in ('view', 'download')
         and c.org_id = me.org_id and pl.user_id = me.user_id) x), '{}');
end $$;

-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
