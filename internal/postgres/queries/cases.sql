-- Cases and documents (internal/cases). RLS decides visibility; every
-- query also filters on org_id so the indexes lead.

-- name: CaseAllows :one
select (select private.am_i_lead_in_org(@org_id::uuid))
    or @case_id::uuid = any (private.my_case_ids(@permission::text)) as allowed;

-- name: CaseManaged :one
select (select private.am_i_lead_in_org(@org_id::uuid))
    or @case_id::uuid = any (private.my_managed_case_ids()) as managed;

-- name: CreateCase :one
insert into app.cases (org_id, id, patient_id, title_enc, reference_enc, reference_bidx, created_by)
values (@org_id, @id, sqlc.narg('patient_id'), @title_enc, sqlc.narg('reference_enc'), sqlc.narg('reference_bidx'),
        @created_by)
returning *;

-- name: GetCase :one
select * from app.cases where org_id = @org_id and id = @id;

-- name: ListCases :many
select * from app.cases
 where org_id = @org_id
   and (sqlc.narg('status')::text is null or status = sqlc.narg('status')::text)
   and (sqlc.narg('reference_bidx')::bytea is null or reference_bidx = sqlc.narg('reference_bidx')::bytea)
   and (sqlc.narg('patient_id')::uuid is null or patient_id = sqlc.narg('patient_id')::uuid)
 order by created_at desc, id
 limit @max;

-- name: UpdateCase :one
update app.cases
   set title_enc = coalesce(sqlc.narg('title_enc')::bytea, title_enc),
       reference_enc = case when @set_reference::boolean then sqlc.narg('reference_enc')::bytea else reference_enc end,
       reference_bidx = case when @set_reference::boolean then sqlc.narg('reference_bidx')::bytea else reference_bidx end,
       status = coalesce(sqlc.narg('status')::text, status),
       closed_at = case when coalesce(sqlc.narg('status')::text, status) = 'closed' then coalesce(closed_at, now()) end,
       updated_at = now()
 where org_id = @org_id and id = @id
returning *;

-- name: CaseDocumentCounts :many
select app.document_status(provided_at, due_at,
         (select c.status from app.cases c where c.org_id = @org_id and c.id = @case_id))::text as status,
       count(*)::int as n
  from app.documents
 where org_id = @org_id and case_id = @case_id
 group by 1;

-- name: ListCaseMembers :many
select * from app.case_members where org_id = @org_id and case_id = @case_id order by added_at, user_id;

-- name: SetCaseMember :one
insert into app.case_members (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by, recipient_org)
values (@org_id, @case_id, @user_id, @kind, @permissions::text[], sqlc.narg('access_expires_at'), @added_by,
        sqlc.narg('recipient_org'))
on conflict (org_id, case_id, user_id) do update
  set kind = excluded.kind, permissions = excluded.permissions, access_expires_at = excluded.access_expires_at,
      recipient_org = excluded.recipient_org, revoked_at = null, updated_at = now()
returning *;

-- name: RevokeCaseMember :one
update app.case_members set revoked_at = now(), updated_at = now()
 where org_id = @org_id and case_id = @case_id and user_id = @user_id and revoked_at is null
returning user_id;

-- name: CaseGranteeRole :one
-- staff or stakeholder; '' unless the caller manages the case and already
-- sees user_id, a live staff member or stakeholder of the caller's org
-- (migrations 00154, 00156).
select coalesce(private.case_grantee_role(@case_id, @user_id), '')::text as role;

-- name: CreateCaseInvite :one
insert into app.case_invites (org_id, id, case_id, email_bidx, email_enc, invitee_id, token_hash, kind, permissions,
                              access_expires_at, expires_at, created_by, recipient_org)
select @org_id, @id, @case_id, @email_bidx, @email_enc, @invitee_id, @token_hash, @kind, @permissions::text[],
       @access_expires_at, now() + make_interval(days => p.case_invite_ttl_days), @created_by,
       sqlc.narg('recipient_org')::text
  from app.instance_policy p
returning id, expires_at, created_at;

-- name: ListCaseInvites :many
select id, case_id, email_enc, invitee_id, kind, permissions, access_expires_at, expires_at, created_by, created_at,
       accepted_at, accepted_by, revoked_at, recipient_org
  from app.case_invites
 where org_id = @org_id and case_id = @case_id
 order by created_at desc, id;

-- name: RevokeCaseInvite :one
update app.case_invites set revoked_at = now()
 where org_id = @org_id and case_id = @case_id and id = @id
returning id;

-- name: AcceptCaseInvite :one
select * from app.accept_case_invite(@token_hash, @session_hash, sqlc.narg('ip')::inet, sqlc.narg('ua')::text,
                                     sqlc.narg('request')::text);

