-- Recovery codes (issue 8 §4): ten single-use codes per member, shown once
-- by the server, only their SHA-256 stored (each code holds 80 random bits,
-- so the hash cannot be reversed by enumeration). Generating a new set
-- deletes the old one and needs an AAL2 session that authenticated within
-- the last 10 minutes (checked here, not only at the route). Using one
-- raises the session to AAL2 once (recovery_code in its methods; it meets
-- require_mfa, never require_passkey), is audited, and returns the stored
-- address so the server mails the member.

-- +goose Up
set local role ward_owner;

create table app.recovery_codes (
  org_id uuid not null,
  user_id uuid not null,
  code_hash bytea not null check (octet_length(code_hash) = 32),
  created_at timestamptz not null default now(),
  used_at timestamptz,
  primary key (org_id, user_id, code_hash),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id)
);
alter table app.recovery_codes enable row level security;
alter table app.recovery_codes force row level security;
-- A member sees how many codes they have and which are used, never a hash.
create policy recovery_codes_select on app.recovery_codes for select to ward_app
  using (org_id = (select private.get_my_org_id()) and user_id = (select private.uid()));
grant select (org_id, user_id, created_at, used_at) on app.recovery_codes to ward_app;
grant select, insert, update, delete on app.recovery_codes to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.recovery_codes.generate', 'auth', false, false, true, '{}'),
  ('auth.recovery_code.use',       'auth', false, false, true, '{}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- recovery_codes_generate replaces the caller's recovery codes with the ten
-- given hashes (distinct, 32 bytes each). The session must meet its bar,
-- be AAL2 and have authenticated within 10 minutes (22023 'step-up
-- required' otherwise).
create function app.recovery_codes_generate(p_hashes bytea[], p_request text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if p_hashes is null or cardinality(p_hashes) <> 10 or array_ndims(p_hashes) <> 1
     or exists (select from unnest(p_hashes) h where h is null or octet_length(h) <> 32)
     or (select count(distinct h) from unnest(p_hashes) h) <> 10 then
    raise exception 'recovery_codes_generate: ten distinct 32-byte hashes' using errcode = '22023';
  end if;
  delete from app.recovery_codes r where r.org_id = me.org_id and r.user_id = me.user_id;
  insert into app.recovery_codes (org_id, user_id, code_hash)
  select me.org_id, me.user_id, h from unnest(p_hashes) h;
  perform audit.append_as(me.org_id, 'auth.recovery_codes.generate', 'success', 'user', me.user_id,
    p_request => p_request, p_details => jsonb_build_object('count', 10));
end $$;

-- recovery_code_use spends one of the caller's recovery codes for the
-- caller's session (pending or not): 'ok' raises it to AAL2 with
-- recovery_code in its methods and authenticated now; 'invalid' otherwise.
-- Returns the codes left and the member's stored address (instance-AEAD
-- ciphertext) for the notification. Every attempt is audited; the caller
-- must commit whatever the status.
create function app.recovery_code_use(p_code_hash bytea, p_request text default null,
  p_ip text default null, p_ua text default null,
  out status text, out remaining int, out email_enc bytea)
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me_pending();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.recovery_codes r set used_at = now()
   where r.org_id = me.org_id and r.user_id = me.user_id and r.code_hash = p_code_hash and r.used_at is null;
  status := case when found then 'ok' else 'invalid' end;
  select count(*) into remaining from app.recovery_codes r
   where r.org_id = me.org_id and r.user_id = me.user_id and r.used_at is null;
  if status = 'ok' then
    update app.sessions s set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct a order by a) from unnest(s.amr || array['recovery_code']) a)
     where s.id = me.session_id;
    select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  end if;
  perform audit.append_as(me.org_id, 'auth.recovery_code.use', case when status = 'ok' then 'success' else 'denied' end,
    'session', me.session_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('result', status, 'remaining', remaining));
end $$;
-- +goose StatementEnd

alter function app.recovery_codes_generate(bytea[], text) owner to ward_definer;
alter function app.recovery_code_use(bytea, text, text, text) owner to ward_definer;
revoke all on function app.recovery_codes_generate(bytea[], text), app.recovery_code_use(bytea, text, text, text)
  from public;
grant execute on function app.recovery_codes_generate(bytea[], text), app.recovery_code_use(bytea, text, text, text)
  to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
