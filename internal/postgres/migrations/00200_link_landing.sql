-- A sign-in link with no browser verifier (an invitation mailed by
-- POST /v1/members, or an operator's `ward login-link`) works in any
-- browser, so an admin of any org could mail one for an address they
-- control to somebody else: its landing page said only "Sign in to Ward",
-- and one click signed the recipient in as the admin's account, ending
-- the recipient's own session in that browser (login CSRF; everything the
-- recipient then typed went to the other org).
--
-- app.link_landing tells the landing page, before anything is spent, what
-- a link is: its state (the test app.consume_magic_link makes first: used,
-- expired, a membership gone) and, for a link bound to no browser, the
-- org it signs in to, the account (its sealed address, for the server to
-- open) and who the request's own credential is to it: nobody signed in,
-- the same user, or another one. A link bound to the browser that asked
-- for it can be spent only there: its landing needs no more than its
-- state. The token's holder learns the address the mail was sent to and
-- the org's name, as an invitation's landing tells them (00190).
-- Who is signed in is read from the bound credential (private.me_pending),
-- never from an argument; the function changes nothing.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.link_landing(p_token_hash bytea,
  out status text, out unbound boolean, out org_name text, out user_id uuid, out email_enc bytea,
  out signed_in text)
language plpgsql stable security definer set search_path = '' as $$
#variable_conflict use_column
declare
  l app.magic_links%rowtype;
  me record;
begin
  if octet_length(p_token_hash) is distinct from 32 then
    raise exception 'link_landing: the token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into l from app.magic_links x where x.token_hash = p_token_hash;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := case
    when l.used_at is not null then 'used'
    when l.expires_at <= now() then 'expired'
    when not exists (select from app.memberships ms where ms.org_id = l.org_id and ms.user_id = l.user_id
                       and ms.revoked_at is null) then 'invalid'
    else 'ok' end;
  unbound := l.verifier_hash is null;
  if status <> 'ok' or not unbound then
    return;
  end if;
  select o.name into org_name from app.orgs o where o.id = l.org_id;
  user_id := l.user_id;
  select u.email_enc into email_enc from app.users u where u.id = l.user_id;
  select m.user_id into me from private.me_pending() m where m.kind = 'session';
  signed_in := case when me.user_id is null then 'none' when me.user_id = l.user_id then 'same' else 'other' end;
end $$;
-- +goose StatementEnd

alter function app.link_landing(bytea) owner to ward_definer;
revoke all on function app.link_landing(bytea) from public;
grant execute on function app.link_landing(bytea) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
