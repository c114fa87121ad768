-- A failed DNS verification of a claimed domain left no trace (review of
-- 2026-12-07): the success is audited (sso.domain.verify, by
-- app.verify_sso_domain_dns) but an admin's attempt whose TXT record was
-- missing was not, so the log could not show who tried to verify which
-- domain, how often, or why it did not hold (a claim on a domain the org
-- does not control is tried exactly this way).
--
-- app.sso_domain_verify_failed records it: the server calls it when its
-- TXT lookup found no record holding the claim's value (reason
-- dns_record_missing) or the lookup itself failed (dns_lookup_failed). The
-- event is sso.domain.verify with outcome 'failure' (the action's refusals
-- at the route are already sso.domain.verify 'denied'), on the claim's
-- connection, with the domain and the reason code only: never the
-- verification value, the records found or the resolver's error. The
-- caller is held as for a verification (an admin who stepped up), names
-- only its own org's claims, and its reason is one of two codes; the
-- function decides nothing but that an event is written.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.sso_domain_verify_failed(p_domain text, p_reason text, p_request text default null) returns void
  language plpgsql security definer set search_path = '' as $$
declare
  me record;
  d app.sso_domains%rowtype;
begin
  perform private.sso_admin();
  select * into me from private.me();
  if p_reason is null or p_reason not in ('dns_record_missing', 'dns_lookup_failed') then
    raise exception 'sso_domain_verify_failed: reason is dns_record_missing or dns_lookup_failed' using errcode = '22023';
  end if;
  select * into d from app.sso_domains x where x.org_id = me.org_id and x.domain = lower(p_domain);
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  perform audit.append_as(me.org_id, 'sso.domain.verify', 'failure', 'sso_connection', d.connection_id,
    p_request => p_request, p_details => jsonb_build_object('domain', d.domain, 'by', 'dns', 'reason', p_reason));
end $$;
-- +goose StatementEnd

alter function app.sso_domain_verify_failed(text, text, text) owner to ward_definer;
revoke all on function app.sso_domain_verify_failed(text, text, text) from public;
grant execute on function app.sso_domain_verify_failed(text, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
