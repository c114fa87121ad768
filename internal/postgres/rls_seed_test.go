package postgres_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The seed of the RLS matrix: two orgs written as the superuser, every row
// also kept here in a generic form for the oracle (rls_oracle_test.go).
//
//	org A: a_admin, a_lead, a_prov1 (care team of P1), a_prov0 (no patients),
//	       a_pat1 (linked to P1), a_pat2 (linked to P2), a_gone (revoked lead);
//	       patients P1, P2, P3.
//	org B: b_admin, b_pat1 (linked to Q1), and a_lead again, as a provider on
//	       Q1's care team (one person, two orgs); patients Q1, Q2. Org B
//	       requires MFA of every role.
//
// Sessions are AAL2 (magic link and TOTP) unless the actor's name ends in
// _aal1.

// rlsInstanceOrg is the org id under which the instance keysets are stored.
const rlsInstanceOrg = "ffffffff-ffff-ffff-ffff-ffffffffffff"

// rlsRow is one seeded row of any table, reduced to what the rules look at.
type rlsRow struct {
	pk       string   // the row's primary key as the table's pk expression renders it
	org      string   // org_id (orgs: id)
	user     string   // users: id; memberships, sessions, patient_links: user_id
	provider string   // care_team.provider_id
	patient  string   // patients: id; patient_links, care_team, clinical_entries, audit.events: patient_id
	results  []string // audit.events.result_ids
	role     string   // memberships.role
	revoked  bool     // memberships, sessions: revoked_at is set
	author   string   // clinical_entries.created_by
	kase     string   // case_id of the case tables (cases: id)
	perms    []string // case_members.permissions
	deleted  bool     // documents: deleted_at is set (versions, comments: their document's)

	// orgs only: the org's assurance policy
	requireMFA bool

	// api_keys: expiry (zero: none) and scopes; case_members: access_expires_at
	expires time.Time
	scopes  []string

	// session_tokens only: the session a retired token belonged to, and
	// when it was retired (aal: the assurance it was issued with)
	session   string
	retiredAt time.Time

	// sessions only
	aal         int    // assurance level: 2 unless the seed says 1
	tokenHash   string // hex
	lastSeen    time.Time
	idleMin     int
	absoluteExp time.Time
	breakGlass  bool   // a break-glass session (migration 00060)
	browser     bool   // handed out in the session cookie only (migration 00080)
	passkey     string // the passkey that created it, org/id (migration 00080)
}

// rlsActor is one way of calling the database: a credential exactly as the
// server would bind it, and the user the server believes it is serving
// (used as created_by, provider_id … in the rows the actor tries to write).
type rlsActor struct {
	name string
	cred postgres.Credential
	user string
}

type rlsSeed struct {
	now    time.Time
	id     map[string]string // label → uuid
	label  map[string]string // uuid → label, for readable failures
	rows   map[string][]rlsRow
	actors []rlsActor
	// bidx is each user's email blind index; linkHash each seeded magic
	// link's token hash, by user label (for the procedure cases).
	bidx     map[string][]byte
	linkHash map[string][]byte
	// ssoStateHash and ssoBinderHash are the seeded SSO sign-in state's.
	ssoStateHash, ssoBinderHash []byte
	// binding is each org's device_binding_required_for (migration 00062).
	binding map[string][]string
	// reservations is each org's seeded gateway reservation (00170), made
	// by a credential of nobody's.
	reservations map[string]int64
}

func (s *rlsSeed) name(label string) string {
	id := uuid.NewString()
	s.id[label] = id
	s.label[id] = label
	return id
}

// must returns the id of a label that the seed defines.
func (s *rlsSeed) must(label string) string {
	id, ok := s.id[label]
	if !ok {
		panic("rls seed: no " + label)
	}
	return id
}

var rlsUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// readable replaces the seed's uuids in s with their labels.
func (s *rlsSeed) readable(v string) string {
	return rlsUUID.ReplaceAllStringFunc(v, func(id string) string {
		if l, ok := s.label[id]; ok {
			return l
		}
		return id
	})
}

