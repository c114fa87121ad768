-- The compliance report's audit controls see events the integrator has not
-- sequenced yet (a review of the compliance report, MEDIUM: the report
-- said PASS for a log that was not being signed).
-- §164.312(b) is PASS only when "no event over an hour old is left outside
-- the newest signed checkpoint"; the facts measured that by
-- first_unsigned_at, the time of the first leaf after the checkpoint. An
-- event waits in audit.queue, with no leaf, until the integrator places
-- it; with the integrator stopped (the server's background loop, which
-- also signs) nothing is placed, the tree stays at the checkpoint's size,
-- and the report marked the log PASS while every new event stayed outside
-- any checkpoint, for hours. first_unsigned_at is now the earlier of that
-- leaf's time and the oldest queued event's, and the controls
-- (internal/compliance) read it whatever the tree's size. This restates
-- private.compliance_org_facts (00295) with that one key changed; the
-- operator's and an org admin's facts both call it by name.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function private.compliance_org_facts(p_org uuid) returns jsonb
language sql stable
set search_path to ''
as $$
  with pol as (select * from app.instance_policy limit 1),
  members as (
    select m.org_id, count(*) as active,
           count(*) filter (where m.role = 'admin') as admins,
           count(*) filter (where m.role = 'admin'
             and not exists (select from app.totp_factors t
                              where t.org_id = m.org_id and t.user_id = m.user_id and t.confirmed_at is not null)
             and not exists (select from app.passkeys p
                              where p.org_id = m.org_id and p.user_id = m.user_id)) as admins_without_factor
      from app.memberships m
     where m.org_id = p_org and m.revoked_at is null
     group by m.org_id
  ),
  -- Each live document a retention rule in force covers: when its
  -- retention ends (the latest of its creation, its last upload and its
  -- due date, plus the days in force, as app.purge_expired_documents
  -- decides), whether an active legal hold on its org, its case's patient
  -- or its case keeps it, and whether an open access or amendment request
  -- about its patient does (00256).
  docs as (
    select x.org_id,
           greatest(x.created_at, x.due_at, (select max(v.created_at) from app.document_versions v
                                              where v.org_id = x.org_id and v.document_id = x.id))
             + make_interval(days => r.retain_days) as expires_at,
           exists (select from app.legal_holds lh
                    where lh.org_id = x.org_id and lh.released_at is null
                      and ((lh.patient_id is null and lh.case_id is null)
                           or lh.patient_id = cs.patient_id or lh.case_id = x.case_id)) as held,
           exists (select from app.dsr_requests q
                    where q.org_id = x.org_id and q.patient_id = cs.patient_id and q.status = 'open'
                      and q.kind in ('access', 'amendment')) as dsr
      from app.documents x
      join (select r0.org_id, r0.doc_type,
                   case when r0.effective_at <= now() then r0.pending_days else r0.retain_days end as retain_days
              from app.document_retention r0) r on r.org_id = x.org_id and r.doc_type = x.doc_type
      join app.cases cs on cs.org_id = x.org_id and cs.id = x.case_id
     where x.org_id = p_org and x.deleted_at is null and r.retain_days is not null
  ),
  expired as (
    select d.org_id, count(*) filter (where not d.held and not d.dsr) as overdue,
           min(d.expires_at) filter (where not d.held and not d.dsr) as overdue_since,
           count(*) filter (where d.held) as held,
           count(*) filter (where not d.held and d.dsr) as dsr
      from docs d
     where d.expires_at < now()
     group by d.org_id
  )
  select jsonb_build_object(
        'id', i.id,
        'name', o.name,
        'exists', o.id is not null,
        'idle_timeout_min', least(o.session_idle_timeout_min, pol.session_idle_max_min),
        'absolute_max_min', least(o.session_absolute_max_min, pol.session_absolute_max_min),
        'require_mfa', o.require_mfa, 'require_passkey', o.require_passkey, 'enforce_sso', o.enforce_sso,
        'members', coalesce(mb.active, 0), 'admins', coalesce(mb.admins, 0),
        'admins_without_factor', coalesce(mb.admins_without_factor, 0),
        'break_glass_users', (select count(*) from app.break_glass_users b where b.org_id = i.id),
        -- Those who could activate now (app.break_glass_activate's checks):
        -- a live clinical or admin membership and at least two passkeys.
        'break_glass_usable', (select count(*) from app.break_glass_users b
                                 join app.memberships m on m.org_id = b.org_id and m.user_id = b.user_id
                                where b.org_id = i.id and m.revoked_at is null
                                  and m.role in ('provider', 'lead', 'admin')
                                  and (select count(*) from app.passkeys p
                                        where p.org_id = b.org_id and p.user_id = b.user_id) >= 2),
        'keyset_created_at', k.created_at, 'keyset_rotated_at', k.rotated_at,
        'has_prf', exists (select from private.keysets kp where kp.org_id = i.id and kp.purpose = 'prf'),
        'tree_size', coalesce(h.tree_size, 0),
        'checkpoint_size', c.size, 'checkpoint_at', c.signed_at,
        'archived_size', coalesce(s.archived_size, 0),
        'archive_objects', coalesce(a.n, 0), 'archive_modes', coalesce(a.modes, '[]'::jsonb),
        'archive_min_retention_days', a.min_days, 'archive_unlocked', coalesce(a.unlocked, 0),
        'sinks', coalesce((select jsonb_agg(jsonb_build_object(
                   'failing', x.failing_since is not null, 'last_success_at', x.last_success_at,
                   'undelivered_since', (select e.at from audit.events e
                                          where e.org_id = x.org_id
                                            and e.qid = (select l.qid from audit.leaves l
                                                          where l.org_id = x.org_id and l.seq > x.cursor_seq
                                                          order by l.seq limit 1)))
                   order by x.id)
                   from app.audit_sinks x
                  where x.org_id = i.id and x.enabled and x.disabled_at is null), '[]'::jsonb),
        -- The oldest event no signed checkpoint covers: the first leaf
        -- after the checkpoint, or an event still queued for the
        -- integrator (no leaf yet), whichever is older (00311).
        'first_unsigned_at', least((select e.at from audit.events e
                                     where e.org_id = i.id
                                       and e.qid = (select l.qid from audit.leaves l
                                                     where l.org_id = i.id and l.seq > coalesce(c.size, 0)
                                                     order by l.seq limit 1)),
                                   (select min(q.at) from audit.queue q where q.org_id = i.id)))
        || jsonb_build_object(
        'retention_types', (select count(*) from app.document_retention r where r.org_id = i.id
                              and case when r.effective_at <= now() then r.pending_days else r.retain_days end is not null),
        'retention_pending', (select count(*) from app.document_retention r where r.org_id = i.id and r.effective_at > now()),
        'documents_overdue', coalesce(x.overdue, 0),
        'documents_overdue_since', x.overdue_since,
        'documents_held', coalesce(x.held, 0),
        'documents_kept_by_dsr', coalesce(x.dsr, 0),
        -- Deleted documents whose versions still hold a wrapped data key:
        -- deleted but not crypto-shredded (app.delete_document and the
        -- purge null the keys in the deleting transaction).
        'documents_unshredded', (select count(distinct dv.document_id) from app.document_versions dv
                                   join app.documents dd on dd.org_id = dv.org_id and dd.id = dv.document_id
                                  where dv.org_id = i.id and dd.deleted_at is not null and dv.data_key is not null),
        'last_purge_at', ev.last_purge_at,
        'purged_year', coalesce(ev.purged, 0),
        'breach_scopes_year', coalesce(ev.scopes, 0),
        'breach_revokes_year', coalesce(ev.revokes, 0),
        'break_glass_unreviewed', coalesce(bg.n, 0),
        'break_glass_unreviewed_since', bg.since,
        -- The per-patient key tier (00275, 00295).
        'patients_keyed', coalesce(pk.keyed, 0),
        'patients_org_sealed', coalesce(pk.org_sealed, 0),
        'patients_shredded', coalesce(pk.shredded, 0),
        'last_patient_shred_at', pk.last_shred_at)
      from (select p_org as id) i
      cross join pol
      left join app.orgs o on o.id = i.id
      left join members mb on mb.org_id = i.id
      left join private.keysets k on k.org_id = i.id and k.purpose = 'aead'
      left join audit.heads h on h.org_id = i.id
      left join audit.archive_state s on s.org_id = i.id
      left join lateral (select c.size, c.signed_at from audit.checkpoints c
                          where c.org_id = i.id order by c.size desc limit 1) c on true
      left join lateral (select count(*) as n,
                                jsonb_agg(distinct ao.mode) filter (where ao.mode is not null) as modes,
                                min(extract(epoch from ao.retain_until - ao.stored_at) / 86400)::int as min_days,
                                count(*) filter (where ao.mode is null) as unlocked
                           from audit.archive_objects ao where ao.org_id = i.id) a on true
      left join expired x on x.org_id = i.id
      left join lateral (select max(e.at) filter (where e.action = 'document.purge') as last_purge_at,
                                count(*) filter (where e.action = 'document.purge' and e.at > now() - interval '365 days') as purged,
                                count(*) filter (where e.action = 'breach.scope' and e.at > now() - interval '365 days') as scopes,
                                count(*) filter (where e.action = 'breach.revoke' and e.at > now() - interval '365 days') as revokes
                           from audit.events e
                          where e.org_id = i.id and e.outcome = 'success'
                            and e.action in ('document.purge', 'breach.scope', 'breach.revoke')) ev on true
      left join lateral (select count(*) as n, min(b.activated_at) as since
                           from app.break_glass_activations b
                          where b.org_id = i.id and b.reviewed_at is null) bg on true
      left join lateral (select count(*) filter (where p.shredded_at is null and p.keyset is not null) as keyed,
                                count(*) filter (where p.shredded_at is null and p.keyset is null) as org_sealed,
                                count(*) filter (where p.shredded_at is not null) as shredded,
                                max(p.shredded_at) as last_shred_at
                           from app.patients p where p.org_id = i.id) pk on true
$$;
-- +goose StatementEnd

revoke all on function private.compliance_org_facts(uuid) from public;
grant execute on function private.compliance_org_facts(uuid) to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
