// Package sso signs members in through their org's identity provider: an
// OpenID Connect relying party (github.com/coreos/go-oidc/v3 and
// golang.org/x/oauth2) and a SAML 2.0 service provider
// (github.com/crewjam/saml, saml.go) with per-org connections, email-domain
// routing, account linking by verified address and optional just-in-time
// provisioning.
//
// Rules:
//   - The authorization code flow only, with PKCE (S256), state and nonce.
//     The state is single use, lives ten minutes and is bound to the browser
//     that started: its hash and the hash of a cookie (the binder) are what
//     the database keeps. The PKCE verifier and the nonce are derived from
//     the binder and the state (HMAC-SHA256), so no secret is stored.
//   - The ID token must carry a kid, be signed with an algorithm the
//     connection allows (never none), verify against the issuer's JWKS
//     (fetched again when a kid is unknown: key rotation), name the
//     connection's issuer and client as audience, be unexpired, carry iat
//     (not in the future), a subject and the nonce. Every refusal is audited
//     in the org with a reason code, never the token.
//   - The database decides the rest (migrations/00052): which org and
//     connection the answer may sign into, who it links to (an earlier link,
//     else a live member with the verified address, else a new member only
//     when the connection enables just-in-time provisioning), the assurance
//     (AAL2 only for the amr/acr values the connection lists as trusted;
//     else AAL1, amr ["sso"]) and the session's lifetimes (the org's).
//   - An address counts as verified when the IdP says email_verified, or
//     when it is on a domain the org claimed for this connection or
//     verified (SAML has no email_verified: only the domains count). A
//     claimed domain is verified when an admin of the org signs in through
//     the connection with an address on it; from then on sign-ins by address
//     on that domain go to that connection, and with enforce_sso no sign-in
//     link is sent to it.
//
// docs/sso.md is the guide for operators.
package sso