-- name: CaseInviteLanding :one
select status, org_name, kind, permissions::text[] as permissions, access_expires_at, expires_at, recipient_org,
       invitee_id, email_enc, signed_in, signed_in_user, signed_in_email_enc
from app.case_invite_landing(@token_hash);

-- name: CreateDocument :one
insert into app.documents (org_id, id, case_id, doc_type, description_enc, requested_by, requested_from, due_at,
                           created_by)
values (@org_id, @id, @case_id, @doc_type, sqlc.narg('description_enc'), sqlc.narg('requested_by'),
        sqlc.narg('requested_from'), sqlc.narg('due_at'), @created_by)
returning *, app.document_status(provided_at, due_at,
  (select c.status from app.cases c where c.org_id = documents.org_id and c.id = documents.case_id))::text as status;

-- name: GetDocument :one
select d.*, app.document_status(d.provided_at, d.due_at,
         (select c.status from app.cases c where c.org_id = d.org_id and c.id = d.case_id))::text as status
  from app.documents d where d.org_id = @org_id and d.id = @id;

-- name: ListDocuments :many
select *, app.document_status(provided_at, due_at,
         (select c.status from app.cases c where c.org_id = @org_id and c.id = @case_id))::text as status
  from app.documents
 where org_id = @org_id and case_id = @case_id
   and (sqlc.narg('status')::text is null
        or app.document_status(provided_at, due_at,
             (select c.status from app.cases c where c.org_id = @org_id and c.id = @case_id)) = sqlc.narg('status')::text)
 order by created_at desc, id
 limit @max;

-- name: MarkDocumentProvided :exec
update app.documents set provided_at = coalesce(provided_at, now())
 where org_id = @org_id and id = @id;

-- name: AcceptDocument :one
-- app.document_accept_latest refuses a version that is not the latest
-- (P0001, hint not_latest_version; migration 00181).
update app.documents set accepted_at = now(), accepted_by = @accepted_by, accepted_version = @accepted_version
 where org_id = @org_id and id = @id and provided_at is not null and accepted_at is null
returning id;

-- name: LockDocument :one
-- The document's row, locked until the transaction ends: its versions are
-- numbered and accepted one writer at a time.
select id, case_id, accepted_at from app.documents
 where org_id = @org_id and id = @id
   for no key update;

-- name: LatestVersion :one
-- sha256 is null unless the caller may download the version or uploaded
-- it (app.version_sha256, migration 00341).
select version, app.version_sha256(org_id, id) as sha256 from app.document_versions
 where org_id = @org_id and document_id = @document_id
 order by version desc
 limit 1;

-- name: NextVersion :one
select (coalesce(max(version), 0) + 1)::int as next from app.document_versions
 where org_id = @org_id and document_id = @document_id;

-- name: CreateVersion :one
insert into app.document_versions (org_id, id, case_id, document_id, version, storage_key, data_key, size, sha256,
                                   content_type, filename_enc, uploaded_by)
values (@org_id, @id, @case_id, @document_id, @version, @storage_key, @data_key, @size, @sha256, @content_type,
        @filename_enc, @uploaded_by)
returning id, version, created_at;

-- name: ListVersions :many
select id, case_id, document_id, version, size, app.version_sha256(org_id, id) as sha256, content_type, filename_enc,
       uploaded_by, created_at
  from app.document_versions
 where org_id = @org_id and document_id = @document_id
 order by version;

-- name: ListRecentVersions :many
-- The newest max_rows versions of a document, in version order, each with
-- the count of all its versions.
select v.id, v.case_id, v.document_id, v.version, v.size, v.sha256, v.content_type, v.filename_enc, v.uploaded_by,
       v.created_at, v.total
  from (select id, case_id, document_id, version, size, app.version_sha256(org_id, id) as sha256, content_type,
               filename_enc, uploaded_by, created_at, count(*) over () as total
          from app.document_versions
         where org_id = @org_id and document_id = @document_id
         order by version desc
         limit @max_rows) v
 order by v.version;

-- name: GetVersion :one
select d.id, d.case_id, d.document_id, d.version, d.size, app.version_sha256(d.org_id, d.id) as sha256, d.content_type,
       d.filename_enc, d.uploaded_by, d.created_at
  from app.document_versions d
 where d.org_id = @org_id and d.document_id = @document_id
   -- no version asked for: the accepted one, else the latest
   and d.version = coalesce(sqlc.narg('version')::int,
                            (select x.accepted_version from app.documents x
                              where x.org_id = @org_id and x.id = @document_id),
                            d.version)
 order by d.version desc
 limit 1;

-- name: OpenDocumentVersion :one
select * from app.open_document_version(@version_id, sqlc.narg('purpose')::text, sqlc.narg('request')::text,
                                        sqlc.narg('ip')::text, sqlc.narg('ua')::text, @meta::boolean);

