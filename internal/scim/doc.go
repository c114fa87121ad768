// Package scim is Ward's SCIM 2.0 service provider (RFC 7643, RFC 7644): a
// directory such as Okta or Entra ID creates, updates, deactivates and
// deletes an org's staff through /scim/v2, with one bearer token per org.
//
// Rules:
//   - A token is scim_ + 43 base62 characters (32 random bytes) + a 6-character
//     CRC32 checksum; only its SHA-256 is stored. Admins create and revoke
//     tokens from a session that presented a second factor within ten
//     minutes. The database resolves the token like any credential
//     (private.me_pending, kind scim_token): it reaches its own org only,
//     never as a user or a role, and only through the app.scim_*
//     procedures (migrations/00050).
//   - SCIM sees the org's staff (provider, lead and admin members), never
//     its patients. A User's id is the Ward user id; its userName is the
//     person's sign-in address, which SCIM cannot change (the address is the
//     person's across orgs). emails mirror userName. name, displayName,
//     nickName and title are sealed under the org's keys.
//   - active:false, or DELETE, ends the member's access in the same
//     transaction: the membership, every session and the API keys they made.
//     The org's last live admin is kept (409): a directory, or a stolen
//     token, cannot lock an org out.
//   - active:true (or creating a deleted User again) restores only a
//     membership the directory revoked, with the lower of the old role and
//     the token's default role (provider or lead, never admin). One an
//     admin revoked stays revoked (400 mutability); revoking a member
//     through the API also revokes the SCIM tokens they made
//     (migrations/00107).
//   - Groups are sets of the org's Users. An admin maps a group to a Ward
//     role (with step-up); a member of mapped groups has the highest role
//     they map to, one who leaves the last of them falls back to the
//     token's default role, and a role change ends their sessions.
//     Unmapped groups change nobody's role.
//   - Every write, every read (with the ids returned) and every refused
//     request is in the org's audit log, with the token's id and never a
//     request body.
//
// docs/scim.md is the guide for operators and directory administrators.
package scim
