-- The confirmation page of an IdP-initiated SAML sign-in names the account
-- the session would be for, not the address the response asserts (an
-- attacker's review of 9a3489f, MEDIUM). The page is what stops login
-- CSRF: a visitor who reads someone else's account on it closes it. It
-- showed the response's address (its NameID when that is an address, else
-- its email attribute), but app.sso_complete signs in the account the
-- response's subject is linked to, whatever address the response carries
-- now. An IdP whose admin is the attacker (an admin of any org on the
-- instance, for a connection of their own), or one that lets its users
-- edit their own address, issues a response for the attacker's linked
-- subject carrying the visitor's address: the page named the visitor, and
-- their Continue signed them in to the attacker's account.
--
-- app.saml_idp_preview(connection, subject_hash) returns the user a SAML
-- connection that allows IdP-initiated sign-ins has linked to the subject
-- (the instance PRF's hash, as app.sso_complete takes it) and their sealed
-- address; nothing when the subject is linked to no one (the sign-in would
-- link by the address or refuse). It records nothing. A caller without the
-- server's keys can compute no subject hash and open no address.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.saml_idp_preview(p_connection uuid, p_subject_hash bytea, out user_id uuid, out email_enc bytea)
language plpgsql stable security definer set search_path = '' as $$
#variable_conflict use_column
declare
  c app.sso_connections%rowtype;
begin
  if octet_length(p_subject_hash) is distinct from 32 then
    raise exception 'saml_idp_preview: the subject hash is 32 bytes' using errcode = '22023';
  end if;
  select * into c from app.sso_connections x where x.id = p_connection and x.kind = 'saml' and x.allow_idp_initiated;
  if not found then
    return;
  end if;
  select u.id, u.email_enc into user_id, email_enc
    from app.sso_identities i join app.users u on u.id = i.user_id
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;
end $$;
-- +goose StatementEnd

alter function app.saml_idp_preview(uuid, bytea) owner to ward_definer;
revoke all on function app.saml_idp_preview(uuid, bytea) from public;
grant execute on function app.saml_idp_preview(uuid, bytea) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
