-- app.sso_enforced is no longer called (00141 moved the check into
-- app.request_magic_link, through private.sso_bound). It was a SECURITY
-- DEFINER function that ward_app could run with no credential: given a
-- domain and an address's blind index it said whether that address is a
-- live member of an org that enforces SSO on the domain, across every org.
-- Unused, it was only an oracle; it goes.

-- +goose Up
drop function app.sso_enforced(text, bytea, uuid);

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
