-- A rotated token keeps the assurance it was issued with (issue 8,
-- step-up).
--
-- A session's token rotates when the session steps up (a TOTP code, a
-- recovery code, a passkey): the server verifies the factor, raises the
-- session (AAL2, the factor in its methods, authenticated now) and rotates
-- its token, in one transaction. The old token still resolved for 30
-- seconds (requests in flight, 00018), but to the session as it is now:
-- raised. Whoever held only the old token (a copy taken before the step-up)
-- thus held, for 30 seconds, a credential stepped up by a factor they never
-- presented: an AAL1 token resolved at AAL2, a step-up ten minutes old
-- counted as a fresh one.
--
-- Now a token carries the assurance the session had when the token was
-- issued:
--
--   * app.sessions.token_assurance, token_amr and token_authenticated_at
--     hold the assurance, methods and time of authentication the session
--     had when its current token was issued. A trigger writes them when a
--     session is created and whenever its token changes, from the session
--     row itself (a factor's verification raises assurance, amr and
--     authenticated_at, not them, before the token rotates).
--   * app.rotate_session records them on the retired token's row
--     (app.session_tokens.assurance, amr, authenticated_at); they take
--     nothing from the caller.
--   * private.me_pending() resolves a retired token, in its grace, with
--     the assurance recorded for it (never more than the session has now):
--     an AAL1 token stays AAL1, so stays pending where the role's bar is
--     MFA; an old step-up stays old, so a route that requires a step-up in
--     the last ten minutes refuses it (step_up_required). Everything else
--     is the session's, as before (its role, liveness, device binding,
--     its step-up bar). The sealed principal (00134, 00136) and the
--     server's kept principal (00139) are what this resolver returns, so
--     they follow.
--
-- Tokens retired before this migration have no record: they resolve, in
-- what is left of their grace, at AAL1 (pending where the bar is MFA), with
-- the session's methods and its creation as their time of authentication.

-- +goose Up
set local role ward_owner;

alter table app.sessions
  add column token_assurance integer,
  add column token_amr text[],
  add column token_authenticated_at timestamptz;
update app.sessions s set token_assurance = s.assurance, token_amr = s.amr, token_authenticated_at = s.authenticated_at;
alter table app.sessions
  alter column token_assurance set not null,
  alter column token_amr set not null,
  alter column token_authenticated_at set not null;

alter table app.session_tokens
  add column assurance integer check (assurance in (1, 2)),
  add column amr text[],
  add column authenticated_at timestamptz;
update app.session_tokens t set assurance = 1, amr = s.amr, authenticated_at = s.created_at
  from app.sessions s where s.org_id = t.org_id and s.id = t.session_id;
alter table app.session_tokens
  alter column assurance set not null,
  alter column amr set not null,
  alter column authenticated_at set not null;

-- +goose StatementBegin
-- The assurance a session's token is issued with: the session's own, when
-- the session is created and when its token changes.
create function private.session_token_issued() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.token_assurance := new.assurance;
  new.token_amr := new.amr;
  new.token_authenticated_at := new.authenticated_at;
  return new;
end $$;
-- +goose StatementEnd

create trigger session_token_issued before insert or update of token_hash on app.sessions
  for each row execute function private.session_token_issued();

-- +goose StatementBegin
-- rotate_session as in 00018; the retired token's row records the
-- assurance the token was issued with.
create or replace function app.rotate_session(p_new_hash bytea) returns timestamptz
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
begin
  if octet_length(p_new_hash) is distinct from 32 then
    raise exception 'rotate_session: the new hash is 32 bytes' using errcode = '22023';
  end if;
  select * into me from private.me_pending();
  select * into s from app.sessions x where x.id = me.session_id and x.token_hash = private.credential_hash()
     for update;
  if not found then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  insert into app.session_tokens (org_id, session_id, token_hash, assurance, amr, authenticated_at)
  values (s.org_id, s.id, s.token_hash, s.token_assurance, s.token_amr, s.token_authenticated_at);
  update app.sessions x set token_hash = p_new_hash where x.id = s.id;
  return s.absolute_expires_at;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- me_pending as in 00130 (enable_seqscan off as in 00136); the token is
