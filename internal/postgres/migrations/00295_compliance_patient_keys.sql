-- The per-patient key tier (00275) in the compliance facts. Each org's
-- facts now also count its patients: those whose record is sealed under a
-- keyset of their own, those still sealed under the org's keys (created
-- before 00275: they cannot be crypto-shredded alone until they are given
-- a keyset), and those crypto-shredded one by one, with the newest shred.
-- Counts and a date only.
--
-- The facts' body (00269) is kept as it is, renamed
-- private.compliance_org_facts_base, and private.compliance_org_facts is
-- that body's document with the patients' keys added, so the operator's
-- and an org admin's facts (app.ops_compliance_facts, 00262, and
-- app.org_compliance_facts, 00263, which call it by name) both carry them
-- without a second copy of the body. Both helpers are invoker's functions
-- owned by ward_owner, executable by ward_definer only: the definer
-- functions that call them decide the org.
-- +goose Up
set local role ward_owner;

alter function private.compliance_org_facts(uuid) rename to compliance_org_facts_base;

-- +goose StatementBegin
create function private.compliance_org_facts(p_org uuid) returns jsonb
language sql stable
set search_path to ''
as $$
  select private.compliance_org_facts_base(p_org) || jsonb_build_object(
           'patients_keyed', count(*) filter (where p.shredded_at is null and p.keyset is not null),
           'patients_org_sealed', count(*) filter (where p.shredded_at is null and p.keyset is null),
           'patients_shredded', count(*) filter (where p.shredded_at is not null),
           'last_patient_shred_at', max(p.shredded_at))
    from app.patients p
   where p.org_id = p_org
$$;
-- +goose StatementEnd

revoke all on function private.compliance_org_facts(uuid) from public;
grant execute on function private.compliance_org_facts(uuid) to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
