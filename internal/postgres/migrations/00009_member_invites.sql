-- Adding a member mails them a sign-in link (an invitation) unless the
-- admin says not to. The invitation link is created by app.add_member in
-- the transaction that adds the membership, and only for a membership that
-- did not exist (or was revoked) a moment ago, so it cannot mint links for
-- members at will. It is not browser-bound (the invitee did not ask from a
-- browser); it works once, within the instance's invitation lifetime.

-- +goose Up
set local role ward_owner;

alter table app.instance_policy add column invite_ttl_min int not null default 1440
  check (invite_ttl_min between 15 and 10080);
grant update (invite_ttl_min) on app.instance_policy to ward_ops;

alter table app.magic_links add column purpose text not null default 'signin'
  check (purpose in ('signin', 'invite'));
alter table app.magic_links add constraint magic_links_unbound_check
  check (verifier_hash is not null or purpose = 'invite' or request_ip is null);

drop function app.add_member(uuid, bytea, bytea, text, text);

-- +goose StatementBegin
-- add_member (admins) adds a user by email blind index, creating the user
-- (with the given id and email ciphertext) when the address is new, or
-- reactivating a revoked membership. With p_invite_hash it also creates an
-- invitation link for the new membership. Returns the user's id, their
-- stored address (instance-AEAD ciphertext, for the invitation mail) and
-- the invitation's lifetime in minutes (NULL without an invitation).
create function app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text,
  p_request text default null, p_invite_hash bytea default null,
  out user_id uuid, out email_enc bytea, out invite_ttl_min int)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me record;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_invite_hash is not null and octet_length(p_invite_hash) <> 32 then
    raise exception 'add_member: the invitation hash is 32 bytes' using errcode = '22023';
  end if;
  select u.id, u.email_enc into user_id, email_enc from app.users u where u.email_bidx = p_email_bidx;
  if user_id is null then
    insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
    user_id := p_user; email_enc := p_email_enc;
  end if;
  insert into app.memberships (org_id, user_id, role) values (me.org_id, user_id, p_role)
  on conflict (org_id, user_id) do update set role = excluded.role, revoked_at = null
    where app.memberships.revoked_at is not null;
  if not found then
    raise exception 'already a member' using errcode = '23505';
  end if;
  perform audit.append_as(me.org_id, 'membership.add', 'success', 'user', user_id, p_request => p_request,
    p_details => jsonb_build_object('role', p_role, 'invited', p_invite_hash is not null));
  if p_invite_hash is not null then
    select p.invite_ttl_min into invite_ttl_min from app.instance_policy p;
    insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, purpose)
    values (me.org_id, user_id, p_invite_hash, null, now() + make_interval(mins => invite_ttl_min), 'invite');
  end if;
end $$;
-- +goose StatementEnd

alter function app.add_member(uuid, bytea, bytea, text, text, bytea) owner to ward_definer;
revoke all on function app.add_member(uuid, bytea, bytea, text, text, bytea) from public;
grant execute on function app.add_member(uuid, bytea, bytea, text, text, bytea) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
