-- Signed checkpoints and proofs.
--
-- A checkpoint is a C2SP tlog-checkpoint signed note — origin
-- ("ward/audit/<org id>"), tree size, base64 root hash — signed with the
-- instance's Ed25519 audit key (golang.org/x/mod/sumdb/note). The key's
-- private half is sealed under the instance AEAD keyset in private.keysets
-- (purpose 'signer'), so the root key protects it like every other key.
-- The server signs the head as the integrator leaves it; the database
-- stores the note only if it names the org's origin and the head's current
-- size and root (it cannot check the signature: verifiers do).

-- +goose Up
set local role ward_owner;

alter table private.keysets drop constraint keysets_purpose_check;
alter table private.keysets add constraint keysets_purpose_check check (purpose in ('aead', 'prf', 'signer'));

create table audit.checkpoints (
  org_id uuid not null,
  size bigint not null check (size > 0),
  root_hash bytea not null check (octet_length(root_hash) = 32),
  note text not null check (length(note) < 4096),
  -- The head's chain hash and compact range at this size: where a
  -- verification of a pruned log starts (the range's root is the signed
  -- root, so the signature authenticates it).
  chain_hash bytea,
  frontier bytea[],
  signed_at timestamptz not null default now(),
  primary key (org_id, size)
);
alter table audit.checkpoints enable row level security;
alter table audit.checkpoints force row level security;
-- Any member reads their org's checkpoints (a patient verifies their access
-- report against one); the reader and signer roles read all.
create policy checkpoints_select on audit.checkpoints for select to ward_app
  using (org_id = (select private.get_my_org_id()));
create policy checkpoints_reader on audit.checkpoints for select to ward_audit_reader, ward_audit_signer using (true);
grant select on audit.checkpoints to ward_app, ward_audit_reader, ward_audit_signer;
grant select, insert on audit.checkpoints to ward_definer;

-- +goose StatementBegin
-- reject_change_any refuses every UPDATE and DELETE (checkpoints are never
-- changed or removed).
create or replace function audit.reject_change_any() returns trigger
language plpgsql set search_path = '' as $$
begin
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name using errcode = '42501';
end $$;
-- +goose StatementEnd

create trigger checkpoints_immutable before update or delete on audit.checkpoints
  for each row execute function audit.reject_change_any();

-- +goose StatementBegin
-- ensure_signer_key (operators) stores the instance's sealed audit signing
-- key unless one is stored, and returns what is stored.
create function app.ensure_signer_key(p_sealed bytea) returns bytea
language plpgsql volatile security definer set search_path = '' as $$
begin
  insert into private.keysets (org_id, purpose, wrapped)
  values ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'signer', p_sealed)
  on conflict do nothing;
  return (select k.wrapped from private.keysets k
           where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff' and k.purpose = 'signer');
end $$;

-- signer_key returns the sealed audit signing key, NULL before `ward
-- migrate` (or an embedded `ward serve`) created it.
create function app.signer_key() returns bytea
language plpgsql stable security definer set search_path = '' as $$
begin
  return (select k.wrapped from private.keysets k
           where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff' and k.purpose = 'signer');
end $$;

-- unsigned_heads lists the orgs whose head has grown past their latest
-- checkpoint, with the head to sign.
create function audit.unsigned_heads(out org_id uuid, out origin text, out tree_size bigint, out root_hash bytea)
returns setof record
language sql stable security definer set search_path = '' as $$
  select h.org_id, h.origin, h.tree_size, h.root_hash from audit.heads h
   where h.tree_size > 0
     and h.tree_size > coalesce((select max(c.size) from audit.checkpoints c where c.org_id = h.org_id), 0)
$$;

-- record_checkpoint stores a signed note for p_org's head. The note must
-- begin with the checkpoint body of the head as it is now (origin, size,
-- base64 root); a note for any other size or root is refused.
create function audit.record_checkpoint(p_org uuid, p_note text) returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  h audit.heads%rowtype;
  body text;
begin
  select * into h from audit.heads where org_id = p_org;
  if not found or h.tree_size = 0 then
    raise exception 'audit: no log to checkpoint for this org' using errcode = 'P0002';
  end if;
  body := h.origin || chr(10) || h.tree_size || chr(10) || encode(h.root_hash, 'base64') || chr(10);
  if p_note is null or left(p_note, length(body)) <> body then
    raise exception 'audit: the checkpoint does not describe the head (size %)', h.tree_size using errcode = '22023';
  end if;
  insert into audit.checkpoints (org_id, size, root_hash, note, chain_hash, frontier)
  values (p_org, h.tree_size, h.root_hash, p_note, h.chain_hash, h.frontier)
  on conflict do nothing;
  return h.tree_size;
end $$;

-- leaf_hashes returns p_org's leaf hashes in sequence order up to p_size,
-- for proofs, to any live member of p_org: a leaf hash reveals nothing of
-- the event (it is a SHA-256 of its canonical bytes).
create function audit.leaf_hashes(p_org uuid, p_size bigint) returns setof bytea
language plpgsql stable security definer set search_path = '' as $$
begin
  if private.get_my_org_id() is distinct from p_org then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query select e.leaf_hash from audit.events e
                where e.org_id = p_org and e.seq between 1 and p_size order by e.seq;
end $$;
-- +goose StatementEnd

alter function app.ensure_signer_key(bytea) owner to ward_definer;
alter function app.signer_key() owner to ward_definer;
alter function audit.unsigned_heads() owner to ward_definer;
alter function audit.record_checkpoint(uuid, text) owner to ward_definer;
alter function audit.leaf_hashes(uuid, bigint) owner to ward_definer;
revoke all on function app.ensure_signer_key(bytea), app.signer_key(), audit.unsigned_heads(),
  audit.record_checkpoint(uuid, text), audit.leaf_hashes(uuid, bigint) from public;
grant execute on function app.ensure_signer_key(bytea) to ward_ops;
grant execute on function app.signer_key(), audit.unsigned_heads(), audit.record_checkpoint(uuid, text)
  to ward_app, ward_ops, ward_audit_signer;
grant execute on function audit.leaf_hashes(uuid, bigint) to ward_app;
grant usage on schema app to ward_audit_signer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
