-- Unlinking a member's SSO identities left the sessions they had signed in
-- with alive (review of 2026-12-07): an admin unlinks a subject because
-- the member's account at the IdP changed or was taken over, and expects
-- what that subject opened to end, but its sessions went on for up to
-- their absolute lifetime. Deleting a connection already ends its
-- sessions (00178); unlinking now does the same for the one member.
--
--   * app.unlink_sso_identities ends, in the same transaction, the live
--     sessions the connection issued to the member (revoked_reason
--     'sso_identity_unlinked'), the calling admin's own when they unlink
--     themselves. SSO sessions from before 00178 name no connection: the
--     member's such sessions end too (they cannot be told apart; the
--     member signs in again). Sessions of other connections and non-SSO
--     sessions are untouched.
--   * the sso.identity.unlink event carries sessions_ended.
--   * nothing ends when the member has no identity on the connection (the
--     caller answers not found, as before).
--
-- The function keeps its signature and owner (ward_definer, which may
-- already update app.sessions).

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.unlink_sso_identities(p_connection uuid, p_user uuid, p_request text default null) returns integer
  language plpgsql security definer set search_path = '' as $$
declare
  me record;
  n int;
  ended int;
begin
  perform private.sso_admin();
  select * into me from private.me();
  delete from app.sso_identities i where i.org_id = me.org_id and i.connection_id = p_connection and i.user_id = p_user;
  get diagnostics n = row_count;
  if n > 0 then
    -- What the unlinked subject signed in ends with its link (00179).
    with e as (
      update app.sessions s set revoked_at = now(), revoked_reason = 'sso_identity_unlinked'
       where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
         and (s.sso_connection_id = p_connection or (s.sso_connection_id is null and 'sso' = any (s.amr)))
      returning 1)
    select count(*) into ended from e;
    perform audit.append_as(me.org_id, 'sso.identity.unlink', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('connection', p_connection, 'identities', n, 'sessions_ended', ended));
  end if;
  return n;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