-- name: DeleteDocument :many
select k::text as storage_key from app.delete_document(@document_id, sqlc.narg('request')::text) k;

-- name: CreateComment :one
insert into app.document_comments (org_id, id, case_id, document_id, body_enc, author_id)
values (@org_id, @id, @case_id, @document_id, @body_enc, @author_id)
returning *;

-- name: ListComments :many
-- A page of a document's comments, oldest first, after the keyset
-- (after_created_at, after_id) when given.
select * from app.document_comments
 where org_id = @org_id and document_id = @document_id
   and (sqlc.narg('after_created_at')::timestamptz is null
        or (created_at, id) > (sqlc.narg('after_created_at')::timestamptz, sqlc.narg('after_id')::uuid))
 order by created_at, id
 limit @max_rows;

-- name: OrgDocumentLimit :one
select document_max_bytes from app.orgs where id = @org_id;

-- name: DueReminders :many
select r.org_id::uuid as org_id, r.document_id::uuid as document_id, r.case_id::uuid as case_id, r.kind::text as kind, r.user_id::uuid as user_id,
       r.email_enc::bytea as email_enc, r.due_at::timestamptz as due_at
  from app.due_reminders(@max::int) r;

-- name: RecordAccessExpiries :one
select app.record_access_expiries(@max::int)::int as n;

-- name: LiveStorageKeys :many
select k::text as storage_key from app.live_storage_keys(@keys::text[]) k;

-- name: ReclaimStorageKeys :many
-- The keys among keys that the sweeper may delete now: no live version, no
-- claim (a stale claim of one of them is deleted first; migration 00186).
select k::text as storage_key from app.reclaim_storage_keys(@keys::text[]) k;

-- name: ClaimUpload :exec
select app.claim_upload(@storage_key::text);

-- name: TouchUpload :one
select app.touch_upload(@storage_key::text) as held;

-- name: ReleaseUpload :one
select app.release_upload(@storage_key::text) as held;

-- name: PlaceHold :one
insert into app.legal_holds (org_id, id, patient_id, case_id, reason_enc, created_by)
values (@org_id, @id, sqlc.narg('patient_id'), sqlc.narg('case_id'), @reason_enc, @created_by)
returning id, created_at;

-- name: ListHolds :many
select id, patient_id, case_id, reason_enc, created_by, created_at, released_at, released_by, release_note_enc
  from app.legal_holds
 where org_id = @org_id and (not @active_only::boolean or released_at is null)
 order by created_at desc, id;

-- name: ReleaseHold :one
update app.legal_holds set released_at = now(), released_by = @released_by, release_note_enc = @note_enc
 where org_id = @org_id and id = @id and released_at is null
returning id;

-- name: OpsLegalHoldClearTexts :many
-- The operator's (ward_ops) page of holds still holding a clear text
-- (00280), for SealHoldTexts.
select org_id, id, reason, release_note
  from app.ops_legal_hold_clear_texts(sqlc.narg('after_org')::uuid, sqlc.narg('after_id')::uuid, @lim::int);

-- name: OpsSealLegalHold :one
select app.ops_seal_legal_hold(@org_id::uuid, @id::uuid, sqlc.narg('reason')::text, sqlc.narg('reason_enc')::bytea,
  sqlc.narg('note')::text, sqlc.narg('note_enc')::bytea) as sealed;

-- name: OpenPatientDocuments :many
select r.version_id::uuid as version_id, r.storage_key::text as storage_key, r.data_key::bytea as data_key
  from app.open_patient_documents(@patient_id::uuid, sqlc.narg('request')::text, sqlc.narg('ip')::text,
                                  sqlc.narg('ua')::text) r;

-- name: GetDocumentRetention :many
-- The org's retention policy (migrations 00233, 00256;
-- internal/cases/retention.go): per type, the days before any pending
-- shortening (retain_days, null: kept for ever), the shortening and its
-- effective time (null when none), and whether that time has passed by the
-- database's clock (pending_in_force): then the pending days are the rule
-- in force, else retain_days are and the shortening is still pending.
select r.doc_type, r.retain_days, r.pending_days, r.effective_at,
       coalesce(r.effective_at <= now(), false)::bool as pending_in_force
  from app.document_retention r
 where r.org_id = @org_id order by r.doc_type;

-- name: GetDocumentRetentionTag :one
-- The policy's version (migration 00250), the ETag of GET and PUT
-- /v1/org/retention-policy.
select app.document_retention_tag(@org_id)::text as tag;

-- name: SetDocumentRetention :exec
-- if_match: the versions the caller names (If-Match), or null for none.
select app.set_document_retention(@policy::jsonb, sqlc.narg('request')::text, sqlc.narg('if_match')::text[]);

