-- An invitation's landing (00190) copied the acceptance's status test from
-- before 00185, which made a closed case read-only: the landing showed an
-- invitation to a closed case as acceptable and the acceptance then refused
-- it (case_closed). The landing now says closed, and offers nothing to
-- accept until the case is reopened; the invitation stays pending.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.case_invite_landing(p_token_hash bytea, OUT status text, OUT org_name text, OUT kind text, OUT permissions text[], OUT access_expires_at timestamp with time zone, OUT expires_at timestamp with time zone, OUT recipient_org text, OUT invitee_id uuid, OUT email_enc bytea, OUT signed_in text, OUT signed_in_user uuid, OUT signed_in_email_enc bytea) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
  -- A closed case is read-only (00185): its invitations stay pending and
  -- are accepted once it is reopened.
  if exists (select from app.cases c where c.org_id = i.org_id and c.id = i.case_id and c.status = 'closed') then
    status := 'closed';
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
