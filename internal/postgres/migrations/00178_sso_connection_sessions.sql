-- Deleting an SSO connection left the sessions it issued alive (review of
-- 2026-12-06): an admin who deletes a connection (its IdP compromised, a
-- client secret leaked, a wrong issuer) expects what came through it to
-- end, but its links and domains went and its sessions, admins' included,
-- went on for up to their absolute lifetime.
--
--   * app.sessions.sso_connection_id names the connection that issued an
--     SSO session (app.sso_complete writes it; NULL for every other
--     session). No foreign key: the row outlives the connection, revoked.
--   * app.delete_sso_connection ends, in the same transaction, the live
--     sessions the connection issued (revoked_reason
--     'sso_connection_deleted'); the sso.connection.delete event carries
--     sessions_ended. SSO sessions issued before this migration name no
--     connection: deleting any connection of the org ends them too (they
--     are at most 30 days old; their members sign in again).

-- +goose Up
set local role ward_owner;

alter table app.sessions add column sso_connection_id uuid;
comment on column app.sessions.sso_connection_id is
  'the SSO connection that issued the session (00178): deleting it ends the session';
create index sessions_sso_connection on app.sessions (org_id, sso_connection_id) where sso_connection_id is not null;

-- +goose StatementBegin
do $$
declare
  f text;
  def text;
  was text;
  edits text[][] := array[
    array['app.sso_complete', 'assurance, amr, authenticated_at)', 'assurance, amr, authenticated_at, sso_connection_id)'],
    array['app.sso_complete', 'aal, ''{sso}'', authenticated)', 'aal, ''{sso}'', authenticated, c.id)']
  ];
begin
  for i in 1 .. array_length(edits, 1) loop
    f := edits[i][1];
    select pg_get_functiondef(p.oid) into def
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname || '.' || p.proname = f;
    was := def;
    def := replace(def, edits[i][2], edits[i][3]);
    if def = was then
      raise exception '00178: % does not hold the text to change (edit %)', f, i;
    end if;
    execute def;
  end loop;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.delete_sso_connection(p_id uuid, p_request text default null) returns boolean
  language plpgsql security definer set search_path = '' as $$
declare
  me record;
  ended int;
begin
  perform private.sso_admin();
  select * into me from private.me();
  delete from app.sso_connections c where c.org_id = me.org_id and c.id = p_id;
  if not found then
    return false;
  end if;
  -- What the connection issued ends with it (00178), the caller's own
  -- session too when it came through it; SSO sessions from before 00178
  -- name no connection and end with any.
  with e as (
    update app.sessions s set revoked_at = now(), revoked_reason = 'sso_connection_deleted'
     where s.org_id = me.org_id and s.revoked_at is null
       and (s.sso_connection_id = p_id or (s.sso_connection_id is null and 'sso' = any (s.amr)))
    returning 1)
  select count(*) into ended from e;
  perform audit.append_as(me.org_id, 'sso.connection.delete', 'success', 'sso_connection', p_id, p_request => p_request,
    p_details => jsonb_build_object('sessions_ended', ended));
  return true;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