-- name: PurgeExpiredDocuments :many
select p.org_id::uuid as org_id, p.document_id::uuid as document_id, p.storage_keys::text[] as storage_keys
  from app.purge_expired_documents(@max::int) p;

-- name: PreviewDocumentPurge :many
-- What the next purge would do in the caller's org, per type its policy
-- names (GET /v1/org/retention-policy/preview; internal/cases/retention.go):
-- under the rule in force (00256: the pending one once its time has
-- passed), the live documents whose creation and last upload are older
-- than the type's days, how many of them an active legal hold keeps (on
-- the org, the case's patient or the case), how many a request keeps (a
-- due date less than the days ago, migration 00238), how many an open
-- access or amendment request about their patient keeps (00256), and the
-- others, the ones the purge deletes: how many, when the oldest one's
-- retention ended, and the first @max_ids of their ids in the purge's
-- order. The type's stored days, pending days and effective time, and
-- whether that time has passed (pending_in_force: the pending days are
-- the rule in force; else retain_days are, null for none, and the
-- shortening is pending). For a pending shortening, how many more the purge would delete
-- once it takes effect, holds and requests as they stand now
-- (pending_purge). It decides as app.purge_expired_documents does
-- (migrations 00234, 00238, 00256: keep them equal), but runs as ward_app
-- under the caller's credential: RLS decides what it counts (an admin's
-- session sees every document, hold and request of the org).
with rules as (
  select r.org_id, r.doc_type,
         case when r.effective_at <= now() then r.pending_days else r.retain_days end as days,
         case when r.effective_at > now() then r.pending_days end as pend,
         case when r.effective_at > now() then r.effective_at end as pend_at
    from app.document_retention r
   where r.org_id = @org_id
),
docs as (
  select x.id, x.doc_type, x.created_at, x.due_at, r.days, r.pend, r.pend_at,
         greatest(x.created_at, (select max(v.created_at) from app.document_versions v
                                  where v.org_id = x.org_id and v.document_id = x.id)) as last_at,
         exists (select from app.legal_holds h
                  where h.org_id = x.org_id and h.released_at is null
                    and ((h.patient_id is null and h.case_id is null)
                         or h.patient_id = c.patient_id or h.case_id = x.case_id)) as held,
         exists (select from app.dsr_requests q
                  where q.org_id = x.org_id and q.patient_id = c.patient_id and q.status = 'open'
                    and q.kind in ('access', 'amendment')) as dsr
    from rules r
    join app.documents x on x.org_id = r.org_id and x.doc_type = r.doc_type
    join app.cases c on c.org_id = x.org_id and c.id = x.case_id
   where x.deleted_at is null
     -- The later of the two cutoffs (a pending rule is always the shorter).
     and x.created_at < coalesce(r.pend_at - make_interval(days => r.pend), now() - make_interval(days => r.days))
),
past as (
  select d.*,
         coalesce(d.last_at < now() - make_interval(days => d.days), false) as now_past,
         coalesce(d.due_at >= now() - make_interval(days => d.days), false) as requested,
         coalesce(d.last_at < d.pend_at - make_interval(days => d.pend)
                  and not coalesce(d.due_at >= d.pend_at - make_interval(days => d.pend), false), false) as pend_past
    from docs d
)
select t.doc_type, t.retain_days, t.pending_days, t.effective_at,
       coalesce(t.effective_at <= now(), false)::bool as pending_in_force,
       (count(p.id) filter (where p.now_past))::int as past_retention,
       (count(p.id) filter (where p.now_past and p.held))::int as held,
       (count(p.id) filter (where p.now_past and not p.held and p.requested))::int as requested,
       (count(p.id) filter (where p.now_past and not p.held and not p.requested and p.dsr))::int as dsr,
       (count(p.id) filter (where p.now_past and not p.held and not p.requested and not p.dsr))::int as purge,
       -- now() when the purge deletes none (purge = 0): the caller reads it
       -- only when purge > 0.
       coalesce(min(greatest(p.last_at, p.due_at) + make_interval(days => p.days))
                  filter (where p.now_past and not p.held and not p.requested and not p.dsr), now())::timestamptz as oldest_end,
       coalesce((array_agg(p.id order by p.created_at, p.id)
                   filter (where p.now_past and not p.held and not p.requested and not p.dsr))[1:@max_ids::int], '{}')::uuid[] as document_ids,
       (count(p.id) filter (where p.pend_past and not p.held and not p.dsr
                              and not (p.now_past and not p.requested)))::int as pending_purge
  from app.document_retention t
  left join past p on p.doc_type = t.doc_type
 where t.org_id = @org_id
 group by t.doc_type, t.retain_days, t.pending_days, t.effective_at
 order by t.doc_type;
