-- Two admins saving the retention policy at once no longer overwrite each
-- other unknowingly (DESIGN §8; docs/retention.md): the policy has a
-- version, GET /v1/org/retention-policy sends it as an ETag, and PUT with
-- If-Match replaces it only if it is still that version (412 otherwise).
--
--  * app.document_retention_tag(org): the policy's version, the hex
--    SHA-256 of its lines "type days" in byte order of the type, joined by
--    a newline (the empty string's for an empty policy): the same policy
--    has the same version whoever set it. SECURITY INVOKER: ward_app reads
--    it through the table's select policy (its own org's rows; another
--    org's tag is the empty policy's), and the setter below through its
--    own rights.
--  * app.set_document_retention gains p_if_match (text[], default null):
--    when given, after the org's row is locked (one change of a policy at
--    a time), the current version must be one of them, or nothing changes
--    (P0001, hint stale_retention_policy). The versions a caller names
--    decide nothing about who may write: the checks of 00233 come first,
--    from the bound credential, unchanged. The two-argument function is
--    replaced (a call with two arguments would otherwise match both).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.document_retention_tag(p_org uuid) returns text
language sql stable
set search_path to ''
as $$
  select encode(sha256(convert_to(coalesce(string_agg(r.doc_type || ' ' || r.retain_days::text, E'\n'
                                                      order by r.doc_type collate "C"), ''), 'UTF8')), 'hex')
    from app.document_retention r where r.org_id = p_org
$$;
-- +goose StatementEnd
revoke all on function app.document_retention_tag(uuid) from public;
grant execute on function app.document_retention_tag(uuid) to ward_app, ward_definer;

drop function app.set_document_retention(jsonb, text);

-- +goose StatementBegin
create function app.set_document_retention(p_policy jsonb, p_request text default null, p_if_match text[] default null)
returns void
language plpgsql volatile security definer
set search_path to ''
as $$
declare
  me record;
  old jsonb;
  new jsonb;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_policy is null or jsonb_typeof(p_policy) <> 'object' then
    raise exception 'a retention policy is an object of document type to days' using errcode = '22023';
  end if;
  if (select count(*) from jsonb_object_keys(p_policy)) > 100 then
    raise exception 'a retention policy names at most 100 document types' using errcode = '22023';
  end if;
  if exists (select from jsonb_each(p_policy) e
              where e.key !~ '^[a-z][a-z0-9_]{0,47}$'
                 or jsonb_typeof(e.value) <> 'number'
                 or (e.value #>> '{}') !~ '^[0-9]{1,5}$'
                 or (e.value #>> '{}')::int not between 1 and 36500) then
    raise exception 'document types are lower-case names; days are whole numbers from 1 to 36500'
      using errcode = '22023';
  end if;
  -- One change of an org's policy at a time (the old value recorded is
  -- the one replaced, and the version a caller named is compared with the
  -- one it would replace).
  perform from app.orgs o where o.id = me.org_id for update;
  if p_if_match is not null and not (app.document_retention_tag(me.org_id) = any (p_if_match)) then
    raise exception 'precondition failed: the retention policy changed since the version named'
      using errcode = 'P0001', hint = 'stale_retention_policy';
  end if;
  select coalesce(jsonb_object_agg(r.doc_type, r.retain_days order by r.doc_type), '{}') into old
    from app.document_retention r where r.org_id = me.org_id;
  delete from app.document_retention r where r.org_id = me.org_id;
  insert into app.document_retention (org_id, doc_type, retain_days, updated_by)
  select me.org_id, e.key, (e.value #>> '{}')::int, me.user_id from jsonb_each(p_policy) e;
  select coalesce(jsonb_object_agg(r.doc_type, r.retain_days order by r.doc_type), '{}') into new
    from app.document_retention r where r.org_id = me.org_id;
  perform audit.append_as(me.org_id, 'org.retention_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('old', old, 'new', new));
end $$;
-- +goose StatementEnd
alter function app.set_document_retention(jsonb, text, text[]) owner to ward_definer;
revoke all on function app.set_document_retention(jsonb, text, text[]) from public;
grant execute on function app.set_document_retention(jsonb, text, text[]) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
