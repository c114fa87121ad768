-- A keyed patient's entry note or amendment text sealed under the org's
-- keys is refused, whoever writes it (narrows 00288's known limit: a server
-- of the version before it, left running through the upgrade, reads a
-- patient's keyset without waiting for the keying, and could seal a value
-- under the org's keys after the patient was keyed; a bug could too; the
-- shred would then leave that value readable under the org's keys).
-- Every Tink ciphertext starts with 0x01 and the 4-byte id of the key that
-- sealed it. The key ids of a keyset are not stored in the clear (the
-- wrapped keysets hold no KeysetInfo), but a patient's wrapped keyset
-- (app.patients.keyset, a binary Tink EncryptedKeyset: field 2, the
-- keyset sealed under the org's AEAD keyset) starts with the prefix of the
-- org key that wrapped it: the org's primary key when the patient was
-- created or keyed. A new or changed clinical_entries.note_enc or
-- record_amendments text of a patient with a keyset whose prefix names
-- that key is refused (23514, hint sealed_under_org_keys). What it does
-- not see: a value sealed under another org key (one made primary by a
-- rotation after the patient's keyset was wrapped); values of a patient
-- without a keyset (before the keying) are not checked; bytes of no Tink
-- form (the tests' placeholders) pass.
-- +goose Up
set local role ward_owner;

-- The id of the key whose Tink ciphertext a binary Tink EncryptedKeyset's
-- encrypted_keyset (field 2, the first field Tink writes) holds: the key
-- that wrapped the keyset. Null for bytes of another form.
-- +goose StatementBegin
create function private.tink_wrapping_key_id(p bytea) returns bigint
language plpgsql immutable strict parallel safe
set search_path to ''
as $$
declare
  n int := octet_length(p);
  i int := 1;
  len bigint := 0;
  s int := 0;
  b int;
begin
  if n < 7 or get_byte(p, 0) <> 18 then -- field 2, length-delimited
    return null;
  end if;
  loop
    if i >= n or s > 28 then
      return null;
    end if;
    b := get_byte(p, i); i := i + 1;
    len := len | ((b & 127)::bigint << s); s := s + 7;
    exit when b < 128;
  end loop;
  if len < 5 or len > n - i or get_byte(p, i) <> 1 then
    return null;
  end if;
  return (get_byte(p, i + 1)::bigint << 24) | (get_byte(p, i + 2) << 16) | (get_byte(p, i + 3) << 8) | get_byte(p, i + 4);
end $$;
-- +goose StatementEnd
revoke all on function private.tink_wrapping_key_id(bytea) from public;
grant execute on function private.tink_wrapping_key_id(bytea) to ward_definer;

-- +goose StatementBegin
create function app.refuse_org_sealed_value() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  vals bytea[];
  v bytea;
  org_key bigint;
begin
  if tg_table_name = 'clinical_entries' then
    if tg_op = 'UPDATE' and new.note_enc is not distinct from old.note_enc then
      return new;
    end if;
    vals := array[new.note_enc];
  elsif tg_op = 'UPDATE' then
    vals := array[case when new.request_enc is distinct from old.request_enc then new.request_enc end,
                  case when new.decision_enc is distinct from old.decision_enc then new.decision_enc end,
                  case when new.disagreement_enc is distinct from old.disagreement_enc then new.disagreement_enc end,
                  case when new.rebuttal_enc is distinct from old.rebuttal_enc then new.rebuttal_enc end];
  else
    vals := array[new.request_enc, new.decision_enc, new.disagreement_enc, new.rebuttal_enc];
  end if;
  if not exists (select from unnest(vals) x where octet_length(x) >= 5 and get_byte(x, 0) = 1) then
    return new;
  end if;
  select private.tink_wrapping_key_id(p.keyset) into org_key from app.patients p
   where p.org_id = new.org_id and p.id = new.patient_id;
  if org_key is null then
    return new;
  end if;
  foreach v in array vals loop
    if octet_length(v) >= 5 and get_byte(v, 0) = 1
       and ((get_byte(v, 1)::bigint << 24) | (get_byte(v, 2) << 16) | (get_byte(v, 3) << 8) | get_byte(v, 4)) = org_key then
      raise exception 'a value of a patient with a keyset of their own is sealed under the org''s keys'
        using errcode = '23514', hint = 'sealed_under_org_keys';
    end if;
  end loop;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_org_sealed_value() owner to ward_definer;
revoke execute on function app.refuse_org_sealed_value() from public;

create trigger patient_tier before insert or update of note_enc on app.clinical_entries
  for each row execute function app.refuse_org_sealed_value();
create trigger patient_tier before insert or update of request_enc, decision_enc, disagreement_enc, rebuttal_enc
  on app.record_amendments
  for each row execute function app.refuse_org_sealed_value();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
