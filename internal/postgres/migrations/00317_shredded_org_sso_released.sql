-- A shredded org's SSO connections go with it (an attacker's review of SSO
-- and SCIM, LOW). app.ops_org_shred (00268) ended the org's members,
-- sessions, keys and SCIM tokens and marked it shredded, but its SSO
-- connections stayed, with their claimed domains still verified:
--   - a domain verified by DNS routes to one org only (the unique index
--     sso_domains_verified_idx), so no other org on the instance could
--     ever verify it again: the practice coming back as a new org, or
--     another org of the same hospital, was told 409 for good;
--   - GET /v1/sso/start?email=<anyone>@<domain> still sent the browser,
--     from Ward's origin, to the IdP (or SAML sign-on URL) the departed
--     org's admin had chosen, a sign-in that could only be refused at the
--     callback (every membership ended);
--   - a SAML connection's metadata and assertion consumer still answered.
--
-- app.sso_release_shredded(org) deletes the org's SSO connections (their
-- claimed domains, identity links, sign-in states and recorded assertion
-- ids cascade), each audited as sso.connection.delete with reason
-- org_shredded, operator true and the database role (as the org.shred
-- event). A trigger on app.orgs runs it when shredded_at is first set,
-- in the shred's own transaction; this migration runs it for the orgs
-- shredded before. The trigger of 00268 already refuses a new connection
-- in a shredded org, so none comes back.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.sso_release_shredded(p_org uuid) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  r record;
  n integer := 0;
begin
  -- Only a shredded org's: the shred's trigger and this migration call it.
  if not exists (select from app.orgs o where o.id = p_org and o.shredded_at is not null) then
    raise exception 'sso_release_shredded: the org is not shredded' using errcode = '55000';
  end if;
  for r in delete from app.sso_connections c where c.org_id = p_org returning c.id, c.kind loop
    perform audit.append_as(p_org, 'sso.connection.delete', 'success', 'sso_connection', r.id,
      p_details => jsonb_build_object('reason', 'org_shredded', 'kind', r.kind, 'sessions_ended', 0,
        'operator', true, 'by', session_user::text));
    n := n + 1;
  end loop;
  return n;
end $$;
-- +goose StatementEnd

alter function app.sso_release_shredded(uuid) owner to ward_definer;
revoke all on function app.sso_release_shredded(uuid) from public;

-- +goose StatementBegin
create function app.org_shredded_sso() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform app.sso_release_shredded(new.id);
  return null;
end $$;
-- +goose StatementEnd

alter function app.org_shredded_sso() owner to ward_definer;
revoke all on function app.org_shredded_sso() from public;

create trigger org_shredded_sso after update of shredded_at on app.orgs
  for each row when (old.shredded_at is null and new.shredded_at is not null)
  execute function app.org_shredded_sso();

reset role;

-- The orgs shredded before this migration.
select app.sso_release_shredded(o.id) from app.orgs o where o.shredded_at is not null order by o.id;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
