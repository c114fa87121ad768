-- The principal cache (00070) and passkey-bound sessions (00080) meet:
-- private.me_pending() now reads app.passkeys (a session a passkey created
-- resolves only while that passkey exists), so a write to app.passkeys
-- must move the session's principal epoch like a write to the other
-- tables the resolver reads; otherwise a passkey deleted in a transaction
-- would leave its sessions' cached principal valid until the transaction
-- ends. TestPrincipalCacheCoversResolverTables checks every table the
-- resolver reads has the trigger.

-- +goose Up
set local role ward_owner;

create trigger principal_epoch after insert or update or delete or truncate on app.passkeys
  for each statement execute function private.principal_moved();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
