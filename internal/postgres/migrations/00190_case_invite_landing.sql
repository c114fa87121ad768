-- An invitation link opened in a browser that already holds a session
-- (a shared office computer; an attorney signed in as themselves who opens
-- a link mailed to a colleague) was accepted for the invitee whatever that
-- session was: the landing page showed a bare "Accept and sign in" button,
-- said nothing of whom the invitation was for or what it granted, and the
-- acceptance put the invitee's session in the cookie over the other
-- member's, whose session stayed live, unrevoked and unaudited, in the
-- background (docs/cases.md).
--
-- app.case_invite_landing tells the landing page, before anything is
-- accepted, what an invitation is: its state (the same test the acceptance
-- makes, so a link whose author has left reads as revoked here too), the
-- org that sends it, the address it was sent to (sealed, for the server to
-- open), the kind, permissions and dates it grants, and who the request's
-- own credential is to it: nobody signed in, the invitee, or another
-- member. The token's holder learns what the mail already told them, the
-- org's name and the permissions; a link that is no longer pending tells
-- its state only.
-- Who is signed in is read from the bound credential (private.me_pending,
-- as logout does: a session pending a second factor is a signed-in
-- browser too), never from an argument; the function changes nothing, and
-- the acceptance (app.accept_case_invite) is unchanged.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.case_invite_landing(p_token_hash bytea,
  out status text, out org_name text, out kind text, out permissions text[], out access_expires_at timestamptz,
  out expires_at timestamptz, out recipient_org text, out invitee_id uuid, out email_enc bytea,
  out signed_in text, out signed_in_user uuid, out signed_in_email_enc bytea)
language plpgsql stable security definer set search_path = '' as $$
#variable_conflict use_column
declare
  i app.case_invites%rowtype;
  me record;
begin
  if octet_length(p_token_hash) is distinct from 32 then
    raise exception 'case_invite_landing: the token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash;
  if not found then
    status := 'invalid';
    return;
  end if;
  -- app.accept_case_invite's test, in its order.
  status := case when i.accepted_at is not null then 'used'
                 when i.revoked_at is not null then 'revoked'
                 when i.expires_at <= now() or i.access_expires_at <= now() then 'expired'
                 when not exists (select from app.memberships m
                                   where m.org_id = i.org_id and m.user_id = i.created_by and m.revoked_at is null
                                     and (m.role in ('admin', 'lead')
                                          or (m.role = 'provider'
                                              and exists (select from app.cases c
                                                            join app.care_team ct
                                                              on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                                           where c.org_id = i.org_id and c.id = i.case_id
                                                             and ct.provider_id = i.created_by)))) then 'revoked'
                 else 'ok' end;
  if status <> 'ok' then
    return;
  end if;
  select o.name into org_name from app.orgs o where o.id = i.org_id;
  kind := i.kind; permissions := i.permissions; access_expires_at := i.access_expires_at;
  expires_at := i.expires_at; recipient_org := i.recipient_org; invitee_id := i.invitee_id; email_enc := i.email_enc;
  select m.user_id into me from private.me_pending() m where m.kind = 'session';
  if me.user_id is null then
    signed_in := 'none';
    return;
  end if;
  select u.id, u.email_enc, case when u.email_bidx = i.email_bidx then 'invitee' else 'other' end
    into signed_in_user, signed_in_email_enc, signed_in
    from app.users u where u.id = me.user_id;
end $$;
-- +goose StatementEnd

alter function app.case_invite_landing(bytea) owner to ward_definer;
revoke all on function app.case_invite_landing(bytea) from public;
grant execute on function app.case_invite_landing(bytea) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