func rlsRandom(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// hexSHA256 is what the server binds as ward.credential for a token.
func hexSHA256(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// seedRLS writes the matrix's two orgs into env as the superuser.
func seedRLS(t *testing.T, env *pgtest.Env) *rlsSeed {
	t.Helper()
	s := &rlsSeed{
		now:   time.Now(),
		id:    map[string]string{},
		label: map[string]string{rlsInstanceOrg: "instance"},
		rows:  map[string][]rlsRow{},
		bidx:  map[string][]byte{}, linkHash: map[string][]byte{}, binding: map[string][]string{},
		reservations: map[string]int64{},
	}
	ctx := context.Background()
	err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		w := &rlsWriter{ctx: ctx, tx: tx, s: s, eventsOf: map[string]int64{}}
		w.seed()
		return w.err
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return s
}

// rlsWriter inserts rows and records them; the first error sticks.
type rlsWriter struct {
	eventsOf   map[string]int64 // org → events written
	integrated map[string]bool  // org → integrated already: later events stay queued
	ctx        context.Context
	tx         pgx.Tx
	s          *rlsSeed
	err        error
}

func (w *rlsWriter) exec(sql string, args ...any) {
	if w.err != nil {
		return
	}
	if _, err := w.tx.Exec(w.ctx, sql, args...); err != nil {
		w.err = fmt.Errorf("%s: %w", sql, err)
	}
}

func (w *rlsWriter) add(table string, r rlsRow) { w.s.rows[table] = append(w.s.rows[table], r) }

func (w *rlsWriter) org(label string, requireMFA bool) {
	id := w.s.name(label)
	w.exec(`insert into app.orgs (id, name, require_mfa) values ($1, $2, $3)`, id, "Org "+label, requireMFA)
	w.add("app.orgs", rlsRow{pk: id, org: id, requireMFA: requireMFA})
	w.exec(`insert into app.gateway_buckets (org_id, rpm, tpm, requests, tokens, at) values ($1, 600, 2000000, 600, 2000000, now())`, id)
	w.add("app.gateway_buckets", rlsRow{pk: id, org: id})
	if w.err == nil {
		var r int64
		if err := w.tx.QueryRow(w.ctx, `insert into app.gateway_reservations (org_id, credential_id, tokens)
		    values ($1, $2, 100) returning id`, id, rlsNew()).Scan(&r); err != nil {
			w.err = err
		}
		w.s.reservations[label] = r
		w.add("app.gateway_reservations", rlsRow{pk: id + "/" + strconv.FormatInt(r, 10), org: id})
	}
	for _, purpose := range []string{"aead", "prf"} {
		w.keyset(id, purpose)
	}
}

func (w *rlsWriter) keyset(org, purpose string) {
	w.exec(`insert into private.keysets (org_id, purpose, wrapped) values ($1, $2, $3)`, org, purpose, rlsRandom(48))
	w.add("private.keysets", rlsRow{pk: org + "/" + purpose, org: org})
}

func (w *rlsWriter) user(label string) {
	id := w.s.name(label)
	w.s.bidx[label] = rlsRandom(32)
	w.exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3)`, id, w.s.bidx[label], rlsRandom(40))
	w.add("app.users", rlsRow{pk: id, user: id})
}

func (w *rlsWriter) member(org, user, role string, revoked bool) {
	o, u := w.s.must(org), w.s.must(user)
	var revokedAt *time.Time
	if revoked {
		at := w.s.now.Add(-time.Hour)
		revokedAt = &at
	}
	w.exec(`insert into app.memberships (org_id, user_id, role, revoked_at) values ($1, $2, $3, $4)`, o, u, role, revokedAt)
	w.add("app.memberships", rlsRow{pk: o + "/" + u, org: o, user: u, role: role, revoked: revoked})
}

type rlsSessionState int

const (
	rlsLive rlsSessionState = iota
	rlsRevoked
	rlsAbsoluteExpired
	rlsIdleExpired
)

// session creates an AAL2 session (magic link and TOTP) and returns the
// credential hash it answers to.
func (w *rlsWriter) session(label, org, user string, state rlsSessionState) string {
	return w.sessionAAL(label, org, user, state, 2)
}

// sessionAAL creates a session of assurance level aal (1: a magic link
// only) and returns the credential hash it answers to.
func (w *rlsWriter) sessionAAL(label, org, user string, state rlsSessionState, aal int) string {
	id, o, u := w.s.name(label), w.s.must(org), w.s.must(user)
	token := hex.EncodeToString(rlsRandom(32))
	sum := sha256.Sum256([]byte(token))
	r := rlsRow{pk: id, org: o, user: u, tokenHash: hex.EncodeToString(sum[:]), aal: aal,
		lastSeen: w.s.now, idleMin: 60, absoluteExp: w.s.now.Add(12 * time.Hour)}
	amr := []string{"email"}
	if aal == 2 {
		amr = append(amr, "totp")
	}
	var revokedAt *time.Time
	switch state {
	case rlsRevoked:
		at := w.s.now.Add(-time.Hour)
		revokedAt, r.revoked = &at, true
	case rlsAbsoluteExpired:
		r.absoluteExp = w.s.now.Add(-time.Hour)
	case rlsIdleExpired:
		r.lastSeen = w.s.now.Add(-3 * time.Hour)
	}
	w.exec(`insert into app.sessions (id, org_id, user_id, token_hash, last_seen_at, idle_timeout_min,
	          absolute_expires_at, revoked_at, revoked_reason, assurance, amr)
	        values ($1, $2, $3, $4, $5, $6, $7, $8, case when $8::timestamptz is null then null else 'logout' end, $9, $10)`,
		id, o, u, sum[:], r.lastSeen, r.idleMin, r.absoluteExp, revokedAt, aal, amr)
	w.add("app.sessions", r)
	return r.tokenHash
}

// ssoSession creates an AAL1 session from an SSO sign-in (amr sso).
func (w *rlsWriter) ssoSession(label, org, user string) string {
	h := w.sessionAAL(label, org, user, rlsLive, 1)
	w.exec(`update app.sessions set amr = '{sso}' where id = $1`, w.s.must(label))
	return h
}

// retiredToken records a rotated token of session label, retired ago and
// issued with the session's assurance, and returns the credential hash it
// answers to.
func (w *rlsWriter) retiredToken(label string, ago time.Duration) string {
	return w.retiredTokenAAL(label, ago, 0)
}

// retiredTokenAAL is retiredToken of a token issued at assurance aal (0:
// the session's), as a token the session rotated away from when it
// stepped up.
func (w *rlsWriter) retiredTokenAAL(label string, ago time.Duration, aal int) string {
	sid := w.s.must(label)
	var org string
	for _, r := range w.s.rows["app.sessions"] {
		if r.pk == sid {
			org = r.org
			if aal == 0 {
				aal = r.aal
			}
		}
	}
	sum := sha256.Sum256(rlsRandom(32))
	at := w.s.now.Add(-ago)
	w.exec(`insert into app.session_tokens (org_id, session_id, token_hash, retired_at, assurance, amr, authenticated_at)
	        select $1, s.id, $3, $4, $5, case when $5 = 1 then '{email}' else s.amr end, s.authenticated_at
	          from app.sessions s where s.id = $2`,
		org, sid, sum[:], at, aal)
	h := hex.EncodeToString(sum[:])
	w.add("app.session_tokens", rlsRow{pk: org + "/" + sid + "/" + h, org: org, session: sid, tokenHash: h, retiredAt: at,
		aal: aal})
	return h
}

// apiKey creates an admin API key of org made by user and returns the
// credential hash it answers to.
func (w *rlsWriter) apiKey(label, org, user string, revoked bool, expires time.Time, scopes ...string) string {
	if len(scopes) == 0 {
		scopes = []string{"members"}
	}
	id, o, u := w.s.name(label), w.s.must(org), w.s.must(user)
	sum := sha256.Sum256(rlsRandom(32))
	var exp, rev *time.Time
	if !expires.IsZero() {
		exp = &expires
	}
	if revoked {
		at := w.s.now.Add(-time.Minute)
		rev = &at
	}
	w.exec(`insert into app.api_keys (org_id, id, key_hash, prefix, name, scopes, created_by, created_at, expires_at, revoked_at)
	        values ($1, $2, $3, 'sk_live_abcd', $4, $8, $5, now() - interval '1 day', $6, $7)`,
		o, id, sum[:], label, u, exp, rev, scopes)
	h := hex.EncodeToString(sum[:])
	w.add("app.api_keys", rlsRow{pk: o + "/" + id, org: o, user: u, tokenHash: h, revoked: revoked, expires: expires, scopes: scopes})
	return h
}

// sink is one SIEM sink of org (app.audit_sinks).
func (w *rlsWriter) sink(org, label string) {
	o, id := w.s.must(org), w.s.name(label)
	w.exec(`insert into app.audit_sinks (org_id, id, kind, name, endpoint, cursor_seq) values ($1, $2, 'syslog', $3, 'siem.example:6514', 0)`,
		o, id, strings.ReplaceAll(label, ".", "-"))
	w.add("app.audit_sinks", rlsRow{pk: o + "/" + id, org: o})
}

// scimToken creates org's SCIM token made by user and returns the
// credential hash it answers to.
func (w *rlsWriter) scimToken(label, org, user string, revoked bool) string {
	id, o, u := w.s.name(label), w.s.must(org), w.s.must(user)
	sum := sha256.Sum256(rlsRandom(32))
	var rev *time.Time
	if revoked {
		at := w.s.now.Add(-time.Minute)
		rev = &at
	}
	w.exec(`insert into app.scim_tokens (org_id, id, token_hash, prefix, name, created_by, revoked_at)
	        values ($1, $2, $3, 'scim_abcd', $4, $5, $6)`, o, id, sum[:], label, u, rev)
	h := hex.EncodeToString(sum[:])
	w.add("app.scim_tokens", rlsRow{pk: o + "/" + id, org: o, user: u, tokenHash: h, revoked: revoked})
	return h
}

// scimUser records what a directory keeps of a member.
func (w *rlsWriter) scimUser(org, user, externalID string) {
	o, u := w.s.must(org), w.s.must(user)
	w.exec(`insert into app.scim_users (org_id, user_id, external_id) values ($1, $2, $3)`, o, u, externalID)
	w.add("app.scim_users", rlsRow{pk: o + "/" + u, org: o, user: u})
}

// scimGroup creates a directory group of org mapped to role, with members.
func (w *rlsWriter) scimGroup(label, org, role string, members ...string) {
	o, id := w.s.must(org), w.s.name(label)
	w.exec(`insert into app.scim_groups (org_id, id, display_name, role) values ($1, $2, $3, $4)`, o, id, label, role)
	w.add("app.scim_groups", rlsRow{pk: o + "/" + id, org: o})
	for _, m := range members {
		u := w.s.must(m)
		w.exec(`insert into app.scim_group_members (org_id, group_id, user_id) values ($1, $2, $3)`, o, id, u)
		w.add("app.scim_group_members", rlsRow{pk: o + "/" + id + "/" + u, org: o, user: u})
	}
}

// ssoConnection creates an OIDC connection of org made by user.
func (w *rlsWriter) ssoConnection(label, org, user string) {
	o, id := w.s.must(org), w.s.name(label)
	w.exec(`insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, created_by)
	        values ($1, $2, 'oidc', $3, 'https://idp.example', 'ward', $4, $5)`, o, id, label, rlsRandom(40), w.s.must(user))
	w.add("app.sso_connections", rlsRow{pk: o + "/" + id, org: o})
}

// ssoDomain claims domain for connection conn of org, verified or not.
func (w *rlsWriter) ssoDomain(org, domain, conn string, verified bool) {
	o := w.s.must(org)
	var at *time.Time
	if verified {
		at = &w.s.now
	}
	w.exec(`insert into app.sso_domains (org_id, domain, connection_id, verified_at) values ($1, $2, $3, $4)`,
		o, domain, w.s.must(conn), at)
	w.add("app.sso_domains", rlsRow{pk: o + "/" + domain, org: o})
}

// ssoIdentity links an IdP subject of conn to user in org.
func (w *rlsWriter) ssoIdentity(org, conn, user string) {
	o, c, u := w.s.must(org), w.s.must(conn), w.s.must(user)
	h := rlsRandom(32)
	w.exec(`insert into app.sso_identities (org_id, connection_id, subject_hash, user_id) values ($1, $2, $3, $4)`, o, c, h, u)
	w.add("app.sso_identities", rlsRow{pk: o + "/" + c + "/" + u, org: o, user: u})
}

// ssoState records a sign-in state of conn, bound to binder.
func (w *rlsWriter) ssoState(org, conn string, state, binder []byte) {
	w.exec(`insert into app.sso_states (state_hash, org_id, connection_id, binder_hash) values ($1, $2, $3, $4)`,
		state, w.s.must(org), w.s.must(conn), binder)
	w.add("app.sso_states", rlsRow{pk: hex.EncodeToString(state)})
}

// ssoAssertion records an accepted SAML assertion id of conn.
func (w *rlsWriter) ssoAssertion(org, conn string) {
	o, c, h := w.s.must(org), w.s.must(conn), rlsRandom(32)
	w.exec(`insert into app.sso_assertions (org_id, connection_id, id_hash, expires_at) values ($1, $2, $3, now() + interval '1 hour')`,
		o, c, h)
	w.add("app.sso_assertions", rlsRow{pk: o + "/" + c + "/" + hex.EncodeToString(h), org: o})
}

func (w *rlsWriter) patient(org, label, createdBy string) {
	o, id := w.s.must(org), w.s.name(label)
	w.exec(`insert into app.patients (org_id, id, mrn_bidx, name_enc, created_by, keyset) values ($1, $2, $3, $4, $5, '\x00')`,
		o, id, rlsRandom(32), rlsRandom(40), w.s.must(createdBy))
	w.add("app.patients", rlsRow{pk: o + "/" + id, org: o, patient: id})
}

func (w *rlsWriter) link(org, user, patient string) {
	o, u, p := w.s.must(org), w.s.must(user), w.s.must(patient)
	w.exec(`insert into app.patient_links (org_id, user_id, patient_id) values ($1, $2, $3)`, o, u, p)
	w.add("app.patient_links", rlsRow{pk: o + "/" + u + "/" + p, org: o, user: u, patient: p})
}

func (w *rlsWriter) careTeam(org, provider, patient string) {
	o, u, p := w.s.must(org), w.s.must(provider), w.s.must(patient)
	w.exec(`insert into app.care_team (org_id, provider_id, patient_id) values ($1, $2, $3)`, o, u, p)
	w.add("app.care_team", rlsRow{pk: o + "/" + u + "/" + p, org: o, provider: u, patient: p})
}

func (w *rlsWriter) entry(org, label, patient, createdBy string) {
	o, id, p := w.s.must(org), w.s.name(label), w.s.must(patient)
	w.exec(`insert into app.clinical_entries (org_id, id, patient_id, kind, name, kcal, observed_at, note_enc, created_by)
	        values ($1, $2, $3, 'food', 'oats', 150, now(), $4, $5)`, o, id, p, rlsRandom(24), w.s.must(createdBy))
	w.add("app.clinical_entries", rlsRow{pk: o + "/" + id, org: o, patient: p, author: w.s.must(createdBy)})
}

func (w *rlsWriter) magicLink(org, user string) {
	o, u := w.s.must(org), w.s.must(user)
	id := w.s.name("ml." + user)
	w.s.linkHash[user] = rlsRandom(32)
	w.exec(`insert into app.magic_links (id, org_id, user_id, token_hash, verifier_hash, expires_at)
	        values ($1, $2, $3, $4, $5, now() + interval '15 minutes')`, id, o, u, w.s.linkHash[user], rlsRandom(32))
	w.add("app.magic_links", rlsRow{pk: id, org: o, user: u})
}

// totpFactor enrols a confirmed TOTP factor for user in org (a sealed
// secret of random bytes: the matrix never opens it).
func (w *rlsWriter) totpFactor(org, user string) {
	o, u := w.s.must(org), w.s.must(user)
	w.exec(`insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash, confirmed_at)
	        values ($1, $2, $3, $4, now())`, o, u, rlsRandom(48), rlsRandom(32))
	w.add("app.totp_factors", rlsRow{pk: o + "/" + u, org: o, user: u})
}

// passkey registers a passkey (random credential id and key) for user in
// org.
func (w *rlsWriter) passkey(org, user string) string {
	o, u, id := w.s.must(org), w.s.must(user), rlsNew()
	w.exec(`insert into app.passkeys (org_id, id, user_id, credential_id, public_key, aaguid, backup_eligible,
	        backup_state, name) values ($1, $2, $3, $4, $5, gen_random_uuid(), true, false, 'seed')`,
		o, id, u, rlsRandom(32), rlsRandom(77))
	w.add("app.passkeys", rlsRow{pk: o + "/" + id, org: o, user: u})
	return id
}

// browserSession creates a live session of assurance level aal that the
// server handed out in the session cookie only (app.sessions.browser), and
// returns the credential hash it answers to.
func (w *rlsWriter) browserSession(label, org, user string, aal int) string {
	h := w.sessionAAL(label, org, user, rlsLive, aal)
	id := w.s.must(label)
	w.exec(`update app.sessions set browser = true where id = $1`, id)
	w.s.sessionRow(id).browser = true
	return h
}

// passkeySession creates a live AAL2 session a passkey sign-in created with
// passkey (an id in org; it need not exist), and returns the credential
// hash it answers to.
func (w *rlsWriter) passkeySession(label, org, user, passkey string) string {
	h := w.sessionAAL(label, org, user, rlsLive, 2)
	id := w.s.must(label)
	w.exec(`update app.sessions set passkey_id = $2, amr = '{passkey}' where id = $1`, id, passkey)
	w.s.sessionRow(id).passkey = w.s.must(org) + "/" + passkey
	return h
}

// breakGlass designates user an emergency-access user of org, and gives
// them the two passkeys that needs.
func (w *rlsWriter) breakGlass(org, user, by string) {
	o, u := w.s.must(org), w.s.must(user)
	w.passkey(org, user)
	w.passkey(org, user)
	w.exec(`insert into app.break_glass_users (org_id, user_id, designated_by) values ($1, $2, $3)`, o, u, w.s.must(by))
	w.add("app.break_glass_users", rlsRow{pk: o + "/" + u, org: o, user: u})
}

// breakGlassSession creates a break-glass session of user in org with its
// activation (an open review item), created ago, and returns the
// credential hash it answers to. Past 60 minutes it has expired.
func (w *rlsWriter) breakGlassSession(label, org, user string, ago time.Duration) string {
	id, o, u := w.s.name(label), w.s.must(org), w.s.must(user)
	token := hex.EncodeToString(rlsRandom(32))
	sum := sha256.Sum256([]byte(token))
	created := w.s.now.Add(-ago)
	r := rlsRow{pk: id, org: o, user: u, tokenHash: hex.EncodeToString(sum[:]), aal: 2, breakGlass: true,
		lastSeen: created, idleMin: 60, absoluteExp: created.Add(time.Hour)}
	w.exec(`insert into app.sessions (id, org_id, user_id, token_hash, created_at, last_seen_at, idle_timeout_min,
	          absolute_expires_at, assurance, amr, break_glass)
	        values ($1, $2, $3, $4, $5, $5, 60, $6, 2, '{passkey}', true)`,
		id, o, u, sum[:], created, r.absoluteExp)
	w.add("app.sessions", r)
	act := w.s.name("bg." + label)
	w.exec(`insert into app.break_glass_activations (org_id, id, user_id, session_id, passkey_id, reason_enc,
	          activated_at, expires_at) values ($1, $2, $3, $4, gen_random_uuid(), $5, $6, $7)`,
		o, act, u, id, rlsRandom(40), created, r.absoluteExp)
	w.add("app.break_glass_activations", rlsRow{pk: o + "/" + act, org: o, user: u})
	return r.tokenHash
}

// passkeyChallenge stores a live sign-in challenge (bound to a browser,
// no org).
func (w *rlsWriter) passkeyChallenge() {
	id := rlsNew()
	w.exec(`insert into app.passkey_challenges (id, challenge, purpose, binder_hash, rp_id, origin, expires_at)
	        values ($1, $2, 'signin', $3, 'localhost', 'https://localhost', now() + interval '5 minutes')`,
		id, rlsRandom(32), rlsRandom(32))
	w.add("app.passkey_challenges", rlsRow{pk: id})
}

// recoveryCode stores one recovery code hash for user in org.
func (w *rlsWriter) recoveryCode(org, user string) {
	o, u, h := w.s.must(org), w.s.must(user), rlsRandom(32)
	w.exec(`insert into app.recovery_codes (org_id, user_id, code_hash) values ($1, $2, $3)`, o, u, h)
	w.add("app.recovery_codes", rlsRow{pk: o + "/" + u, org: o, user: u})
}

// knownDevice remembers one sign-in device for user in org.
func (w *rlsWriter) knownDevice(org, user string) {
	o, u := w.s.must(org), w.s.must(user)
	w.exec(`insert into app.known_devices (org_id, user_id, token_hash, expires_at)
	        values ($1, $2, $3, now() + interval '1 day')`, o, u, rlsRandom(32))
	w.add("app.known_devices", rlsRow{pk: o + "/" + u, org: o, user: u})
}

func (w *rlsWriter) attempt(kind string) {
	key := rlsRandom(32)
	w.exec(`insert into app.auth_attempts (kind, key_hash) values ($1, $2)`, kind, key)
	w.add("app.auth_attempts", rlsRow{pk: kind + "/" + hex.EncodeToString(key)})
}

// legalHold places an org-wide legal hold.
func (w *rlsWriter) legalHold(org, by string) {
	o, id := w.s.must(org), w.s.name("hold."+org)
	w.exec(`insert into app.legal_holds (org_id, id, reason_enc, created_by) values ($1, $2, '\x73656564', $3)`, o, id, w.s.must(by))
	w.add("app.legal_holds", rlsRow{pk: o + "/" + id, org: o})
}

// dsr files a data-subject request of org about patient or, with patient
// "", about subject (a member), filed by by.
func (w *rlsWriter) dsr(name, org, kind, patient, subject, by string) {
	o, id := w.s.must(org), w.s.name("dsr."+name)
	var p, u any
	if patient != "" {
		p = w.s.must(patient)
	}
	if subject != "" {
		u = w.s.must(subject)
	}
	w.exec(`insert into app.dsr_requests (org_id, id, kind, patient_id, subject_user_id, requested_by, due_at)
	        values ($1, $2, $3, $4, $5, $6, now())`, o, id, kind, p, u, w.s.must(by))
	r := rlsRow{pk: o + "/" + id, org: o, author: w.s.must(by)}
	if patient != "" {
		r.patient = w.s.must(patient)
	}
	if subject != "" {
		r.user = w.s.must(subject)
	}
	w.add("app.dsr_requests", r)
}

// amendment files a request to amend patient's record (00157), asked by
// by; the guard files its data-subject request, which is seeded too.
func (w *rlsWriter) amendment(name, org, patient, by string) {
	o, id := w.s.must(org), w.s.name("amend."+name)
	if w.err != nil {
		return
	}
	var dsr string
	if err := w.tx.QueryRow(w.ctx, `insert into app.record_amendments (org_id, id, patient_id, dsr_id, request_enc, requested_by)
	        values ($1, $2, $3, gen_random_uuid(), '\x01', $4) returning dsr_id::text`,
		o, id, w.s.must(patient), w.s.must(by)).Scan(&dsr); err != nil {
		w.err = fmt.Errorf("amendment %s: %w", name, err)
		return
	}
	w.s.id["dsr.amendment."+name], w.s.label[dsr] = dsr, "dsr.amendment."+name
	w.add("app.dsr_requests", rlsRow{pk: o + "/" + dsr, org: o, author: w.s.must(by), patient: w.s.must(patient)})
	w.add("app.record_amendments", rlsRow{pk: o + "/" + id, org: o, author: w.s.must(by), patient: w.s.must(patient)})
}

// kase creates a case of org for patient ("" for none).
func (w *rlsWriter) kase(org, label, patient string) {
	o, id := w.s.must(org), w.s.name(label)
	var pid *string
	r := rlsRow{pk: o + "/" + id, org: o, kase: id}
	if patient != "" {
		p := w.s.must(patient)
		pid, r.patient = &p, p
	}
	w.exec(`insert into app.cases (org_id, id, patient_id, title_enc, created_by)
	        select $1, $2, $3, $4, m.user_id from app.memberships m where m.org_id = $1 and m.role = 'admin' limit 1`,
		o, id, pid, rlsRandom(40))
	w.add("app.cases", r)
}

// caseOf returns the case row with id.
func (s *rlsSeed) caseOf(id string) (rlsRow, bool) {
	for _, c := range s.rows["app.cases"] {
		if c.kase == id {
			return c, true
		}
	}
	return rlsRow{}, false
}

// grant gives user a case membership of kind with perms; expires (zero:
// none) is the access end date, revoked a revoked grant.
func (w *rlsWriter) grant(org, kase, user, kind string, expires time.Time, revoked bool, perms ...string) {
	o, c, u := w.s.must(org), w.s.must(kase), w.s.must(user)
	// The org's admin gave it: nobody holds a grant they gave themselves
	// (migration 00113).
	by := w.s.must(strings.ToLower(org) + "_admin")
	var exp, rev *time.Time
	if !expires.IsZero() {
		exp = &expires
	}
	if revoked {
		at := w.s.now.Add(-time.Minute)
		rev = &at
	}
	w.exec(`insert into app.case_members (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by, revoked_at)
	        values ($1, $2, $3, $4, $5, $6, $8, $7)`, o, c, u, kind, perms, exp, rev, by)
	w.add("app.case_members", rlsRow{pk: o + "/" + c + "/" + u, org: o, kase: c, user: u, perms: perms,
		expires: expires, revoked: revoked})
}

// invite stores a pending invitation to kase, sent to the address of the
// user labelled to (a random one when to is ""); its token is "inv." and
// the case's label, so its token hash is sha256('inv.<kase>').
func (w *rlsWriter) invite(org, kase, by, to string) {
	o, c, id := w.s.must(org), w.s.must(kase), w.s.name("inv."+kase)
	bidx := rlsRandom(32)
	if to != "" {
		bidx = w.s.bidx[to]
	}
	w.exec(`insert into app.case_invites (org_id, id, case_id, email_bidx, email_enc, invitee_id, token_hash, kind,
	          permissions, access_expires_at, expires_at, created_by)
	        values ($1, $2, $3, $4, $5, gen_random_uuid(), sha256(convert_to($6, 'UTF8')), 'attorney', '{view}',
	                now() + interval '30 days', now() + interval '7 days', $7)`,
		o, id, c, bidx, rlsRandom(40), "inv."+kase, w.s.must(by))
	w.add("app.case_invites", rlsRow{pk: o + "/" + id, org: o, kase: c})
}

// document stores a document of kase (deleted if asked) with one version
// and one comment (which no party reads once it is deleted, 00315).
func (w *rlsWriter) document(org, kase, label string, deleted bool) {
	o, c, id := w.s.must(org), w.s.must(kase), w.s.name(label)
	var del *time.Time
	if deleted {
		at := w.s.now.Add(-time.Minute)
		del = &at
	}
	w.exec(`insert into app.documents (org_id, id, case_id, doc_type, requested_by, due_at, created_by, deleted_at)
	        select $1, $2, $3, 'medical_report', c.created_by, now() - interval '1 day', c.created_by, $4
	          from app.cases c where c.org_id = $1 and c.id = $3`, o, id, c, del)
	w.add("app.documents", rlsRow{pk: o + "/" + id, org: o, kase: c, deleted: deleted})
	vid, cid := w.s.name("v."+label), w.s.name("cm."+label)
	w.exec(`insert into app.document_versions (org_id, id, case_id, document_id, version, storage_key, data_key, size,
	          sha256, content_type, filename_enc, uploaded_by)
	        select $1, $2, $3, $4, 1, $8, $5, 10, $6, 'application/pdf', $7,
	               c.created_by from app.cases c where c.org_id = $1 and c.id = $3`,
		o, vid, c, id, rlsRandom(60), rlsRandom(32), rlsRandom(30), "orgs/"+o+"/obj/"+uuid.NewString())
	w.add("app.document_versions", rlsRow{pk: o + "/" + vid, org: o, kase: c, deleted: deleted})
	w.exec(`insert into app.document_comments (org_id, id, case_id, document_id, body_enc, author_id)
	        select $1, $2, $3, $4, $5, c.created_by from app.cases c where c.org_id = $1 and c.id = $3`,
		o, cid, c, id, rlsRandom(30))
	w.add("app.document_comments", rlsRow{pk: o + "/" + cid, org: o, kase: c, deleted: deleted})
	w.exec(`insert into app.document_reminders (org_id, document_id, kind) values ($1, $2, 'overdue')`, o, id)
	w.add("app.document_reminders", rlsRow{pk: o + "/" + id + "/overdue", org: o, kase: c})
}

// uploadClaim stores an upload's claim on an object key of org (migration
// 00186), as app.claim_upload would for by.
func (w *rlsWriter) uploadClaim(org, by string) {
	o := w.s.must(org)
	key := "orgs/" + o + "/obj/" + w.s.name("claim."+org)
	w.exec(`insert into app.document_uploads (org_id, storage_key, uploaded_by) values ($1, $2, $3)`, o, key, w.s.must(by))
	w.add("app.document_uploads", rlsRow{pk: o + "/" + key, org: o, user: w.s.must(by)})
}

// event appends an audit event through audit.append, as the server does for
// an access without a credential in scope (actor asserted by p_actor).
func (w *rlsWriter) event(org, action, patient, actor string, results ...string) {
	if w.err != nil {
		return
	}
	o := w.s.must(org)
	var pid *string
	if patient != "" {
		p := w.s.must(patient)
		pid = &p
	}
	res := []string{}
	for _, r := range results {
		res = append(res, w.s.must(r))
	}
	var qid int64
	err := w.tx.QueryRow(w.ctx, `select audit.append_as($1, $2, 'success', 'patient', $3::uuid, $3::uuid,
	                               p_results => $4::uuid[], p_actor => $5)`,
		o, action, pid, res, w.s.must(actor)).Scan(&qid)
	if err != nil {
		w.err = fmt.Errorf("audit.append: %w", err)
		return
	}
	r := rlsRow{pk: fmt.Sprintf("%s/%d", o, qid), org: o, results: res}
	if pid != nil {
		r.patient = *pid
	}
	w.add("audit.events", r)
	if w.integrated[o] {
		// written after its org's integration: it stays in the queue
		w.add("audit.queue", rlsRow{pk: fmt.Sprintf("%s/%d", o, qid), org: o})
		return
	}
	// The seed integrates each org's events in the order written, so an
	// event's position is its rank among its org's.
	w.eventsOf[o]++
	seq := w.eventsOf[o]
	w.add("audit.leaves", rlsRow{pk: fmt.Sprintf("%s/%d", o, seq), org: o})
	if seq == 1 {
		w.add("audit.heads", rlsRow{pk: o, org: o})
	}
}

func (w *rlsWriter) seed() {
	s := w.s
	w.org("A", false)
	w.org("B", true) // require_mfa: every role needs AAL2
	// Org B requires its patients' sessions to be device-bound: a bearer
	// session of b_pat1 is nobody, the same session in the browser's
	// cookie is b_pat1.
	w.exec(`update app.orgs set device_binding_required_for = '{patient}' where id = $1`, s.must("B"))
	s.binding[s.must("B")] = []string{"patient"}
	// A new org requires its staff's sessions bound (00080's default); org
	// A requires none, so its staff actors are about roles, not binding.
	w.exec(`update app.orgs set device_binding_required_for = '{}' where id = $1`, s.must("A"))
	w.keyset(rlsInstanceOrg, "aead")
	w.keyset(rlsInstanceOrg, "prf")

	for _, u := range []string{"a_admin", "a_lead", "a_prov1", "a_prov0", "a_pat1", "a_pat2", "a_gone", "b_admin", "b_pat1",
		"a_clinic", "a_employer", "a_attorney", "a_payer_expired", "a_payer_revoked", "a_sso"} {
		w.user(u)
	}
	w.member("A", "a_admin", "admin", false)
	w.member("A", "a_lead", "lead", false)
	w.member("A", "a_prov1", "provider", false)
	w.member("A", "a_prov0", "provider", false)
	w.member("A", "a_pat1", "patient", false)
	w.member("A", "a_pat2", "patient", false)
	w.member("A", "a_gone", "lead", true)
	w.member("B", "b_admin", "admin", false)
	w.member("B", "b_pat1", "patient", false)
	w.member("B", "a_lead", "provider", false)
	for _, u := range []string{"a_clinic", "a_employer", "a_attorney", "a_payer_expired", "a_payer_revoked"} {
		w.member("A", u, "stakeholder", false)
	}
	w.member("A", "a_sso", "provider", false) // created by SSO just in time, signs in through the IdP

	w.sink("A", "sink.a")
	w.sink("B", "sink.b")
	w.patient("A", "P1", "a_admin")
	w.patient("A", "P2", "a_admin")
	w.patient("A", "P3", "a_lead")
	w.patient("B", "Q1", "b_admin")
	w.patient("B", "Q2", "b_admin")
	w.link("A", "a_pat1", "P1")
	w.link("A", "a_pat2", "P2")
	w.link("B", "b_pat1", "Q1")
	w.careTeam("A", "a_prov1", "P1")
	w.careTeam("B", "a_lead", "Q1")
	w.entry("A", "e.P1.prov", "P1", "a_prov1")
	w.entry("A", "e.P1.pat", "P1", "a_pat1")
	w.entry("A", "e.P2", "P2", "a_lead")
	w.entry("A", "e.P3", "P3", "a_lead")
	w.entry("B", "e.Q1", "Q1", "b_admin")
	w.entry("B", "e.Q2", "Q2", "b_admin")

	w.totpFactor("A", "a_admin")
	w.totpFactor("A", "a_pat1")
	w.totpFactor("B", "b_admin")
	w.recoveryCode("A", "a_admin")
	w.passkey("A", "a_admin")
	w.passkey("A", "a_pat1")
	w.passkey("B", "b_admin")
	w.passkeyChallenge()
	w.breakGlass("A", "a_prov0", "a_admin")
	w.recoveryCode("A", "a_pat1")
	w.recoveryCode("B", "b_admin")
	w.magicLink("A", "a_pat1")
	w.magicLink("B", "b_pat1")
	w.knownDevice("A", "a_pat1")
	w.knownDevice("B", "b_pat1")
	w.attempt("pair")
	w.attempt("source")

	w.event("A", "patient.read", "P1", "a_prov1")
	w.event("A", "patient.read", "P2", "a_lead")
	w.event("A", "patient.list", "", "a_lead", "P2", "P3")
	w.event("A", "audit.read", "", "a_admin")
	w.event("B", "patient.read", "Q1", "b_admin")
	w.event("B", "patient.list", "", "b_admin", "Q1", "Q2")
	// The integrator gives them their positions, and each org's head a
	// (test) checkpoint.
	w.exec(`select audit.integrate($1)`, s.must("A"))
	w.exec(`select audit.integrate($1)`, s.must("B"))
	w.integrated = map[string]bool{s.must("A"): true, s.must("B"): true}
	// And one event each that the integrator has not taken yet.
	w.event("A", "patient.read", "P1", "a_lead")
	w.event("B", "patient.read", "Q1", "b_admin")
	for _, org := range []string{"A", "B"} {
		o := s.must(org)
		size := w.eventsOf[o]
		w.exec(`insert into audit.checkpoints (org_id, size, root_hash, note)
		        select org_id, tree_size, root_hash, 'seed' from audit.heads where org_id = $1`, o)
		w.add("audit.checkpoints", rlsRow{pk: fmt.Sprintf("%s/%d", o, size), org: o})
	}
	// A stored tree node each (the seed's logs are too short to complete
	// a subtree of 16): nobody reads them but through audit.proof_hashes.
	for _, org := range []string{"A", "B"} {
		o := s.must(org)
		w.exec(`insert into audit.tree_nodes (org_id, level, idx, hash) values ($1, 4, 7, $2)`, o, rlsRandom(32))
		w.add("audit.tree_nodes", rlsRow{pk: o + "/4/7", org: o})
	}
	w.legalHold("A", "a_admin")
	// A document retention policy each (00233).
	for _, r := range [][2]string{{"A", "a_admin"}, {"B", "b_admin"}} {
		o := s.must(r[0])
		w.exec(`insert into app.document_retention (org_id, doc_type, retain_days, updated_by) values ($1, 'wage_statement', 2555, $2)`,
			o, s.must(r[1]))
		w.add("app.document_retention", rlsRow{pk: o + "/wage_statement", org: o})
	}
	w.dsr("access.P1", "A", "access", "P1", "", "a_pat1")
	w.dsr("amend.P2", "A", "amendment", "P2", "", "a_admin")
	w.dsr("know.employer", "A", "ccpa_know", "", "a_employer", "a_admin")
	w.dsr("access.Q1", "B", "access", "Q1", "", "b_pat1")
	// A reminder of each org's access request, to its admin (00171).
	for _, r := range [][2]string{{"A", "a_admin"}, {"B", "b_admin"}} {
		o, d := s.must(r[0]), s.dsrTarget(rlsTarget{org: s.must(r[0])})
		w.exec(`insert into app.dsr_reminders (org_id, dsr_id, kind, due_at, user_id) values ($1, $2, 'overdue', now(), $3)`,
			o, d, s.must(r[1]))
		w.add("app.dsr_reminders", rlsRow{pk: o + "/" + d + "/overdue", org: o})
	}
	w.amendment("P1", "A", "P1", "a_pat1")
	w.amendment("P2", "A", "P2", "a_admin")
	w.amendment("Q1", "B", "Q1", "b_pat1")
	w.scimUser("A", "a_prov1", "okta-prov1")
	w.scimUser("B", "b_admin", "entra-b-admin")
	w.scimGroup("g.A", "A", "provider", "a_prov1")
	w.scimGroup("g.B", "B", "admin", "b_admin")
	w.ssoConnection("c.A", "A", "a_admin")
	w.ssoConnection("c.B", "B", "b_admin")
	w.ssoDomain("A", "a.test", "c.A", true)
	w.ssoDomain("A", "a-pending.test", "c.A", false)
	w.ssoDomain("B", "b.test", "c.B", true)
	// a_prov0's address, on a domain (00128) no org verified.
	w.exec(`insert into app.email_domains (email_bidx, domain_bidx) values ($1, sha256('d:other.test'))`, w.s.bidx["a_prov0"])
	w.add("app.email_domains", rlsRow{pk: hex.EncodeToString(w.s.bidx["a_prov0"])})
	w.ssoIdentity("A", "c.A", "a_prov1")
	w.ssoIdentity("A", "c.A", "a_sso")
	w.ssoIdentity("B", "c.B", "b_admin")
	s.ssoStateHash, s.ssoBinderHash = rlsRandom(32), rlsRandom(32)
	w.ssoState("A", "c.A", s.ssoStateHash, s.ssoBinderHash)
	w.ssoAssertion("A", "c.A")

	// Cases: C1 (P1, on a_prov1's care team; a_pat1's), C2 (P2), C3 (no
	// patient) in A; D1 (Q1, on a_lead's care team in B) and D2 (no
	// patient) in B. External
	// stakeholders of each kind hold grants on C1 and C2; a provider with
	// no patients holds a staff grant on C3.
	w.kase("A", "C1", "P1")
	w.kase("A", "C2", "P2")
	w.kase("A", "C3", "")
	w.kase("B", "D1", "Q1")
	w.kase("B", "D2", "") // no patient: a document b_admin may delete (Q1's access request holds D1's, 00283)
	w.grant("A", "C1", "a_clinic", "clinic", s.now.Add(time.Hour), false, "view", "upload")
	w.grant("A", "C1", "a_employer", "employer", s.now.Add(time.Hour), false, "view")
	w.grant("A", "C2", "a_attorney", "attorney", s.now.Add(time.Hour), false, "view", "download", "comment")
	w.grant("A", "C1", "a_payer_expired", "payer", s.now.Add(-time.Minute), false, "view", "download")
	w.grant("A", "C1", "a_payer_revoked", "payer", s.now.Add(time.Hour), true, "view", "download")
	w.grant("A", "C3", "a_prov0", "staff", time.Time{}, false, "view", "comment")
	w.invite("A", "C1", "a_admin", "a_attorney")
	w.invite("B", "D1", "b_admin", "")
	w.document("A", "C1", "d.C1", false)
	w.document("A", "C1", "d.C1.deleted", true)
	w.document("A", "C2", "d.C2", false)
	w.document("A", "C3", "d.C3", false)
	w.document("B", "D1", "d.D1", false)
	w.document("B", "D1", "d.D1.deleted", true)
	w.document("B", "D2", "d.D2", false)
	w.uploadClaim("A", "a_clinic")
	w.uploadClaim("B", "b_admin")

	A, B := s.must("A"), s.must("B")
	live := func(label, org, user string) string { return w.session("s."+label, org, user, rlsLive) }
	aal1 := func(label, org, user string) string {
		return w.sessionAAL("s1."+label, org, user, rlsLive, 1)
	}
	adminHash := live("a_admin", "A", "a_admin")
	unknown := hexSHA256("a token nobody was ever issued")
	s.actors = []rlsActor{
		{"a_admin", postgres.Credential{Hash: adminHash, Org: A}, s.must("a_admin")},
		{"a_admin_nohint", postgres.Credential{Hash: live("a_admin.2", "A", "a_admin")}, s.must("a_admin")},
		{"a_lead", postgres.Credential{Hash: live("a_lead", "A", "a_lead"), Org: A}, s.must("a_lead")},
		{"a_lead_in_B", postgres.Credential{Hash: live("a_lead.B", "B", "a_lead"), Org: B}, s.must("a_lead")},
		{"a_prov1", postgres.Credential{Hash: live("a_prov1", "A", "a_prov1"), Org: A}, s.must("a_prov1")},
		{"a_prov0", postgres.Credential{Hash: live("a_prov0", "A", "a_prov0"), Org: A}, s.must("a_prov0")},
		{"a_pat1", postgres.Credential{Hash: live("a_pat1", "A", "a_pat1"), Org: A}, s.must("a_pat1")},
		{"a_pat2", postgres.Credential{Hash: live("a_pat2", "A", "a_pat2"), Org: A}, s.must("a_pat2")},
		{"b_admin", postgres.Credential{Hash: live("b_admin", "B", "b_admin"), Org: B}, s.must("b_admin")},
		// Dead or forged credentials; the user is whom a buggy server would
		// believe it serves (the most powerful one).
		{"anonymous", postgres.Credential{}, s.must("a_admin")},
		{"garbage", postgres.Credential{Hash: "' or true --", Org: A}, s.must("a_admin")},
		{"unknown_token", postgres.Credential{Hash: unknown, Org: A}, s.must("a_admin")},
		{"revoked_session", postgres.Credential{Hash: w.session("s.a_admin.revoked", "A", "a_admin", rlsRevoked), Org: A}, s.must("a_admin")},
		{"absolute_expired", postgres.Credential{Hash: w.session("s.a_admin.absexp", "A", "a_admin", rlsAbsoluteExpired), Org: A}, s.must("a_admin")},
		{"idle_expired", postgres.Credential{Hash: w.session("s.a_admin.idle", "A", "a_admin", rlsIdleExpired), Org: A}, s.must("a_admin")},
		{"forged_org_hint", postgres.Credential{Hash: adminHash, Org: B}, s.must("a_admin")},
		{"revoked_member", postgres.Credential{Hash: live("a_gone", "A", "a_gone"), Org: A}, s.must("a_gone")},
		// Sessions of one factor (a magic link): admins and leads are
		// pending everywhere, every role is in org B (require_mfa); a
		// patient of org A (no policy) is not. The user is whom the
		// session belongs to.
		{"a_admin_aal1", postgres.Credential{Hash: aal1("a_admin", "A", "a_admin"), Org: A}, s.must("a_admin")},
		{"a_admin_aal1_nohint", postgres.Credential{Hash: aal1("a_admin.2", "A", "a_admin")}, s.must("a_admin")},
		{"a_lead_aal1", postgres.Credential{Hash: aal1("a_lead", "A", "a_lead"), Org: A}, s.must("a_lead")},
		{"a_pat1_aal1", postgres.Credential{Hash: aal1("a_pat1", "A", "a_pat1"), Org: A}, s.must("a_pat1")},
		{"a_lead_in_B_aal1", postgres.Credential{Hash: aal1("a_lead.B", "B", "a_lead"), Org: B}, s.must("a_lead")},
		// (In the browser's cookie: org B requires its patients' sessions
		// bound, and this actor is about the MFA bar.)
		{"b_pat1_aal1", postgres.Credential{Hash: w.browserSession("s1.b_pat1", "B", "b_pat1", 1), Org: B, DPoP: postgres.BrowserBinding}, s.must("b_pat1")},
		// Rotated tokens of a_lead's session: within the 30-second grace it
		// still names the session; after it, nobody.
		{"a_lead_rotated_in_grace", postgres.Credential{Hash: w.retiredToken("s.a_lead", 5*time.Second), Org: A}, s.must("a_lead")},
		{"a_lead_rotated_after_grace", postgres.Credential{Hash: w.retiredToken("s.a_lead", time.Minute), Org: A}, s.must("a_lead")},
		// A token a_lead's session rotated away from when it stepped up to
		// AAL2: in its grace it names the session at AAL1 (pending), not at
		// the assurance only the new token's holder earned.
		{"a_lead_rotated_aal1_in_grace", postgres.Credential{Hash: w.retiredTokenAAL("s.a_lead", 5*time.Second, 1), Org: A}, s.must("a_lead")},
		// Admin API keys: they act for the admin who made them.
		{"a_key", postgres.Credential{Hash: w.apiKey("k.a", "A", "a_admin", false, time.Time{}), Org: A}, s.must("a_admin")},
		{"a_key_nohint", postgres.Credential{Hash: w.apiKey("k.a2", "A", "a_admin", false, s.now.Add(time.Hour))}, s.must("a_admin")},
		{"a_key_revoked", postgres.Credential{Hash: w.apiKey("k.a.rev", "A", "a_admin", true, time.Time{}), Org: A}, s.must("a_admin")},
		{"a_key_expired", postgres.Credential{Hash: w.apiKey("k.a.exp", "A", "a_admin", false, s.now.Add(-time.Minute)), Org: A}, s.must("a_admin")},
		{"a_key_of_a_demoted_admin", postgres.Credential{Hash: w.apiKey("k.a.lead", "A", "a_lead", false, time.Time{}), Org: A}, s.must("a_lead")},
		// Keys of other scopes: the database, not only the routes, holds a
		// key to what its scopes name.
		{"a_key_gateway", postgres.Credential{Hash: w.apiKey("k.a.gw", "A", "a_admin", false, time.Time{}, "gateway"), Org: A}, s.must("a_admin")},
		{"a_key_audit", postgres.Credential{Hash: w.apiKey("k.a.au", "A", "a_admin", false, time.Time{}, "audit:read", "dsr"), Org: A}, s.must("a_admin")},
		{"b_key", postgres.Credential{Hash: w.apiKey("k.b", "B", "b_admin", false, time.Time{}), Org: B}, s.must("b_admin")},
		{"b_key_hint_A", postgres.Credential{Hash: w.apiKey("k.b2", "B", "b_admin", false, time.Time{}), Org: A}, s.must("b_admin")},
		// Break-glass: a provider with no patients of their own reads every
		// patient of the org for 60 minutes, then nothing.
		{"a_prov0_break_glass", postgres.Credential{Hash: w.breakGlassSession("s.a_prov0.bg", "A", "a_prov0", 5*time.Minute), Org: A}, s.must("a_prov0")},
		{"a_prov0_break_glass_expired", postgres.Credential{Hash: w.breakGlassSession("s.a_prov0.bg.old", "A", "a_prov0", 61*time.Minute), Org: A}, s.must("a_prov0")},
		// Case stakeholders: one of each kind with different permissions,
		// an expired and a revoked grant.
		{"a_clinic", postgres.Credential{Hash: live("a_clinic", "A", "a_clinic"), Org: A}, s.must("a_clinic")},
		{"a_employer", postgres.Credential{Hash: live("a_employer", "A", "a_employer"), Org: A}, s.must("a_employer")},
		{"a_attorney", postgres.Credential{Hash: live("a_attorney", "A", "a_attorney"), Org: A}, s.must("a_attorney")},
		{"a_payer_expired", postgres.Credential{Hash: live("a_payer_expired", "A", "a_payer_expired"), Org: A}, s.must("a_payer_expired")},
		{"a_payer_revoked", postgres.Credential{Hash: live("a_payer_revoked", "A", "a_payer_revoked"), Org: A}, s.must("a_payer_revoked")},
		// Sessions from SSO (amr sso): a provider the IdP created just in
		// time (AAL1, live), and an admin at AAL1 (pending: nobody).
		{"a_sso", postgres.Credential{Hash: w.ssoSession("s.a_sso", "A", "a_sso"), Org: A}, s.must("a_sso")},
		{"a_admin_sso_aal1", postgres.Credential{Hash: w.ssoSession("s.a_admin.sso", "A", "a_admin"), Org: A}, s.must("a_admin")},
		// SCIM tokens: an org's directory, no user; the user is whom a buggy
		// server would believe it serves.
		{"a_scim", postgres.Credential{Hash: w.scimToken("t.a", "A", "a_admin", false), Org: A}, s.must("a_admin")},
		{"a_scim_nohint", postgres.Credential{Hash: w.scimToken("t.a2", "A", "a_admin", false)}, s.must("a_admin")},
		{"a_scim_revoked", postgres.Credential{Hash: w.scimToken("t.a.rev", "A", "a_admin", true), Org: A}, s.must("a_admin")},
		{"b_scim", postgres.Credential{Hash: w.scimToken("t.b", "B", "b_admin", false), Org: B}, s.must("b_admin")},
		{"b_scim_hint_A", postgres.Credential{Hash: w.scimToken("t.b2", "B", "b_admin", false), Org: A}, s.must("b_admin")},
	}
	// b_pat1's browser session (handed out in the cookie only): in the
	// cookie it is b_pat1; as a bearer token nobody. A session handed out
	// as a bearer token is nobody even when sent in a cookie.
	bPat1 := w.browserSession("s.b_pat1", "B", "b_pat1", 2) // a row nobody in A may see
	bPat1Bearer := live("b_pat1.bearer", "B", "b_pat1")
	// Sessions a passkey created live only while it exists.
	provKey := w.passkey("A", "a_prov1")
	s.actors = append(s.actors,
		rlsActor{"b_pat1_bearer_unbound", postgres.Credential{Hash: bPat1, Org: B}, s.must("b_pat1")},
		rlsActor{"b_pat1_browser", postgres.Credential{Hash: bPat1, Org: B, DPoP: postgres.BrowserBinding}, s.must("b_pat1")},
		rlsActor{"b_pat1_bearer_token_in_cookie", postgres.Credential{Hash: bPat1Bearer, Org: B, DPoP: postgres.BrowserBinding}, s.must("b_pat1")},
		rlsActor{"a_prov1_passkey", postgres.Credential{Hash: w.passkeySession("s.a_prov1.pk", "A", "a_prov1", provKey), Org: A}, s.must("a_prov1")},
		rlsActor{"a_prov1_passkey_deleted", postgres.Credential{Hash: w.passkeySession("s.a_prov1.pkgone", "A", "a_prov1", rlsNew()), Org: A}, s.must("a_prov1")})
}
