-- Members rename and delete their own passkeys (issue 8 §2). Deleting needs
-- a second factor within 10 minutes, and the database refuses to delete
-- the last factor the member's bar needs: under require_passkey their last
-- passkey; under an 'mfa' bar (admins and leads always, every role under
-- require_mfa) their last passkey when no confirmed TOTP factor is left.
-- Listing is a plain select under RLS (00020), audited by the server as
-- passkey.list.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- passkey_rename renames one of the caller's passkeys; false when the
-- caller (a session meeting its bar) has no passkey of that id in the org.
create function app.passkey_rename(p_id uuid, p_name text, p_request text default null) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_name is null or length(p_name) not between 1 and 100 then
    raise exception 'name must be 1..100 characters' using errcode = '22023';
  end if;
  update app.passkeys k set name = p_name where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'auth.passkey.rename', 'success', 'passkey', p_id, p_request => p_request);
  return true;
end $$;

-- passkey_delete deletes one of the caller's passkeys: 'ok', 'not_found',
-- or 'last_factor' (the member's bar needs it; audited). The session must
-- meet its bar, be AAL2 and have authenticated within 10 minutes (42501
-- with hint step_up_required otherwise).
create function app.passkey_delete(p_id uuid, p_request text default null) returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  o app.orgs%rowtype;
  bar text;
  left_passkeys int;
  has_totp boolean;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id for update;
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
  delete from app.passkeys k where k.org_id = me.org_id and k.id = p_id;
  perform audit.append_as(me.org_id, 'auth.passkey.delete', 'success', 'passkey', p_id, p_request => p_request,
    p_details => jsonb_build_object('passkeys_left', left_passkeys));
  return 'ok';
end $$;
-- +goose StatementEnd

alter function app.passkey_rename(uuid, text, text) owner to ward_definer;
alter function app.passkey_delete(uuid, text) owner to ward_definer;
grant select (require_mfa, require_passkey) on app.orgs to ward_definer;
revoke all on function app.passkey_rename(uuid, text, text), app.passkey_delete(uuid, text) from public;
grant execute on function app.passkey_rename(uuid, text, text), app.passkey_delete(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
