-- Crypto-shredding an org (`ward org shred`, docs/operations.md, DESIGN
-- §3): "destroying an org's key = crypto-shredding; blocked while a legal
-- hold applies". Every PHI column of an org (a patient's name, a case's
-- title, a document's description, a TOTP secret, a sink's secret) is
-- sealed under the org's AEAD keyset, every blind index under its PRF
-- keyset, and every document version's data key is wrapped by the AEAD
-- keyset. app.ops_org_shred deletes both keysets and every wrapped data
-- key, in one transaction, for ward_ops only, after it has checked:
--   - the caller gave the org's name exactly (an id pasted from the wrong
--     line destroys nothing);
--   - no legal hold of the org is live (org, patient or case);
--   - no data-subject request of the org is open (an individual who asked
--     for their record gets it, or an answer, before it is destroyed).
-- It then ends every membership (revoked_via 'shred'; the membership
-- trigger ends the member's case access, links, factors, keys and sinks
-- as for any revocation, each audited), every session, API key, SCIM
-- token, case invitation and sign-in link left, disables the org's audit
-- sinks (their secrets are sealed under the keys destroyed) and gateway
-- providers, and marks the org shredded. The org's audit log stays: its
-- events hold ids and actions, no PHI, and remain verifiable against the
-- instance's signed checkpoints (the signer key is the instance's). One
-- reserved org.shred event, written first, records the counts and who
-- ran it. p_dry_run answers the same counts and changes nothing.
--
-- A shredded org cannot come back by accident: a trigger refuses a
-- membership (inserted or restored), a session, a sign-in link, an API
-- key, a SCIM token, a case invitation, an SSO connection and a keyset of
-- a shredded org (55000, hint org_shredded): an SSO sign-in that would
-- provision a member, or a key store that would mint new keys, stops
-- there.
--
-- Every node caches unwrapped org keys for up to five minutes. The
-- shred, and a keyset's replacement (rotation, root rewrap), send
-- NOTIFY ward_keys with the org's id, and each `ward serve` drops that
-- org's cached keys when it hears it (the cache was already keyed by the
-- wrapped bytes, so a rotated keyset never served stale keys; the notice
-- makes the shred's destruction reach memory at once instead of within
-- the cache's lifetime).
-- +goose Up
set local role ward_owner;

alter table app.orgs add column shredded_at timestamptz;
comment on column app.orgs.shredded_at is
  'when app.ops_org_shred destroyed the org''s keysets and data keys; a shredded org takes no new credential';

alter table app.memberships drop constraint memberships_revoked_via_check,
  add constraint memberships_revoked_via_check check (revoked_via in ('admin', 'scim', 'shred'));
comment on column app.memberships.revoked_via is
  'how the membership was revoked: admin (app.update_member), scim (the directory) or shred (app.ops_org_shred); null when live or unknown';

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.shred', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
create function app.refuse_shredded_org() returns trigger
language plpgsql security definer
set search_path to ''
as $$
begin
  -- Only app.memberships fires on an update (of revoked_at): ending a
  -- membership is always allowed, restoring one is not. (A separate IF:
  -- the other tables have no revoked_at for the expression to name.)
  if tg_op = 'UPDATE' then
    if new.revoked_at is not null then
      return new;
    end if;
  end if;
  if exists (select 1 from app.orgs o where o.id = new.org_id and o.shredded_at is not null) then
    raise exception 'the org was crypto-shredded: it takes no new member, credential or key'
      using errcode = '55000', hint = 'org_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.refuse_shredded_org() owner to ward_definer;
revoke all on function app.refuse_shredded_org() from public;

create trigger org_shredded before insert or update of revoked_at on app.memberships
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.sessions
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.magic_links
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.api_keys
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.scim_tokens
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.case_invites
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.sso_connections
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on private.keysets
  for each row execute function app.refuse_shredded_org();

-- The shred is the one writer that deletes a keyset (rotation replaces
-- the wrapped bytes in place).
grant delete on private.keysets to ward_definer;

