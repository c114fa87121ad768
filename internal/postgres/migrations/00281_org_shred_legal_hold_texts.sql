-- A crypto-shred leaves no legible legal-hold text. Since 00280 a hold's
-- reason and release note are sealed under the org's AEAD keyset, which
-- app.ops_org_shred destroys; a hold written before 00280 keeps them in
-- the clear until `ward migrate` seals them, and a shred in between left
-- them legible (00273 counted them among what is left in the clear). The
-- shred now overwrites whatever clear text remains with 'shredded' in
-- the same transaction, before it deletes the keysets; the sealed texts
-- stay, unreadable. Nothing else of a shredded org is in the clear but
-- document types, content types and digests, kinds and statuses.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.ops_org_shred(p_org uuid, p_name text, p_dry_run boolean default true)
returns table (name text, shredded_at timestamptz, legal_holds integer, open_requests integer, patients integer,
  cases integer, documents integer, data_keys integer, keysets integer, members integer, sessions integer,
  api_keys integer, scim_tokens integer, audit_sinks integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  o record;
  entries integer;
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
  entries := (select count(*) from app.clinical_entries e where e.org_id = p_org);
  perform audit.append_as(p_org, 'org.shred', 'success', 'org', p_org,
    p_details => jsonb_build_object('operator', true, 'by', session_user::text, 'patients', patients,
      'cases', cases, 'documents', documents, 'data_keys', data_keys, 'keysets', keysets, 'members', members,
      'sessions', sessions, 'api_keys', api_keys, 'scim_tokens', scim_tokens, 'audit_sinks', audit_sinks,
      'clinical_entries', entries));
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
  -- What no key sealed: a clinical entry's name, value, unit, nutrients
  -- and the time it was observed are in the clear (its note is sealed).
  -- Overwritten: the entry stays (an amendment may name it) and says only
  -- its kind and when it was recorded, as the audit log does.
  update app.clinical_entries e
     set name = 'shredded', value = null, unit = null, kcal = null, protein_g = null, carbs_g = null,
         fat_g = null, observed_at = e.created_at
   where e.org_id = p_org;
  -- A legal hold's reason and release note are sealed (00280), but a
  -- hold written before then holds them in the clear until `ward
  -- migrate` seals them: overwritten, as an entry's name is.
  update app.legal_holds h
     set reason = case when h.reason is null then null else 'shredded' end,
         release_note = case when h.release_note is null then null else 'shredded' end
   where h.org_id = p_org and (h.reason is not null or h.release_note is not null);
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
