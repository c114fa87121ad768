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
--   * a user whose every membership and invitation is of this org: the
--     address is gone (email_enc empty, the blind index random, so the
--     address is no longer found and may sign up afresh). A user who is
--     or was a member of, or is invited to, another org keeps it: that
--     org's log and reports name them.
--   * every case invitation of the org: the same.
--   * the org's audit sinks' secrets (the current one emptied, as a
--     sink of a kind with a secret must hold one, the previous one null)
--     and SSO connections' client secrets (null).
-- One reserved org.shred_erase event records the counts. Running it
-- again erases nothing more and records nothing.

-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.shred_erase', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

grant update (email_bidx, email_enc) on app.users to ward_definer;
grant select (secret_enc, prev_secret_enc), update (secret_enc, prev_secret_enc) on app.audit_sinks to ward_definer;
grant select (kind) on app.audit_sinks to ward_definer;

-- +goose StatementBegin
create function app.ops_org_shred_erase(p_org uuid)
returns table (users integer, invitations integer, secrets integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  o record;
  n integer;
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

  -- The people only this org knew. An erased address is an empty
  -- ciphertext, which no live row holds.
  with mine as (
    select m.user_id from app.memberships m where m.org_id = p_org
    union
    select i.invitee_id from app.case_invites i where i.org_id = p_org
  )
  update app.users u
     set email_enc = '\x'::bytea,
         email_bidx = pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
    from mine
   where u.id = mine.user_id and octet_length(u.email_enc) > 0
     and not exists (select 1 from app.memberships m where m.user_id = u.id and m.org_id <> p_org)
     and not exists (select 1 from app.case_invites i where i.invitee_id = u.id and i.org_id <> p_org);
  get diagnostics n = row_count;
  users := n;

  update app.case_invites i
     set email_enc = '\x'::bytea,
         email_bidx = pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
   where i.org_id = p_org and octet_length(i.email_enc) > 0;
  get diagnostics n = row_count;
  invitations := n;

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