-- +goose StatementBegin
create function app.ops_org_shred(p_org uuid, p_name text, p_dry_run boolean default true)
returns table (name text, shredded_at timestamptz, legal_holds integer, open_requests integer, patients integer,
  cases integer, documents integer, data_keys integer, keysets integer, members integer, sessions integer,
  api_keys integer, scim_tokens integer, audit_sinks integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  o record;
begin
  if private.credential_hash() is not null then
    raise exception 'ops_org_shred: the operator''s shred takes no credential' using errcode = '42501';
  end if;
  if p_org is null or p_name is null or p_dry_run is null then
    raise exception 'ops_org_shred: the org, its name and the dry run are required' using errcode = '22023';
  end if;
  -- The org's row lock orders the shred after any policy change or
  -- credential issued under it (those take it too, or insert rows the
  -- trigger above checks once this commits).
  select x.id, x.name, x.shredded_at into o from app.orgs x where x.id = p_org for update;
  if not found then
    raise exception 'ops_org_shred: no such org' using errcode = 'P0002', hint = 'no_such_org';
  end if;
  if o.name is distinct from p_name then
    raise exception 'ops_org_shred: the name given is not the org''s name' using errcode = '22023',
      hint = 'name_mismatch';
  end if;
  name := o.name;
  shredded_at := o.shredded_at;
  legal_holds := (select count(*) from app.legal_holds h where h.org_id = p_org and h.released_at is null);
  open_requests := (select count(*) from app.dsr_requests d where d.org_id = p_org and d.status = 'open');
  patients := (select count(*) from app.patients p where p.org_id = p_org);
  cases := (select count(*) from app.cases c where c.org_id = p_org);
  documents := (select count(*) from app.documents d where d.org_id = p_org);
  data_keys := (select count(*) from app.document_versions v where v.org_id = p_org and v.data_key is not null);
  keysets := (select count(*) from private.keysets k where k.org_id = p_org);
  members := (select count(*) from app.memberships m where m.org_id = p_org and m.revoked_at is null);
  sessions := (select count(*) from app.sessions s where s.org_id = p_org and s.revoked_at is null
                  and s.absolute_expires_at > now());
  api_keys := (select count(*) from app.api_keys k where k.org_id = p_org and k.revoked_at is null);
  scim_tokens := (select count(*) from app.scim_tokens t where t.org_id = p_org and t.revoked_at is null);
  audit_sinks := (select count(*) from app.audit_sinks s where s.org_id = p_org and s.enabled);
  if p_dry_run then
    return next;
    return;
  end if;
  if o.shredded_at is not null then
    raise exception 'ops_org_shred: the org was shredded at %', o.shredded_at using errcode = '55000',
      hint = 'org_shredded';
  end if;
  if legal_holds > 0 then
    raise exception 'ops_org_shred: % legal hold(s) of the org are live; release them first', legal_holds
      using errcode = '55000', hint = 'legal_hold';
  end if;
  if open_requests > 0 then
    raise exception 'ops_org_shred: % data-subject request(s) of the org are open; close them first', open_requests
      using errcode = '55000', hint = 'open_requests';
  end if;

  -- The event first, while the org is whole: what was destroyed, by whom.
  perform audit.append_as(p_org, 'org.shred', 'success', 'org', p_org,
    p_details => jsonb_build_object('operator', true, 'by', session_user::text, 'patients', patients,
      'cases', cases, 'documents', documents, 'data_keys', data_keys, 'keysets', keysets, 'members', members,
      'sessions', sessions, 'api_keys', api_keys, 'scim_tokens', scim_tokens, 'audit_sinks', audit_sinks));
  -- Each membership ends as any revocation does (the membership trigger:
  -- case access, invitations, sign-in links, factors, API keys, paused
  -- sinks, each audited), then whatever is left of the org's credentials.
  update app.memberships m set revoked_at = now(), revoked_via = 'shred', revoked_by = null
   where m.org_id = p_org and m.revoked_at is null;
  update app.sessions s set revoked_at = now(), revoked_reason = 'org_shredded'
   where s.org_id = p_org and s.revoked_at is null;
  update app.api_keys k set revoked_at = now() where k.org_id = p_org and k.revoked_at is null;
  update app.scim_tokens t set revoked_at = now() where t.org_id = p_org and t.revoked_at is null;
  update app.case_invites i set revoked_at = now()
   where i.org_id = p_org and i.revoked_at is null and i.accepted_at is null;
  update app.magic_links l set used_at = now() where l.org_id = p_org and l.used_at is null;
  update app.audit_sinks s set enabled = false, paused_reason = null, updated_at = now()
   where s.org_id = p_org and s.enabled;
  -- The destruction: every wrapped data key, then the keysets that
  -- wrapped them and sealed every PHI column and blind index.
  update app.document_versions v set data_key = null where v.org_id = p_org and v.data_key is not null;
  delete from private.keysets k where k.org_id = p_org;
  update app.orgs x set shredded_at = now(), gateway_providers = '{}', gateway_models = '{}' where x.id = p_org;
  perform pg_catalog.pg_notify('ward_keys', p_org::text);
  shredded_at := now();
  return next;
end $$;
-- +goose StatementEnd

alter function app.ops_org_shred(uuid, text, boolean) owner to ward_definer;
revoke all on function app.ops_org_shred(uuid, text, boolean) from public;
grant execute on function app.ops_org_shred(uuid, text, boolean) to ward_ops;

-- +goose StatementBegin
create or replace function app.ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text)
returns boolean
language plpgsql security definer
set search_path to ''
as $$
begin
  if p_purpose is null or p_purpose not in ('aead', 'prf') then
    raise exception 'ops_replace_keyset: the purpose is aead or prf' using errcode = '22023';
  end if;
  if p_kind is null or p_kind not in ('rotate', 'rewrap') then
    raise exception 'ops_replace_keyset: the kind is rotate or rewrap' using errcode = '22023';
  end if;
  if p_kind = 'rotate' and p_purpose <> 'aead' then
    -- A new PRF key would change every blind index: a re-index, not a rotation.
    raise exception 'ops_replace_keyset: only the aead keyset rotates' using errcode = '22023';
  end if;
  if p_new is null or octet_length(p_new) = 0 or p_new = p_old then
    raise exception 'ops_replace_keyset: the new keyset is empty or unchanged' using errcode = '22023';
  end if;
  update private.keysets k
     set wrapped = p_new,
         rotated_at = case when p_kind = 'rotate' then now() else k.rotated_at end
   where k.org_id = p_org and k.purpose = p_purpose and k.wrapped = p_old;
  if not found then
    return false;
  end if;
  perform audit.append_as(p_org, 'keys.' || p_kind, 'success', 'keyset', p_org,
    p_details => jsonb_build_object('purpose', p_purpose, 'by', session_user::text));
  -- Every node drops its cached keys of the org (docs/operations.md).
  perform pg_catalog.pg_notify('ward_keys', p_org::text);
  return true;
