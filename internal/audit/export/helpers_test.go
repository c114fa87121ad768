package export_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// validators is scripts/validators, where scripts/deps.sh installs the
// independent validators (npm ci).
func validators(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "validators")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: run scripts/deps.sh validators")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ajv")); err != nil {
		t.Fatal("the export validators are not installed: run scripts/deps.sh validators")
	}
	return dir
}

// validate runs scripts/validators/validate.mjs with args and returns its
// output and whether it exited 0.
func validate(t testing.TB, args ...string) (string, bool) {
	t.Helper()
	dir := validators(t)
	cmd := exec.Command("node", append([]string{filepath.Join(dir, "validate.mjs")}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("node: %v", err)
		}
		return string(out), false
	}
	return string(out), true
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// seeded is an org with a varied log.
type seeded struct {
	org      uuid.UUID
	patients []uuid.UUID
	actors   []uuid.UUID
	hostile  string // a user agent a spreadsheet would run
	events   int
}

type rawEvent struct {
	action, outcome string
	objectType      string
	object, patient uuid.NullUUID
	actor           uuid.NullUUID
	results         []uuid.UUID
	ua, ip          string
	details         string
	disclosure      string
}

func some(id uuid.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: id, Valid: true} }

// appendAs records e in org's log as the superuser (audit.append_as, so
// the actor is honoured) and sequences it.
func appendAs(t testing.TB, db *postgres.DB, org uuid.UUID, e rawEvent) {
	t.Helper()
	txt := func(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }
	if e.details == "" {
		e.details = "{}"
	}
	var disc any
	if e.disclosure != "" {
		disc = e.disclosure
	}
	results := e.results
	if results == nil {
		results = []uuid.UUID{}
	}
	_, err := db.Pool.Exec(context.Background(), `select audit.append_as(p_org => $1, p_action => $2, p_outcome => $3,
		p_object_type => $4, p_object_id => $5, p_patient => $6, p_results => $7, p_request => $8, p_ip => $9,
		p_ua => $10, p_details => $11::jsonb, p_actor => $12, p_disclosure => $13::jsonb)`,
		org, e.action, e.outcome, txt(e.objectType), e.object, e.patient, results, "req-"+uuid.NewString()[:8],
		txt(e.ip), txt(e.ua), e.details, e.actor, disc)
	if err != nil {
		t.Fatalf("append %s: %v", e.action, err)
	}
}

func integrate(t testing.TB, db *postgres.DB, org uuid.UUID) {
	t.Helper()
	for {
		var n int
		if err := db.Pool.QueryRow(context.Background(), `select sequenced from audit.integrate($1)`, org).Scan(&n); err != nil {
			t.Fatalf("integrate: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// seed creates an org with patients and a log of every kind of event the
// formats map differently.
func seed(t testing.TB, db *postgres.DB) seeded {
	t.Helper()
	ctx := context.Background()
	s := seeded{org: uuid.New(), hostile: `=HYPERLINK("http://example.invalid/x","click")`}
	if _, err := db.Pool.Exec(ctx, `insert into app.orgs (id, name) values ($1, 'Export test')`, s.org); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		p := uuid.New()
		if _, err := db.Pool.Exec(ctx, `insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`,
			s.org, p, uuid.New()); err != nil {
			t.Fatal(err)
		}
		s.patients = append(s.patients, p)
	}
	s.actors = []uuid.UUID{uuid.New(), uuid.New()}
	a0, a1 := some(s.actors[0]), some(s.actors[1])
	p0, p1 := some(s.patients[0]), some(s.patients[1])
	events := []rawEvent{
		{action: "auth.signin", outcome: "success", actor: a0, ip: "192.0.2.10", ua: "Mozilla/5.0 (test)"},
		{action: "auth.signin", outcome: "denied", ip: "198.51.100.7", ua: "curl/8.0", details: `{"reason":"bad_link"}`},
		{action: "auth.mfa.verify", outcome: "success", actor: a0, ip: "192.0.2.10"},
		{action: "patient.create", outcome: "success", actor: a0, objectType: "patient", object: p0, patient: p0, ip: "192.0.2.10"},
		{action: "patient.read", outcome: "success", actor: a0, objectType: "patient", object: p0, patient: p0, ip: "2001:db8::1", ua: s.hostile},
		{action: "patient.read", outcome: "denied", actor: a1, objectType: "patient", object: p1, patient: p1, details: `{"reason":"forbidden","route":"GET /v1/patients/{id}"}`},
		{action: "patient.update", outcome: "success", actor: a1, objectType: "patient", object: p1, patient: p1, details: `{"fields":"-1+2"}`},
		{action: "patient.list", outcome: "success", actor: a1, results: []uuid.UUID{s.patients[0], s.patients[2]}, details: `{"limit":50,"q":"@cmd"}`},
		{action: "entry.list", outcome: "success", actor: a0, patient: p0, details: `{"count":2}`},
		{action: "membership.add", outcome: "success", actor: a0, objectType: "user", object: a1},
		{action: "auth.api_key.create", outcome: "success", actor: a0, objectType: "api_key", object: some(uuid.New())},
		{action: "org.session_policy.update", outcome: "success", actor: a0, objectType: "org", object: some(s.org)},
		{action: "session.revoke", outcome: "success", actor: a1, objectType: "session", object: some(uuid.New())},
		{action: "ai.invoke", outcome: "success", actor: a1, patient: p1, details: `{"model":"m","tokens_in":12}`,
			disclosure: `{"recipient":"Example Subprocessor","purpose":"summary"}`},
		{action: "audit.read", outcome: "success", actor: a0, details: `{"count":10,"after":0}`},
		{action: "request.denied", outcome: "denied", actor: a1, details: `{"reason":"step_up_required","route":"POST /v1/members"}`},
	}
	for _, e := range events {
		appendAs(t, db, s.org, e)
	}
	integrate(t, db, s.org)
	s.events = len(events)
	return s
}

// checkpoint signs org's head with a new key, records it and returns the
// key pair.
func checkpoint(t testing.TB, db *postgres.DB, org uuid.UUID) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	signWith(t, db, org, signer)
	return signer, vkey
}

// signWith checkpoints org's head with signer.
func signWith(t testing.TB, db *postgres.DB, org uuid.UUID, signer note.Signer) audit.Checkpoint {
	t.Helper()
	ctx := context.Background()
	var size int64
	var root []byte
	if err := db.Pool.QueryRow(ctx, `select tree_size, root_hash from audit.heads where org_id = $1`, org).Scan(&size, &root); err != nil {
		t.Fatal(err)
	}
	var r audit.Hash
	copy(r[:], root)
	cp, err := audit.SignCheckpoint(signer, audit.Origin(org), size, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `select audit.record_checkpoint($1, $2)`, org, cp.Note); err != nil {
		t.Fatal(err)
	}
	return cp
}

func lines(b []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}
