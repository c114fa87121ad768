-- The patient list's policy: each arm decided by one read (issue 7's RLS
-- budget, docs/benchmarks.md 39).
--
-- After 00166 patients_select still referenced private.principal_cached
-- twice: lead_org, and the org that the assigned and gateway arms pair
-- with their own helper. Every reference is an InitPlan of seven plan
-- nodes that each execution starts and ends whether it runs or not; the
-- second one cost a lead's list about 10 us of the 30 us it paid over the
-- bypassed query.
--
--   * private.patient_key (org_id, id) and private.my_patient_keys(): the
--     keys of the patients assigned to the principal (care team, or a
--     patient's own links), org and id together, so the assigned arm
--     needs no separate org.
--   * private.key_org(scope): the principal's org when it is an API key
--     holding that scope, else the nil UUID (which no org may have).
--   * patients_select: org_id = lead_org, or (org_id, id) an assigned
--     key, or org_id = the gateway key's org. The same rows for every
--     actor as before (the RLS matrix, with the cache and without).
--
-- Each arm now takes its whole decision from one InitPlan, and so from
-- one credential: a cursor whose FETCHes run under two credentials
-- (docs/security-model.md, what 00165 left) can show on this table only
-- rows one of the two credentials may see on its own.

-- +goose Up
set local role ward_owner;

create type private.patient_key as (org_id uuid, id uuid);

-- +goose StatementBegin
create function private.my_patient_keys() returns private.patient_key[]
    language plpgsql stable security definer
    set search_path to ''
    as $$
declare
  me record;
begin
  -- private.my_patient_ids() with each id's org.
  select * into me from private.me();
  if me.user_id is null or me.org_id is null then
    return '{}';
  end if;
  if me.role = 'patient' then
    return coalesce((select array_agg(row(pl.org_id, pl.patient_id)::private.patient_key) from app.patient_links pl
                      where pl.org_id = me.org_id and pl.user_id = me.user_id), '{}');
  end if;
  return coalesce((select array_agg(row(ct.org_id, ct.patient_id)::private.patient_key) from app.care_team ct
                    where ct.org_id = me.org_id and ct.provider_id = me.user_id), '{}');
end $$;
-- +goose StatementEnd
alter function private.my_patient_keys() owner to ward_rls;
revoke all on function private.my_patient_keys() from public;
grant execute on function private.my_patient_keys() to ward_app, ward_definer;

-- +goose StatementBegin
create function private.key_org(p_scope text) returns uuid
    language plpgsql stable security definer
    set search_path to ''
    as $$
begin
  -- private.key_holds(p_scope), answered with the org it holds it in.
  return coalesce((select m.org_id from private.me() m
                     join app.api_keys k on k.org_id = m.org_id and k.id = m.credential_id
                    where m.kind = 'api_key' and p_scope = any (k.scopes)),
                  '00000000-0000-0000-0000-000000000000'::uuid);
end $$;
-- +goose StatementEnd
alter function private.key_org(text) owner to ward_rls;
revoke all on function private.key_org(text) from public;
grant execute on function private.key_org(text) to ward_app, ward_definer;

alter policy patients_select on app.patients using (
  (org_id = COALESCE(( SELECT c.lead_org FROM private.principal_cached c), ( SELECT private.my_lead_org() AS my_lead_org)))
  OR (ROW(org_id, id)::private.patient_key = ANY (( SELECT private.my_patient_keys() AS my_patient_keys)::private.patient_key[]))
  OR (org_id = ( SELECT private.key_org('gateway'::text) AS key_org)));

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
