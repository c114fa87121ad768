-- An org admin's compliance facts (GET /v1/compliance/report, the console's
-- /compliance page, docs/compliance.md). Until now only the operator could
-- read the facts the HIPAA control matrix is computed from
-- (app.ops_compliance_facts, every org); the covered entity's security
-- officer, an admin of the org, had no view of their own org's controls.
--
--  * app.org_compliance_facts(p_request) answers the operator's document
--    for the caller's org alone: the org's facts from
--    private.compliance_org_facts (00262, the helper the operator's
--    function calls too, so the two cannot drift), and of the instance what
--    an org admin may see: the instance policy's caps, the admin role's
--    assurance bar, the auth.* and breach actions the log registers, and
--    the gateway providers this org enables (BAA date, whether a reference
--    is on file, zero retention, how many models, region; enabled_by is 1).
--    No other org's id, name or count, and no provider this org does not
--    enable. Counts and dates only: no address, key or PHI.
--  * The org and the caller come from the bound credential (private.me()),
--    never from an argument. Only an admin's session: not an API key, not a
--    pending session, not a break-glass session (emergency access reads
--    records, not the org's security posture); 42501 otherwise. No fresh
--    step-up: it is a read of counts and dates, guarded as the admins'
--    other reads of the org's configuration (break-glass, API keys, SSO
--    connections, audit sinks).
--  * Each answer is recorded here, in the reading transaction, as the new
--    reserved action org.compliance.read (object: the org): a read of the
--    org's security configuration that the server cannot skip. Refusals
--    at the route are the server's to record, under the same action.
-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.compliance.read', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
create function app.org_compliance_facts(p_request text default null) returns jsonb
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
  facts jsonb;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: an org''s compliance facts are read by its admin''s session' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records, not the org''s security posture'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  with pol as (select * from app.instance_policy limit 1)
  select jsonb_build_object(
    'now', now(),
    'instance_policy', jsonb_build_object(
        'link_ttl_min', p.link_ttl_min, 'session_idle_max_min', p.session_idle_max_min,
        'session_absolute_max_min', p.session_absolute_max_min,
        'link_max_per_address', p.link_max_per_address, 'link_max_per_source', p.link_max_per_source),
    'admin_bar', private.assurance_bar('admin', false, false),
    'auth_actions', (select coalesce(jsonb_agg(a.name order by a.name), '[]'::jsonb)
                       from audit.actions a where a.name like 'auth.%'),
    'breach_actions', (select coalesce(jsonb_agg(a.name order by a.name), '[]'::jsonb)
                         from audit.actions a where a.name in ('breach.scope', 'breach.revoke', 'document.purge')),
    'providers', coalesce((select jsonb_agg(jsonb_build_object(
        'name', g.name, 'baa_signed_at', g.baa_signed_at, 'baa_ref', g.baa_ref is not null,
        'zero_retention', g.zero_retention, 'models', cardinality(g.models), 'region', g.region,
        'enabled_by', 1)
        order by g.name)
        from app.gateway_providers g
       where exists (select from app.orgs o where o.id = me.org_id and g.name = any (o.gateway_providers))), '[]'::jsonb),
    'orgs', jsonb_build_array(private.compliance_org_facts(me.org_id)))
    into facts
    from pol p;
  if facts is null then
    raise exception 'the instance policy row is missing (run ward migrate)' using errcode = '55000';
  end if;
  perform audit.append_as(me.org_id, 'org.compliance.read', 'success', 'org', me.org_id, p_request => p_request);
  return facts;
end $$;
-- +goose StatementEnd

alter function app.org_compliance_facts(text) owner to ward_definer;
revoke all on function app.org_compliance_facts(text) from public;
grant execute on function app.org_compliance_facts(text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
