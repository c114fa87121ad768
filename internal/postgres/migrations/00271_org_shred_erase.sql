-- A shred erases what the instance keyset still opened (issue: shred
-- follow-ups, stop 66's note).
--
-- app.ops_org_shred (00268) destroys the org's keysets, under which its
-- PHI columns, blind indexes and data keys are sealed. Four kinds of the
-- org's values are sealed under the *instance* keyset instead, because a
-- person may belong to several orgs or the server must open them before
-- it knows an org: the people's e-mail addresses (app.users, and each
-- case invitation's copy), the audit sinks' secrets and the SSO
-- connections' client secrets. The shred left them readable: the address
-- of every patient, stakeholder and invitee of the departed org, and the
-- credentials of its SIEM and identity provider.
--
-- app.ops_org_shred_erase(org), for ward_ops only and only for an org
-- already shredded (so it also mends orgs shredded before it existed;
-- `ward org shred` runs it in the shred's transaction):
--   * a user whose every membership and live invitation is of this org
--     (or of another shredded org): the address is gone (email_enc empty,
--     the blind index random, so the address is no longer found and may
--     sign up afresh), and so is its entry in the SSO domain index. A
--     user who is or was a member of, or is invited to, an org that is
--     not shredded keeps it: that org's log and reports name them.
--   * every case invitation of the org: the same.
--   * the org's audit sinks' secrets (the current one emptied, as a
--     sink of a kind with a secret must hold one, the previous one null)
--     and SSO connections' client secrets (null).
-- One reserved org.shred_erase event records the counts. Running it
-- again erases nothing more and records nothing.
--
-- ward_definer may now update a user's address columns, which no role
-- but the owner could: a trigger confines ward_definer to erasing (an
-- empty ciphertext) the address of a person no org that is not shredded
-- knows, whatever function asks. A membership of a person whose address was
-- erased is refused (an add that found her before the erasure and
-- commits after it). The SSO domain indexer skips erased addresses.

-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.shred_erase', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

grant update (email_bidx, email_enc) on app.users to ward_definer;
grant select (secret_enc, prev_secret_enc), update (secret_enc, prev_secret_enc) on app.audit_sinks to ward_definer;
grant select (kind) on app.audit_sinks to ward_definer;
grant delete on app.email_domains to ward_definer;

-- Whether an org that is not shredded knows user p_user: a membership
-- (live or revoked) or a live invitation of hers in such an org.
-- +goose StatementBegin
create function app.user_known_live(p_user uuid) returns boolean
language sql stable security definer
set search_path to ''
as $$
  select exists (select 1 from app.memberships m join app.orgs o on o.id = m.org_id
                  where m.user_id = p_user and o.shredded_at is null)
      or exists (select 1 from app.case_invites i join app.orgs o on o.id = i.org_id
                  where i.invitee_id = p_user and o.shredded_at is null and i.revoked_at is null
                    and i.accepted_at is null and i.expires_at > now())
$$;
-- +goose StatementEnd
alter function app.user_known_live(uuid) owner to ward_definer;
revoke all on function app.user_known_live(uuid) from public;

-- +goose StatementBegin
create function app.users_erase_only() returns trigger
language plpgsql
set search_path to ''
as $$
begin
  -- The invoker's role: ward_definer is the one role granted these
  -- columns for the erasure (the owner and a superuser are not bound).
  if current_user = 'ward_definer'
     and (new.email_enc is distinct from old.email_enc or new.email_bidx is distinct from old.email_bidx) then
    if new.email_enc is distinct from '\x'::bytea or app.user_known_live(new.id) then
      raise exception 'users: an address is only erased, and only of a person no live org knows'
        using errcode = '42501';
    end if;
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.users_erase_only() owner to ward_definer;
revoke all on function app.users_erase_only() from public;
create trigger users_erase_only before update of email_bidx, email_enc on app.users
  for each row execute function app.users_erase_only();

-- +goose StatementBegin
create function app.refuse_erased_member() returns trigger
language plpgsql security definer
set search_path to ''
as $$
begin
  if exists (select 1 from app.users u where u.id = new.user_id and octet_length(u.email_enc) = 0) then
    raise exception 'the person''s address was erased with a shredded org: add her again by address'
      using errcode = '55000', hint = 'user_erased';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_erased_member() owner to ward_definer;
revoke all on function app.refuse_erased_member() from public;
create trigger erased_user before insert on app.memberships
  for each row execute function app.refuse_erased_member();

-- The domain indexer skips an erased address (it cannot be opened).
-- +goose StatementBegin
create or replace function app.email_domain_gaps(p_limit integer, p_after_user uuid default null)
returns table (kind text, user_id uuid, email_bidx bytea, email_enc bytea, domain text)
language sql stable security definer
set search_path to ''
as $$
  (select 'user', u.id, u.email_bidx, u.email_enc, null::text from app.users u
    where not exists (select from app.email_domains e where e.email_bidx = u.email_bidx)
      and octet_length(u.email_enc) > 0
      and (p_after_user is null or u.id > p_after_user)
    order by u.id limit least(greatest(p_limit, 1), 1000))
  union all
  (select 'domain', null, null, null, d.domain from app.sso_domains d
    where d.domain_bidx is null
    group by d.domain order by d.domain limit least(greatest(p_limit, 1), 1000))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.ops_org_shred_erase(p_org uuid)
returns table (users integer, invitations integer, secrets integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  o record;
  n integer;
  ids uuid[];
  bidx bytea[];
begin
  if private.credential_hash() is not null then
    raise exception 'ops_org_shred_erase: the operator''s erasure takes no credential' using errcode = '42501';
  end if;
  if p_org is null then
    raise exception 'ops_org_shred_erase: the org is required' using errcode = '22023';
  end if;
  select x.id, x.shredded_at into o from app.orgs x where x.id = p_org for update;
  if not found then
    raise exception 'ops_org_shred_erase: no such org' using errcode = 'P0002', hint = 'no_such_org';
  end if;
  if o.shredded_at is null then
    raise exception 'ops_org_shred_erase: the org is not shredded' using errcode = '55000', hint = 'not_shredded';
  end if;

  -- The people only shredded orgs knew, locked (a membership added
  -- elsewhere meanwhile waits, then finds the address erased and is
  -- refused). An erased address is an empty ciphertext, which no live
  -- row holds.
  select coalesce(array_agg(u.id), '{}'), coalesce(array_agg(u.email_bidx), '{}') into ids, bidx
    from (select u.id, u.email_bidx from app.users u
           where u.id in (select m.user_id from app.memberships m where m.org_id = p_org
                          union select i.invitee_id from app.case_invites i where i.org_id = p_org)
             and octet_length(u.email_enc) > 0 and not app.user_known_live(u.id)
           order by u.id
             for update) u;
  update app.users u
     set email_enc = '\x'::bytea,
         email_bidx = pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
   where u.id = any (ids);
  get diagnostics n = row_count;
  users := n;

  select bidx || coalesce(array_agg(i.email_bidx), '{}') into bidx from app.case_invites i
   where i.org_id = p_org and octet_length(i.email_enc) > 0;
  update app.case_invites i
     set email_enc = '\x'::bytea,
         email_bidx = pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
   where i.org_id = p_org and octet_length(i.email_enc) > 0;
  get diagnostics n = row_count;
  invitations := n;
  -- The SSO domain index of the erased addresses, where no live address
  -- (a user's, an invitation's) is the same.
  delete from app.email_domains e
   where e.email_bidx = any (bidx)
     and not exists (select 1 from app.users u where u.email_bidx = e.email_bidx)
     and not exists (select 1 from app.case_invites i where i.email_bidx = e.email_bidx);

  update app.audit_sinks s
     set secret_enc = case when s.kind = 'syslog' then null else '\x'::bytea end, prev_secret_enc = null
   where s.org_id = p_org and (octet_length(s.secret_enc) > 0 or s.prev_secret_enc is not null);
  get diagnostics n = row_count;
  secrets := n;
  update app.sso_connections c set client_secret_enc = null
   where c.org_id = p_org and c.client_secret_enc is not null;
  get diagnostics n = row_count;
  secrets := secrets + n;

  if users + invitations + secrets > 0 then
    perform audit.append_as(p_org, 'org.shred_erase', 'success', 'org', p_org,
      p_details => jsonb_build_object('operator', true, 'by', session_user::text, 'users', users,
        'invitations', invitations, 'secrets', secrets));
  end if;
  return next;
end $$;
-- +goose StatementEnd

alter function app.ops_org_shred_erase(uuid) owner to ward_definer;
revoke all on function app.ops_org_shred_erase(uuid) from public;
grant execute on function app.ops_org_shred_erase(uuid) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
