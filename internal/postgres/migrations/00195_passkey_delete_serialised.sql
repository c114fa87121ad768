-- Two deletions of one member's passkeys at once each counted the passkeys
-- left besides its own, saw the other's, and both went through: the
-- last-factor rule (app.passkey_delete, 409 last_factor) let a member with
-- two passkeys end with none, whatever their bar. A deletion now locks every
-- passkey of the member first, in one order, so concurrent deletions take
-- turns and the second counts what the first left.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.passkey_delete(p_id uuid, p_request text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  o app.orgs%rowtype;
  bar text;
  left_passkeys int;
  has_totp boolean;
  ended int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  -- Every passkey of the member, locked in one order: two deletions of
  -- the member's passkeys take turns, so the second counts what the first
  -- left (each counting the other's passkey as left let both through, and
  -- the member kept no factor).
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id order by k.id for update;
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id;
  if not found then
    return 'not_found';
  end if;
  select * into o from app.orgs x where x.id = me.org_id;
  bar := private.assurance_bar(me.role, o.require_mfa, o.require_passkey);
  select count(*) into left_passkeys from app.passkeys k
   where k.org_id = me.org_id and k.user_id = me.user_id and k.id <> p_id;
  select exists (select from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id
                   and f.confirmed_at is not null) into has_totp;
  if left_passkeys = 0 and (bar = 'passkey' or (bar = 'mfa' and not has_totp)) then
    perform audit.append_as(me.org_id, 'auth.passkey.delete', 'denied', 'passkey', p_id, p_request => p_request,
      p_details => jsonb_build_object('reason', 'last_factor', 'bar', bar));
    return 'last_factor';
  end if;
  -- Audited first: the caller's own session may be one of those it ends.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.passkey_id = p_id and s.revoked_at is null;
  perform audit.append_as(me.org_id, 'auth.passkey.delete', 'success', 'passkey', p_id, p_request => p_request,
    p_details => jsonb_build_object('passkeys_left', left_passkeys, 'sessions_ended', ended));
  update app.sessions s set revoked_at = now(), revoked_reason = 'passkey_deleted'
   where s.org_id = me.org_id and s.passkey_id = p_id and s.revoked_at is null;
  delete from app.passkeys k where k.org_id = me.org_id and k.id = p_id;
  return 'ok';
end $$;

-- +goose StatementEnd

alter function app.passkey_delete(uuid, text) owner to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
