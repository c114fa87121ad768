-- A legal hold's reason and release note are sealed under the org's AEAD
-- keyset, as every other free text of an org is (DESIGN §2, PHI at rest).
-- They were clear text (00028, 00029: "a matter or ticket reference, must
-- not hold PHI"), but nothing stopped an admin from naming the patient a
-- hold is about, and the text outlived a crypto-shred of the org in the
-- clear (00273's list of what is left legible).
--
-- New columns reason_enc and release_note_enc hold Tink AEAD ciphertext
-- with associated data legal_holds|reason (or release_note)|org|row,
-- sealed by the server. ward_app may no longer read or write the clear
-- columns: it inserts the sealed reason (and the row's id, which the
-- associated data binds, so the server picks it) and releases with the
-- sealed note; ward_audit_cleanup reads which holds are live, not their
-- texts. A row holds each text once, sealed or (a row written before
-- this migration) clear.
--
-- The database holds no key, so it cannot seal the rows already there.
-- `ward migrate` (and an embedded `ward serve`, which migrates itself)
-- seals them right after the migrations, through two ward_ops
-- functions below, with the org's keys read through app.ops_keysets:
--   app.ops_legal_hold_clear_texts(after_org, after_id, limit): the rows
--     of orgs not shredded that still hold a clear reason or note, in
--     (org, id) order;
--   app.ops_seal_legal_hold(org, id, reason, reason_enc, note, note_enc):
--     stores a sealed text and clears its clear one, each only where the
--     row still holds the clear text read (a shred or a release between
--     the read and the write keeps its own value); true if it stored one.
-- Until it has run, the old rows' texts show as empty in the API and the
-- console (ward_app cannot read them). The rows of an org already
-- shredded cannot be sealed (its keys are gone): their clear texts are
-- overwritten here with 'shredded', as app.ops_org_shred now does
-- (00281).

-- +goose Up
set local role ward_owner;

alter table app.legal_holds
  add column reason_enc bytea,
  add column release_note_enc bytea,
  alter column reason drop not null,
  drop constraint legal_holds_release_check,
  add constraint legal_holds_reason_enc_check
    check (octet_length(reason_enc) between 1 and 4096),
  add constraint legal_holds_release_note_enc_check
    check (octet_length(release_note_enc) between 1 and 4096),
  add constraint legal_holds_reason_once
    check (num_nonnulls(reason, reason_enc) = 1),
  add constraint legal_holds_release_check
    check ((released_at is null) = (released_by is null)
       and num_nonnulls(release_note, release_note_enc) = case when released_at is null then 0 else 1 end);

-- ward_app: every column but the clear texts to read; the sealed texts to
-- write.
revoke select, insert on app.legal_holds from ward_app;
revoke update (release_note) on app.legal_holds from ward_app;
grant select (org_id, id, patient_id, case_id, reason_enc, created_by, created_at, released_at, released_by,
  release_note_enc) on app.legal_holds to ward_app;
grant insert (org_id, id, patient_id, case_id, reason_enc, created_by) on app.legal_holds to ward_app;
grant update (release_note_enc) on app.legal_holds to ward_app;

-- ward_audit_cleanup reads whether a hold covers an event (00013), never
-- its texts.
revoke select on app.legal_holds from ward_audit_cleanup;
grant select (org_id, id, patient_id, case_id, released_at) on app.legal_holds to ward_audit_cleanup;

-- ward_definer: the seal below and the shred's overwrite (00281).
grant update (reason, reason_enc, release_note, release_note_enc) on app.legal_holds to ward_definer;

-- The clear texts of orgs shredded already: no key seals them now.
set local role ward_definer;
update app.legal_holds h
   set reason = case when h.reason is null then null else 'shredded' end,
       release_note = case when h.release_note is null then null else 'shredded' end
  from app.orgs o
 where o.id = h.org_id and o.shredded_at is not null
   and (h.reason is not null or h.release_note is not null);
set local role ward_owner;

-- +goose StatementBegin
create function app.ops_legal_hold_clear_texts(p_after_org uuid, p_after_id uuid, p_limit int)
returns setof app.legal_holds
language sql stable security definer set search_path = '' as $$
  select h.* from app.legal_holds h
    join app.orgs o on o.id = h.org_id
   where o.shredded_at is null
     and (h.reason is not null or h.release_note is not null)
     and (p_after_org is null or (h.org_id, h.id) > (p_after_org, coalesce(p_after_id, '00000000-0000-0000-0000-000000000000')))
   order by h.org_id, h.id
   limit least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd
alter function app.ops_legal_hold_clear_texts(uuid, uuid, int) owner to ward_definer;
revoke all on function app.ops_legal_hold_clear_texts(uuid, uuid, int) from public;
grant execute on function app.ops_legal_hold_clear_texts(uuid, uuid, int) to ward_ops;

-- +goose StatementBegin
create function app.ops_seal_legal_hold(p_org uuid, p_id uuid, p_reason text, p_reason_enc bytea,
  p_note text, p_note_enc bytea)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  n int := 0;
  m int := 0;
begin
  if p_org is null or p_id is null then
    raise exception 'ops_seal_legal_hold: the org and the hold are required' using errcode = '22023';
  end if;
  if (p_reason is null) <> (p_reason_enc is null) or (p_note is null) <> (p_note_enc is null) then
    raise exception 'ops_seal_legal_hold: each text comes with its sealed form' using errcode = '22023';
  end if;
  -- The org's row, shared: a shred (which takes it for update) is either
  -- done, and its overwrite is what the rows below no longer match, or
  -- waits for this.
  perform from app.orgs o where o.id = p_org and o.shredded_at is null for key share;
  if not found then
    return false;
  end if;
  if p_reason is not null then
    update app.legal_holds h set reason_enc = p_reason_enc, reason = null
     where h.org_id = p_org and h.id = p_id and h.reason = p_reason;
    get diagnostics n = row_count;
  end if;
  if p_note is not null then
    update app.legal_holds h set release_note_enc = p_note_enc, release_note = null
     where h.org_id = p_org and h.id = p_id and h.release_note = p_note;
    get diagnostics m = row_count;
  end if;
  return n + m > 0;
end $$;
-- +goose StatementEnd
alter function app.ops_seal_legal_hold(uuid, uuid, text, bytea, text, bytea) owner to ward_definer;
revoke all on function app.ops_seal_legal_hold(uuid, uuid, text, bytea, text, bytea) from public;
grant execute on function app.ops_seal_legal_hold(uuid, uuid, text, bytea, text, bytea) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
