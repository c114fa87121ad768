-- Passkeys (WebAuthn, issue 8 §2): the credentials and the ceremonies'
-- challenges.
--
-- A passkey belongs to one member (org and user), as the other factors
-- do. Its WebAuthn user handle is the org id followed by the user id (32
-- bytes): one discoverable credential per membership on an authenticator,
-- and a sign-in finds the membership from the handle without a username.
-- The credential id, public key, AAGUID, backup flags (BE/BS) and the
-- signature counter are stored; ward_app reads only what a member's list
-- shows (never the credential id or the public key).
--
-- Challenges are made by the database (32 random bytes, pgcrypto), live
-- five minutes by its clock, are spent once, and are bound when made: to
-- the session that asked (registration, second factor), or, for a
-- first-factor sign-in, which has no session yet, to the SHA-256 of a
-- browser binder the server hands out in a cookie. Only the procedures
-- read or write them (no policy, no grant to ward_app). A sign-in
-- challenge names no org until a credential answers it, so the table's key
-- is the challenge's own id; a session's challenge carries (org, session)
-- as a composite foreign key like every other session-bound row.

-- +goose Up
set local role ward_owner;

create table app.passkeys (
  org_id uuid not null,
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  credential_id bytea not null unique check (octet_length(credential_id) between 16 and 1023),
  public_key bytea not null check (octet_length(public_key) between 16 and 2048),
  aaguid uuid not null,
  sign_count bigint not null default 0 check (sign_count between 0 and 4294967295),
  backup_eligible boolean not null,
  backup_state boolean not null check (backup_eligible or not backup_state),
  transports text[] not null default '{}' check (cardinality(transports) <= 8),
  name text not null check (length(name) between 1 and 100),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  primary key (org_id, id),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id)
);
create index passkeys_member on app.passkeys (org_id, user_id);
comment on column app.passkeys.credential_id is 'WebAuthn credential id (rawId); never granted to ward_app';
comment on column app.passkeys.public_key is 'COSE public key from the attested credential data; never granted to ward_app';

alter table app.passkeys enable row level security;
alter table app.passkeys force row level security;
-- A member lists their own passkeys in the credential's org (never the
-- credential id or public key); only the procedures write them.
create policy passkeys_select on app.passkeys for select to ward_app
  using (org_id = (select private.get_my_org_id()) and user_id = (select private.uid()));
grant select (org_id, id, user_id, aaguid, sign_count, backup_eligible, backup_state, transports, name,
              created_at, last_used_at) on app.passkeys to ward_app;
grant select, insert, update, delete on app.passkeys to ward_definer;

create table app.passkey_challenges (
  id uuid primary key default gen_random_uuid(),
  challenge bytea not null unique check (octet_length(challenge) = 32),
  purpose text not null check (purpose in ('register', 'signin', 'verify')),
  org_id uuid,
  session_id uuid,
  binder_hash bytea check (octet_length(binder_hash) = 32),
  rp_id text not null check (length(rp_id) between 1 and 253),
  origin text not null check (length(origin) between 1 and 300),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  used_xid xid8,
  foreign key (org_id, session_id) references app.sessions (org_id, id),
  -- A sign-in is bound to a browser; the others to a session.
  check ((purpose = 'signin') = (session_id is null)),
  check ((purpose = 'signin') = (binder_hash is not null)),
  check ((org_id is null) = (session_id is null))
);
create index passkey_challenges_expiry on app.passkey_challenges (expires_at);
alter table app.passkey_challenges enable row level security;
alter table app.passkey_challenges force row level security;
-- Nobody but the procedures (no policy).
grant select, insert, update, delete on app.passkey_challenges to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.passkey.register',            'auth',   false, false, true,  '{object}'),
  ('auth.passkey.rename',              'auth',   false, false, true,  '{object}'),
  ('auth.passkey.delete',              'auth',   false, false, true,  '{object}'),
  ('auth.passkey.sign_count_regression', 'auth', false, false, true,  '{object}'),
  ('passkey.list',                     'access', false, false, false, '{}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
