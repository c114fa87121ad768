-- DNS verification of an org's claimed SSO domains (issue 12 §1): each
-- claim carries a random token (public: the admin publishes it); the
-- domain is verified when the TXT record _ward-verification.<domain>
-- holds ward-verification=<token>. PostgreSQL cannot query DNS: the server
-- looks the record up, and the procedure holds it to the org's admin (with
-- step-up), the org's own claim and token, and the rule that a domain
-- routes to one org only.

-- +goose Up
set local role ward_owner;

alter table app.sso_domains add column verify_token text not null
  default encode(ext.gen_random_bytes(16), 'hex') check (verify_token ~ '^[0-9a-f]{32}$');

-- +goose StatementBegin
-- verify_sso_domain_dns marks a domain the caller's org claimed as
-- verified by DNS, given the token the server found in its TXT record
-- (admins, step-up). P0002: no such claim or another token; 23505:
-- another org verified the domain first.
create function app.verify_sso_domain_dns(p_domain text, p_token text, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  d app.sso_domains%rowtype;
begin
  perform private.sso_admin();
  select * into me from private.me();
  select * into d from app.sso_domains x where x.org_id = me.org_id and x.domain = lower(p_domain) for update;
  if not found or d.verify_token is distinct from p_token then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if d.verified_at is not null then
    return;
  end if;
  update app.sso_domains x set verified_at = now(), verified_by = 'dns'
   where x.org_id = me.org_id and x.domain = d.domain;
  perform audit.append_as(me.org_id, 'sso.domain.verify', 'success', 'sso_connection', d.connection_id,
    p_request => p_request, p_details => jsonb_build_object('domain', d.domain, 'by', 'dns'));
end $$;
-- +goose StatementEnd

alter function app.verify_sso_domain_dns(text, text, text) owner to ward_definer;
revoke all on function app.verify_sso_domain_dns(text, text, text) from public;
grant execute on function app.verify_sso_domain_dns(text, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