end $$;
-- +goose StatementEnd

drop function app.ops_orgs();

-- +goose StatementBegin
create function app.ops_orgs()
returns table (id uuid, name text, created_at timestamptz, members integer, admins integer,
  patients integer, require_mfa boolean, require_passkey boolean, enforce_sso boolean,
  idle_timeout_min integer, absolute_max_min integer, shredded_at timestamptz)
language plpgsql security definer
set search_path to ''
as $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_orgs: the operator''s list takes no credential' using errcode = '42501';
  end if;
  return query
    select o.id, o.name, o.created_at,
           (select count(*)::integer from app.memberships m where m.org_id = o.id and m.revoked_at is null),
           (select count(*)::integer from app.memberships m
             where m.org_id = o.id and m.revoked_at is null and m.role = 'admin'),
           (select count(*)::integer from app.patients p where p.org_id = o.id),
           o.require_mfa, o.require_passkey, o.enforce_sso, o.session_idle_timeout_min, o.session_absolute_max_min,
           o.shredded_at
      from app.orgs o
     order by o.created_at, o.id
     limit 10000;
end $$;
-- +goose StatementEnd

alter function app.ops_orgs() owner to ward_definer;
revoke all on function app.ops_orgs() from public;
grant execute on function app.ops_orgs() to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
