-- Taking a user's emergency-access designation away left their running
-- break-glass session (an attacker's review, MEDIUM): it kept reading every
-- patient of the org until its hour ran out, and the admin who took the
-- designation away had no way to end it short of changing the member's
-- role or revoking the membership.
--
--   * app.break_glass_designate(p_user, false) revokes, in its
--     transaction, the user's live break-glass sessions in the org (reason
--     break_glass_undesignated), each audited as session.revoke.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.break_glass_designate(p_user uuid, p_on boolean, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  n int;
  sid uuid;
begin
  select * into me from private.break_glass_admin();
  if p_user is null or p_on is null then
    raise exception 'break_glass_designate: user and on are required' using errcode = '22023';
  end if;
  if p_on then
    if not exists (select from app.memberships m where m.org_id = me.org_id and m.user_id = p_user
                     and m.revoked_at is null and m.role in ('provider', 'lead', 'admin')) then
      raise exception 'no live staff member of this org has this id' using errcode = 'P0002';
    end if;
    if (select count(*) from app.passkeys k where k.org_id = me.org_id and k.user_id = p_user) < 2 then
      raise exception 'an emergency-access user must hold at least two passkeys' using errcode = '22023';
    end if;
    insert into app.break_glass_users (org_id, user_id, designated_by) values (me.org_id, p_user, me.user_id)
    on conflict do nothing;
  else
    delete from app.break_glass_users b where b.org_id = me.org_id and b.user_id = p_user;
  end if;
  get diagnostics n = row_count;
  if n > 0 then
    perform audit.append_as(me.org_id, 'org.break_glass.designate', 'success', 'user', p_user,
      p_request => p_request, p_details => jsonb_build_object('designated', p_on));
  end if;
  if not p_on then
    -- an emergency session ends with the designation that allowed it
    for sid in
      update app.sessions s set revoked_at = now(), revoked_reason = 'break_glass_undesignated'
       where s.org_id = me.org_id and s.user_id = p_user and s.break_glass and s.revoked_at is null
      returning s.id
    loop
      perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', sid, p_request => p_request,
        p_details => jsonb_build_object('reason', 'break_glass_undesignated'));
    end loop;
  end if;
  return n > 0;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
