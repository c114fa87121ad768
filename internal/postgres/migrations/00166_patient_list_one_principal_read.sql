-- The patient list reads the cached principal once (issue 7's RLS budget).
--
-- Measured with pgbench -M prepared against the bench database
-- (docs/benchmarks.md 38), a lead's list of 50 took 91 us under
-- patients_select against 54 us bypassed. Each reference to
-- private.principal_cached in a policy is an InitPlan of five to seven
-- plan nodes, and the executor starts and ends every one of them on
-- every execution, run or not: about 8 us each, three references here
-- (org, lead, break-glass). The same list under a policy that references
-- the view once took 70 us.
--
--   * private.principal_cached gains lead_org: the principal's org when it
--     sees every patient of it by its role (a lead or admin that is no API
--     key, as am_i_lead) or by break-glass, and otherwise the nil UUID,
--     which no org may have (a new check on app.orgs): a column that is
--     never null for a cached principal, so the helper arm runs only on a
--     cache miss. private.my_lead_org() is its helper, as the other
--     columns have theirs.
--   * patients_select: org_id = lead_org, or the org and an assigned
--     patient or a gateway key, as before. A lead's list reads the view
--     once and starts two references instead of three.

-- +goose Up
set local role ward_owner;

alter table app.orgs add constraint orgs_id_not_nil check (id <> '00000000-0000-0000-0000-000000000000'::uuid);

create or replace view private.principal_cached with (security_invoker = true) as
 SELECT
        CASE
            WHEN ((x.principal).pending IS NULL) THEN (x.principal).org_id
            ELSE NULL::uuid
        END AS org_id,
        CASE
            WHEN ((x.principal).pending IS NULL) THEN (x.principal).user_id
            ELSE NULL::uuid
        END AS user_id,
        CASE
            WHEN ((x.principal).pending IS NULL) THEN (x.principal).role
            ELSE NULL::text
        END AS role,
    (((x.principal).pending IS NULL) AND ((x.principal).org_id IS NOT NULL) AND COALESCE((((x.principal).role = ANY (ARRAY['lead'::text, 'admin'::text])) AND ((x.principal).kind IS DISTINCT FROM 'api_key'::text)), false)) AS lead,
    (((x.principal).pending IS NULL) AND COALESCE(((x.principal).kind = 'api_key'::text), false)) AS is_key,
    (((x.principal).pending IS NULL) AND COALESCE((x.principal).break_glass, false)) AS break_glass,
    x.principal,
        CASE
            WHEN ((((x.principal).pending IS NULL) AND ((x.principal).org_id IS NOT NULL) AND COALESCE((((x.principal).role = ANY (ARRAY['lead'::text, 'admin'::text])) AND ((x.principal).kind IS DISTINCT FROM 'api_key'::text)), false)) OR ((((x.principal).pending IS NULL) AND COALESCE((x.principal).break_glass, false)) AND ((x.principal).org_id IS NOT NULL))) THEN (x.principal).org_id
            ELSE '00000000-0000-0000-0000-000000000000'::uuid
        END AS lead_org
   FROM private.principal_cache x
  WHERE ((current_setting('ward.principal_cache'::text, true) IS DISTINCT FROM 'off'::text) AND (x.cred = current_setting('ward.credential'::text, true)) AND (NOT (x.org IS DISTINCT FROM current_setting('ward.org'::text, true))) AND (NOT (x.dpop IS DISTINCT FROM current_setting('ward.dpop'::text, true))) AND (x.valid_until > now()) AND (NOT (EXISTS ( SELECT
           FROM private.principal_changes ch
          WHERE ((ch.xid >= pg_snapshot_xmin(x.snap)) AND ((ch.xid = x.put_xid) OR (NOT pg_visible_in_snapshot(ch.xid, x.snap))))))) AND ((pg_current_xact_id_if_assigned() IS NULL) OR (NOT (EXISTS ( SELECT
           FROM private.principal_changes ch
          WHERE (ch.xid = pg_current_xact_id_if_assigned()))))))
 LIMIT 1;

-- +goose StatementBegin
create function private.my_lead_org() returns uuid
    language plpgsql stable security definer
    set search_path to ''
    as $$
declare
  m private.principal := private.principal_now();
begin
  -- The column lead_org of private.principal_cached, for a miss.
  if m.pending is null and m.org_id is not null
     and (coalesce(m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false)
          or coalesce(m.break_glass, false)) then
    return m.org_id;
  end if;
  return '00000000-0000-0000-0000-000000000000'::uuid;
end $$;
-- +goose StatementEnd
alter function private.my_lead_org() owner to ward_rls;
revoke all on function private.my_lead_org() from public;
grant execute on function private.my_lead_org() to ward_app, ward_definer;

alter policy patients_select on app.patients using (
  (org_id = COALESCE(( SELECT c.lead_org FROM private.principal_cached c), ( SELECT private.my_lead_org() AS my_lead_org)))
  OR ((org_id = COALESCE(( SELECT c.org_id FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id)))
      AND ((id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[]))
           OR ( SELECT private.key_holds('gateway'::text) AS key_holds))));

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
