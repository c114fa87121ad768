package httpapi_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/audit/sink"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/gateway/phi"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/records"
	"github.com/wardhq/ward/internal/scim"
	"github.com/wardhq/ward/internal/sso"
	"github.com/wardhq/ward/internal/tenancy"
	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// phiEngine is the de-identification engine every world's gateway shares.
var phiEngine = sync.OnceValues(func() (*phi.Engine, error) { return phi.New(phi.Config{}) })

// syncBuffer is a log sink the server writes to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// world is a running API over a fresh database.
type world struct {
	t      testing.TB
	env    *pgtest.Env
	srv    *httptest.Server
	auth   *auth.Service
	ops    *auth.Service
	keys   *keystore.Store
	logs   *syncBuffer
	outbox *syncBuffer
	// integrator sequences and signs (with the world's audit key) when a
	// test calls w.integrate(); vkey verifies the checkpoints.
	integrator *audit.Integrator
	vkey       string
	// inst is the instance key set (it seals the sinks' secrets).
	inst *envelope.OrgKeys
	// base is the public base URL the services were given; root the API's
	// (the URL a DPoP proof's htu names).
	base, root string
	// cases is the case repository over blobs (a directory, or S3 with
	// withBlobStore); caseJobs its background jobs as ward_ops.
	cases    *cases.Service
	blobs    blob.Store
	caseJobs *cases.Jobs
	// unbound: see withUnboundOrgs.
	unbound bool
	// node starts another server on the world's database and returns its
	// URL: a second `ward serve` behind the same load balancer.
	node func() string
	// dpop holds the DPoP keys of the world's client: the keys by
	// thumbprint, and which key (thumbprint, "" for none) each token
	// presented so far is bound to.
	dpop struct {
		sync.Mutex
		keys  map[string]dpopKey
		bound map[string]string
	}
}

// integrate runs one integrator pass: pending events get their positions
// and every grown head a signed checkpoint.
func (w *world) integrate() {
	w.t.Helper()
	if _, err := w.integrator.Once(context.Background()); err != nil {
		w.t.Fatalf("integrate: %v", err)
	}
}

type worldConfig struct {
	auth   auth.Config
	policy auth.InstancePolicy
	api    httpapi.Config
	mailer auth.Mailer
	// blobs, when set, replaces the directory blob store.
	blobs func(t testing.TB) blob.Store
	// localhost names the server http://localhost:PORT rather than by its
	// IP address, which cannot be a WebAuthn RP ID.
	localhost bool
	// sso configures the SSO service (its BaseURL is the world's).
	sso sso.Config
	// gateway configures the LLM gateway (Keys default to the fake
	// upstream's for "anthropic").
	gateway gateway.Config
	// unbound: createOrg lifts the org's device-binding policy before its
	// admin signs in (withUnboundOrgs).
	unbound bool
	// appPool, when set, sizes the server's ward_app pool (withAppPool).
	appPool int32
	// cases configures the case service (its BaseURL is the world's).
	cases cases.Config
}

type worldOption func(*worldConfig)

// withAppPool gives the server a ward_app pool of n connections, for the
// tests of what a request holds while it waits.
func withAppPool(n int32) worldOption { return func(c *worldConfig) { c.appPool = n } }

func withCasesConfig(f func(*cases.Config)) worldOption { return func(c *worldConfig) { f(&c.cases) } }

func withBlobStore(f func(t testing.TB) blob.Store) worldOption {
	return func(c *worldConfig) { c.blobs = f }
}

func withLocalhost() worldOption { return func(c *worldConfig) { c.localhost = true } }

func withSSOConfig(f func(*sso.Config)) worldOption { return func(c *worldConfig) { f(&c.sso) } }

func withMailer(m auth.Mailer) worldOption { return func(c *worldConfig) { c.mailer = m } }

func withAuthConfig(f func(*auth.Config)) worldOption { return func(c *worldConfig) { f(&c.auth) } }

// withPolicy sets the instance policy (in the database) before the test.
func withPolicy(f func(*auth.InstancePolicy)) worldOption {
	return func(c *worldConfig) { f(&c.policy) }
}