-- looked up first (the session's current token, or else one it rotated away
-- from in the last 30 seconds), with the assurance it carries: the
-- session's own for its current token, the one recorded at rotation for a
-- retired one.
create or replace function private.me_pending(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal integer, out auth_time timestamptz, out break_glass boolean, out device text, out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' set enable_seqscan = off as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  c text := current_setting('ward.credential', true);
  h bytea;
  sso_only boolean;
begin
  -- '^[0-9a-f]{64}$' without a regular expression (a regex match costs
  -- more than the rest of the check).
  if c is null or octet_length(c) <> 64 or ltrim(c, '0123456789abcdef') <> '' then
    return;
  end if;
  h := decode(c, 'hex');
  -- The session the token names, or the one a token rotated away from
  -- within the last 30 seconds still names (the second lookup runs only
  -- when the first finds nothing: the limit stops the append), and the
  -- assurance the token carries. A retired token carries what the session
  -- had when it was issued, never more than the session has now: its
  -- holder did not present the factor that raised the session.
  select 'session', s.id, s.user_id, s.org_id, m.role, s.id, least(k.assurance, s.assurance),
         least(k.authenticated_at, s.authenticated_at), s.break_glass, null,
         k.amr, o.enforce_sso and not s.break_glass and not ('sso' = any (k.amr)),
         case when s.dpop_jkt is null and m.role = any (o.device_binding_required_for)
                   and not (s.browser and current_setting('ward.dpop', true) = 'browser')
              then 'device_binding'
              when not private.meets_bar(coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)),
                                          least(k.assurance, s.assurance), k.amr)
              then coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)) end
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, sso_only,
         pending
    from (select x.id, x.assurance, x.amr, x.authenticated_at from app.sessions x where x.token_hash = h
          union all
          select t.session_id, t.assurance, t.amr, t.authenticated_at from app.session_tokens t
           where t.token_hash = h and t.retired_at > now() - interval '30 seconds'
          limit 1) k
    join app.sessions s on s.id = k.id
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
    join app.orgs o on o.id = s.org_id
   where s.revoked_at is null
     and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null
     and (s.dpop_jkt is null or s.dpop_jkt = nullif(current_setting('ward.dpop', true), ''))
     and (s.passkey_id is null
          or exists (select from app.passkeys k where k.org_id = s.org_id and k.id = s.passkey_id));
  -- SSO enforced (00128): a session that did not come through the org's
  -- IdP ('sso' not in its amr) of a member whose address is on a domain
  -- the org verified resolves to nothing. Break-glass sessions (two
  -- passkeys, a stated reason, every admin notified) stay. Looked up only
  -- in an org that enforces SSO, in a statement of its own (in the
  -- session's statement it made every resolution slower; the outer test is
  -- a simple expression, which PL/pgSQL evaluates without the executor).
  if found and sso_only then
    if exists (select from app.users u
                 join app.email_domains e on e.email_bidx = u.email_bidx
                 join app.sso_domains d on d.domain_bidx = e.domain_bidx
                where u.id = me_pending.user_id and d.org_id = me_pending.org_id and d.verified_at is not null)
       or not exists (select from app.users u
                        join app.email_domains e on e.email_bidx = u.email_bidx
                       where u.id = me_pending.user_id) then
      kind := null; credential_id := null; user_id := null; org_id := null; role := null;
      session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
      amr := null; pending := null;
      return;
    end if;
  end if;
  -- A hash that names a session (live or not) names no key or SCIM token:
  -- each is the SHA-256 of 256 random bits, so the lookups below find
  -- nothing for it, as before when they were skipped.
  if not found then
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
    -- SCIM tokens (00050): a live token resolves to its org, with no user,
    -- no role and no session.
    if not found then
      select 'scim_token', t.id, null, t.org_id, null, null, 1, t.created_at, false, null, '{}'::text[], null
        into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
        from app.scim_tokens t
       where t.token_hash = h and t.revoked_at is null;
    end if;
  end if;
  -- The hint must be a UUID written as '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  -- in any case: 36 bytes, dashes at 9, 14, 19 and 24 and nowhere else,
  -- hexadecimal digits elsewhere (checked without a regular expression).
  if hint is not null and (org_id is null
       or octet_length(hint) <> 36
       or translate(hint, '0123456789abcdefABCDEF', '') <> '----'
       or substr(hint, 9, 1) <> '-' or substr(hint, 14, 1) <> '-' or substr(hint, 19, 1) <> '-' or substr(hint, 24, 1) <> '-'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;
-- +goose StatementEnd

alter function private.session_token_issued() owner to ward_rls;
revoke all on function private.session_token_issued() from public;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
