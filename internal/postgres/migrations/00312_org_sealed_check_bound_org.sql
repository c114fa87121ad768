-- The tier check of 00302 reads nothing of another org's patients (a
-- review of 00302, LOW: the oracle 00301 closed for the shredded-patient
-- refusals). app.refuse_org_sealed_value runs BEFORE INSERT, before the
-- row's policy, and read the patient of whatever org the new row named: a
-- caller bound to org B who inserted an entry naming org A and one of A's
-- patients, with a value whose Tink prefix guessed the key that wrapped
-- that patient's keyset, was told 23514 sealed_under_org_keys instead of
-- the policy's 42501 (so learned that the patient exists and is keyed, and
-- the key id, at about 2^31 guesses). Now, as in 00301, a caller bound to
-- a credential has only rows of its own org checked; a row naming another
-- org goes to its policy. Unbound callers (ward_ops, a superuser, a job)
-- are checked as before. Otherwise as in 00302.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.refuse_org_sealed_value() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
  -- A row of another org than the caller's is its policy's to refuse
  -- (as in 00301): the check would read that org's patient first.
  if current_setting('ward.credential', true) <> ''
     and new.org_id is distinct from private.get_my_org_id() then
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