func withAPIConfig(f func(*httpapi.Config)) worldOption { return func(c *worldConfig) { f(&c.api) } }

// withUnboundOrgs makes the world's orgs require no device binding, so
// their members sign in without DPoP and present plain bearer tokens: for
// the tests of what a bearer client or a third-party SDK sends (header
// parsing, strict JSON, CSRF), which are not about device binding.
func withUnboundOrgs() worldOption { return func(c *worldConfig) { c.unbound = true } }

func withGatewayConfig(f func(*gateway.Config)) worldOption {
	return func(c *worldConfig) { f(&c.gateway) }
}

func newWorld(t testing.TB, opts ...worldOption) *world {
	t.Helper()
	env := pgtest.New(t)
	root, err := envelope.LoadOrCreateLocalRoot(filepath.Join(t.TempDir(), "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, env: env, keys: keystore.New(envelope.NewKeyring(root, envelope.Config{})),
		logs: &syncBuffer{}, outbox: &syncBuffer{}}
	w.dpop.keys, w.dpop.bound = map[string]dpopKey{}, map[string]string{}
	if err := w.keys.EnsureInstance(context.Background(), env.Super); err != nil {
		t.Fatal(err)
	}
	if err := w.keys.EnsureSigner(context.Background(), env.Super); err != nil {
		t.Fatal(err)
	}
	signer, vkey, err := w.keys.Signer(context.Background(), env.App)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := w.keys.Instance(context.Background(), env.App)
	if err != nil {
		t.Fatal(err)
	}
	w.inst = inst
	log := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wc := worldConfig{mailer: mail.NewConsole(w.outbox)}
	// Every test client comes from 127.0.0.1 and signs in many members:
	// the per-address sign-in limit is off unless a test sets it
	// (TestSignInRateLimit does).
	wc.api.SignInRateLimit = -1
	// The tests' identity providers are https servers on 127.0.0.1: the
	// SSO address guard lets that one address through and trusts their
	// certificate (TestSSOAddressGuard takes both away).
	wc.sso.AllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	wc.sso.RootCAs = testRoots()
	for _, o := range opts {
		o(&wc)
	}
	if wc.appPool > 0 {
		small, err := postgres.Open(context.Background(), env.URL("ward_app"), postgres.MaxConns(wc.appPool))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(small.Close)
		env.App = small
	}
	if err := auth.SetInstancePolicy(context.Background(), env.Super, wc.policy); err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewUnstartedServer(nil)
	wc.auth.BaseURL = "http://" + w.srv.Listener.Addr().String()
	if wc.localhost {
		wc.auth.BaseURL = "http://localhost:" + strconv.Itoa(w.srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	w.base = wc.auth.BaseURL
	if wc.api.BaseURL == "" {
		wc.api.BaseURL = wc.auth.BaseURL
	}
	w.root = strings.TrimSuffix(wc.api.BaseURL, "/")
	w.unbound = wc.unbound
	w.auth = auth.NewService(env.App, w.keys, wc.mailer, wc.auth, log)
	w.ops = auth.NewService(env.Super, w.keys, wc.mailer, wc.auth, log)
	engine, err := phiEngine()
	if err != nil {
		t.Fatal(err)
	}
	if wc.blobs != nil {
		w.blobs = wc.blobs(t)
	} else if w.blobs, err = blob.NewDir(filepath.Join(t.TempDir(), "blobs")); err != nil {
		t.Fatal(err)
	}
	wc.cases.BaseURL = w.base
	w.cases = cases.NewService(env.App, w.keys, w.blobs, wc.mailer, wc.cases, log)
	opsDB, err := postgres.OpenAs(context.Background(), env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(opsDB.Close)
	w.caseJobs = cases.NewJobs(opsDB, w.keys, w.blobs, wc.mailer, w.base, log)
	if wc.gateway.Keys == nil {
		wc.gateway.Keys = map[string]string{"anthropic": upstreamKey}
	}
	handler := func(a *auth.Service) http.Handler {
		return httpapi.NewServer(wc.api, httpapi.Deps{
			Auth: a, Records: records.NewService(env.App, w.keys, records.Config{Mailer: wc.mailer, BaseURL: w.base}, log), Cases: w.cases,
			Audit: audit.NewService(env.App, log), AuditKey: vkey, Ready: env.App.Pool.Ping, Log: log,
			Export:  export.NewService(env.App, signer, export.Options{Site: "ward-test"}, log),
			Sinks:   sink.NewService(env.App, inst, log),
			Gateway: gateway.NewService(env.App, engine, wc.gateway, log),
			SCIM:    scim.NewService(env.App, w.keys, scim.Config{BaseURL: wc.auth.BaseURL}, log),
			SSO:     sso.NewService(env.App, w.keys, ssoConfig(wc), log)})
	}
	w.srv.Config.Handler = handler(w.auth)
	// Another node: the same database, services of its own (their caches,
	// the gateway's memory of its rate limits), another listener.
	w.node = func() string {
		n := httptest.NewServer(handler(auth.NewService(env.App, w.keys, wc.mailer, wc.auth, log)))
		t.Cleanup(n.Close)
		return n.URL
	}
	w.integrator = audit.NewIntegrator(env.App, log, 0)
	w.integrator.SetSigner(signer, time.Nanosecond)
	w.vkey = vkey
	w.srv.Start()
	t.Cleanup(w.srv.Close)
	return w
}

// org is an org with a signed-in member of each role.
type org struct {
	ID                       uuid.UUID
	Admin, Lead, Prov, Prov2 *member
	PatUser, PatUser2        *member
	P1, P2                   uuid.UUID // patients; Prov is assigned to P1, PatUser is P1, PatUser2 is P2
}

type member struct {
	ID    uuid.UUID
	Email string
	Token string
}

// createOrg creates an org through the operator path and signs its admin
// in with an operator link.
func (w *world) createOrg(name string) *org {
	w.t.Helper()
	ctx := context.Background()
	email := strings.ToLower(strings.ReplaceAll(name, " ", "")) + "-admin@example.test"
	created, err := tenancy.CreateOrg(ctx, w.env.Super, w.keys, name, email)
	if err != nil {
		w.t.Fatalf("create org: %v", err)
	}
	id, admin := created.ID, created.AdminID
	if w.unbound {
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.orgs set device_binding_required_for = '{}' where id = $1`, id); err != nil {
			w.t.Fatal(err)
		}
	}
	o := &org{ID: id, Admin: &member{ID: admin, Email: email}}
	o.Admin.Token = w.operatorSignIn(email, id)
	return o
}

// operatorSignIn signs email in through `ward login-link`'s path and
// raises the session to AAL2 as if a second factor had been presented (as
// the superuser: most tests are not about second factors; the tests of
// TOTP and the assurance policy present real ones).
func (w *world) operatorSignIn(email string, org uuid.UUID) string {
	w.t.Helper()
	token := w.signInAAL1(email, org)
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.sessions set assurance = 2, amr = '{email,totp}' where token_hash = sha256($1::bytea)`,
		[]byte(token)); err != nil {
		w.t.Fatal(err)
	}
	return token
}

// signInAAL1 signs email in through `ward login-link`'s path: a session of
// one factor, pending for admins and leads.
func (w *world) signInAAL1(email string, org uuid.UUID) string {
	w.t.Helper()
	url, err := w.ops.OperatorLink(context.Background(), w.env.Super, email, uuid.NullUUID{UUID: org, Valid: true})
	if err != nil {
		w.t.Fatalf("operator link: %v", err)
	}
	token := url[strings.LastIndex(url, "=")+1:]
	// The client binds the session to a DPoP key when the org requires
	// the member's role to (device_binding_required_for: staff, in a new
	// org), as an API client of such an org must.
	var bind bool
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select m.role = any (o.device_binding_required_for) from app.magic_links l
		   join app.memberships m on m.org_id = l.org_id and m.user_id = l.user_id
		   join app.orgs o on o.id = l.org_id
		  where l.token_hash = sha256($1::bytea)`, []byte(token)).Scan(&bind); err != nil {
		w.t.Fatalf("link's member: %v", err)
	}
	var hdr []string
	if bind {
		hdr = w.signInProof("/v1/auth/magic")
	}
	var s struct {
		Token     string `json:"token"`
		TokenType string `json:"token_type"`
	}
	resp, b := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": token}, hdr...)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil || s.Token == "" ||
		(s.TokenType == "DPoP") != bind {
		w.t.Fatalf("sign-in (DPoP %v): %d %s", bind, resp.StatusCode, b)
	}
	return s.Token
}

// dpopKey is a client's DPoP key: it signs proofs (RFC 9449 §4).
type dpopKey struct {
	t   testing.TB
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func newDPoPKey(t testing.TB, alg jose.SignatureAlgorithm) dpopKey {
	t.Helper()
	var k crypto.Signer
	var err error
	if alg == jose.EdDSA {
		_, k, err = ed25519.GenerateKey(rand.Reader)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dpopKey{t: t, alg: alg, key: k}
}

// jkt is the key's thumbprint (RFC 7638, SHA-256, base64url).
func (k dpopKey) jkt() string {
	tp, err := (&jose.JSONWebKey{Key: k.key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		k.t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// proof signs a proof for method and url (absolute, as the client
// addresses the server), with ath for token when it is not empty. edit
// changes the claims before signing.
func (k dpopKey) proof(method, url, token string, edit func(map[string]any)) string {
	k.t.Helper()
	claims := map[string]any{"jti": uuid.NewString(), "htm": method, "htu": url, "iat": time.Now().Unix()}
	if token != "" {
		claims["ath"] = auth.TokenHash(token)
	}
	if edit != nil {
		edit(claims)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		k.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		k.t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		k.t.Fatal(err)
	}
	return out
}

// signInProof is the DPoP header of a sign-in at path by a new key of the
// world's client: the session it creates is bound to the key, and
// w.request signs every later request with it.
func (w *world) signInProof(path string) []string {
	k := newDPoPKey(w.t, jose.ES256)
	w.dpop.Lock()
	w.dpop.keys[k.jkt()] = k
	w.dpop.Unlock()
	return []string{"DPoP", k.proof("POST", w.root+path, "", nil)}
}

// boundKey is the key of the world's client that token's session is bound
// to, if any (as the superuser; a rotated token names its session too).
func (w *world) boundKey(token string) (dpopKey, bool) {
	w.t.Helper()
	w.dpop.Lock()
	defer w.dpop.Unlock()
	jkt, seen := w.dpop.bound[token]
	if !seen {
		if err := w.env.Super.Pool.QueryRow(context.Background(),
			`select coalesce((select s.dpop_jkt from app.sessions s where s.token_hash = sha256($1::bytea)),
			                 (select s.dpop_jkt from app.session_tokens t join app.sessions s on s.id = t.session_id
			                   where t.token_hash = sha256($1::bytea)), '')`, []byte(token)).Scan(&jkt); err != nil {
			w.t.Fatalf("token's binding: %v", err)
		}
		w.dpop.bound[token] = jkt
	}
	k, ok := w.dpop.keys[jkt]
	return k, ok && jkt != ""
}

// cred is token's credential for a transaction as ward_app, with the
// thumbprint of the key its session is bound to (as the server sets it
// from a verified proof).
func (w *world) cred(token string) postgres.Credential {
	c := postgres.Credential{Hash: identity.HashToken(token)}
	if k, ok := w.boundKey(token); ok {
		c.DPoP = k.jkt()
	}
	return c
}

// addMember adds a member as the org's admin and signs them in.
func (w *world) addMember(o *org, email string, role identity.Role) *member {
	w.t.Helper()
	var r struct {
		UserID uuid.UUID `json:"user_id"`
	}
	// No invitation mail: the tests sign members in with operator links.
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": email, "role": role, "invite": false},
		http.StatusCreated, &r)
	return &member{ID: r.UserID, Email: email, Token: w.operatorSignIn(email, o.ID)}
}

// populate fills an org with the members and patients the tests use.
func (w *world) populate(o *org, prefix string) {
	w.t.Helper()
	o.Lead = w.addMember(o, prefix+"-lead@example.test", identity.RoleLead)
	o.Prov = w.addMember(o, prefix+"-prov@example.test", identity.RoleProvider)
	o.Prov2 = w.addMember(o, prefix+"-prov2@example.test", identity.RoleProvider)
	o.PatUser = w.addMember(o, prefix+"-pat@example.test", identity.RolePatient)
	o.PatUser2 = w.addMember(o, prefix+"-pat2@example.test", identity.RolePatient)
	o.P1 = w.createPatient(o.Lead.Token, map[string]any{"name": prefix + " Patient One", "dob": "1970-03-04", "mrn": prefix + "-MRN-1"})
	o.P2 = w.createPatient(o.Lead.Token, map[string]any{"name": prefix + " Patient Two", "dob": "1981-05-06", "mrn": prefix + "-MRN-2"})
	w.do("PUT", "/v1/patients/"+o.P1.String()+"/care-team/"+o.Prov.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	w.do("PUT", "/v1/patients/"+o.P1.String()+"/users/"+o.PatUser.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	w.do("PUT", "/v1/patients/"+o.P2.String()+"/users/"+o.PatUser2.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
}

func (w *world) createPatient(token string, body map[string]any) uuid.UUID {
	w.t.Helper()
	var p struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/patients", token, body, http.StatusCreated, &p)
	return p.ID
}

// checksSince returns the credential checks the server counted since
// before (auth.Service.CheckStats).
func (w *world) checksSince(before auth.CheckStats) auth.CheckStats {
	now := w.auth.CheckStats()
	return auth.CheckStats{Kept: now.Kept - before.Kept, Full: now.Full - before.Full,
		Stale: now.Stale - before.Stale, Alone: now.Alone - before.Alone}
}

// reportP50 sorts lat in place and reports its median, in ms, as the
// metric unit.
func reportP50(b *testing.B, lat []time.Duration, unit string) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, unit)
}

// request sends a request and returns the response with its body read.
func (w *world) request(method, path, token string, body any, hdr ...string) (*http.Response, []byte) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w.authorize(req, token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return httpapi.SendForTest(w.t, w.srv.Client(), req)
}

// authorize presents token on req: with a fresh DPoP proof when its
// session is bound to a key of the world's client, else as a bearer token.
func (w *world) authorize(req *http.Request, token string) {
	w.t.Helper()
	if token == "" {
		return
	}
	if k, ok := w.boundKey(token); ok {
		req.Header.Set("Authorization", "DPoP "+token)
		req.Header.Set("DPoP", k.proof(req.Method, w.root+req.URL.EscapedPath(), token, nil))
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
}

// do sends a request, requires the status, and decodes the body into out.
func (w *world) do(method, path, token string, body any, want int, out any) []byte {
	w.t.Helper()
	resp, b := w.request(method, path, token, body)
	if resp.StatusCode != want {
		w.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: decode: %v: %s", method, path, err, b)
		}
	}
	return b
}

// mistype returns s with its byte at i replaced by another of the token
// alphabet: never s itself (a fixed replacement equals the original byte
// once in 64 tokens, and the "wrong" credential then works).
func mistype(s string, i int) string {
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// problem decodes a problem document.
func problemCode(t *testing.T, b []byte) string {
	t.Helper()
	var p httpapi.Problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("not a problem document: %s", b)
	}
	return p.Code
}

// auditCount counts org's events with action and outcome (as superuser).
func (w *world) auditCount(org uuid.UUID, action, outcome string) int {
	w.t.Helper()
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select count(*) from audit.events where org_id = $1 and action = $2 and outcome = $3`, org, action, outcome).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// testRoots trusts the certificate of every httptest TLS server (they
// share one, for 127.0.0.1, ::1 and example.com).
var testRoots = sync.OnceValue(func() *x509.CertPool {
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return roots
})

func ssoConfig(wc worldConfig) sso.Config {
	c := wc.sso
	c.BaseURL = wc.auth.BaseURL
	return c
}
