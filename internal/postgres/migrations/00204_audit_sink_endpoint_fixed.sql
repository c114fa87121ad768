-- ward_app could re-point an audit sink: the application role held UPDATE
-- on app.audit_sinks.endpoint (migration 00041), though no route changes
-- an endpoint and nothing records such a change. A server bug or an
-- injected statement under an admin's session could thus send an existing
-- sink's stream, cursor and all, somewhere else, with no audit.sink.*
-- event, and the sink's audit.sink.create event (which names the endpoint
-- since 00202's change) would then name the wrong destination. The grant
-- is withdrawn: an endpoint is fixed at creation; to send the log
-- elsewhere, an admin creates another sink (audited) and disables this one.
-- +goose Up
set local role ward_owner;

revoke update (endpoint) on app.audit_sinks from ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
