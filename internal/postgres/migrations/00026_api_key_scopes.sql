-- API-key scopes enforced by the database (issue 8 §9). Until now an admin
-- API key resolved to its admin's principal and only the HTTP routes
-- checked its scopes, so a server bug could let a key scoped to `gateway`
-- add members or read the audit log. Now the RLS helpers and policies ask
-- what the presented key holds:
--
--   * a key is never a lead or admin for patient data: it writes no
--     patient, entry, link or care team, and reads patient records only
--     with the `gateway` scope (the gateway reads a record's identity to
--     redact it from a prompt), never their entries;
--   * it sees the org's members and changes memberships only with
--     `members` (a trigger refuses the write inside the definer
--     procedures too);
--   * it reads the org's audit log and head only with `audit:read`;
--   * it never sees or places legal holds, lists or revokes keys or changes
--     the org's settings.
--
-- What a key may do follows from its row alone (private.me() and
-- app.api_keys); nothing is taken from the caller.

-- +goose Up
set local role ward_owner;

grant select (scopes) on app.api_keys to ward_rls;

-- +goose StatementBegin
-- is_key reports whether the presented credential is a live API key.
create function private.is_key() returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return coalesce((select m.kind = 'api_key' from private.me() m), false);
end $$;

-- key_holds reports whether the presented credential is a live API key
-- holding p_scope (false for every other credential).
create function private.key_holds(p_scope text) returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return exists (select 1 from private.me() m
                   join app.api_keys k on k.org_id = m.org_id and k.id = m.credential_id
                  where m.kind = 'api_key' and p_scope = any (k.scopes));
end $$;

-- am_i_lead_in_org as in 00002, except that an API key is never a lead.
create or replace function private.am_i_lead_in_org(p_org uuid) returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return coalesce((select m.org_id = p_org and m.role in ('lead', 'admin') and m.kind is distinct from 'api_key'
                     from private.me() m), false);
end $$;

-- my_org_member_ids as in 00002, with a branch for API keys: every live
-- member of the org with the members scope, nobody else without it.
create or replace function private.my_org_member_ids() returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.role = 'patient' then
    return '{}';
  end if;
  if me.kind = 'api_key' then
    if not private.key_holds('members') then
      return '{}';
    end if;
    return coalesce((select array_agg(m.user_id) from app.memberships m
                      where m.org_id = me.org_id and m.revoked_at is null), '{}');
  end if;
  return coalesce((select array_agg(m.user_id) from app.memberships m
                    where m.org_id = me.org_id and m.revoked_at is null
                      and (me.role in ('lead', 'admin') or m.role <> 'patient'
                           or m.user_id in (select pl.user_id from app.patient_links pl
                                              join app.care_team ct
                                                on ct.org_id = pl.org_id and ct.patient_id = pl.patient_id
                                             where pl.org_id = me.org_id and ct.provider_id = me.user_id))), '{}');
end $$;

-- refuse_key_write refuses a write made under an API key unless the key
-- holds the scope named by the trigger's argument (no argument: never).
create function private.refuse_key_write() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if private.is_key() and (tg_nargs = 0 or not private.key_holds(tg_argv[0])) then
    raise exception 'this API key may not change %', tg_table_name using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function private.is_key() owner to ward_rls;
alter function private.key_holds(text) owner to ward_rls;
alter function private.refuse_key_write() owner to ward_rls;
revoke all on function private.is_key(), private.key_holds(text), private.refuse_key_write() from public;
grant execute on function private.is_key(), private.key_holds(text) to ward_app, ward_definer;

create trigger memberships_key_scope before insert or update on app.memberships
  for each row execute function private.refuse_key_write('members');
create trigger orgs_key_scope before update on app.orgs
  for each row execute function private.refuse_key_write();

-- +goose StatementBegin
-- refuse_key_revoke: a key marks itself used (app.api_key_scopes) but
-- revokes no key, itself or another; only an admin's session does.
create function private.refuse_key_revoke() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if private.is_key() and new.revoked_at is distinct from old.revoked_at then
    raise exception 'an API key may not revoke keys' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.refuse_key_revoke() owner to ward_rls;
revoke all on function private.refuse_key_revoke() from public;
create trigger api_keys_key_revoke before update on app.api_keys
  for each row execute function private.refuse_key_revoke();

drop policy memberships_select on app.memberships;
create policy memberships_select on app.memberships for select to ward_app
  using (user_id = (select private.uid())
         or (org_id = (select private.get_my_org_id())
             and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
                  or (select private.key_holds('members')))));

drop policy patients_select on app.patients;
create policy patients_select on app.patients for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or id = any ((select private.my_patient_ids())::uuid[])
              or (select private.key_holds('gateway'))));

drop policy events_select on audit.events;
create policy events_select on audit.events for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and (not (select private.is_key()) or (select private.key_holds('audit:read'))));
drop policy heads_select on audit.heads;
create policy heads_select on audit.heads for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and (not (select private.is_key()) or (select private.key_holds('audit:read'))));

drop policy legal_holds_select on app.legal_holds;
create policy legal_holds_select on app.legal_holds for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));
drop policy legal_holds_insert on app.legal_holds;
create policy legal_holds_insert on app.legal_holds for insert to ward_app
  with check (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
              and not (select private.is_key()) and created_by = (select private.uid()));
drop policy legal_holds_update on app.legal_holds;
create policy legal_holds_update on app.legal_holds for update to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()) and released_at is null)
  with check (org_id = (select private.get_my_org_id()) and released_at is not null);

drop policy api_keys_select on app.api_keys;
create policy api_keys_select on app.api_keys for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
