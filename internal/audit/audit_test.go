package audit_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// rawEvent is an audit.append call as SQL callers make it: nullable text is
// nil for NULL, details raw JSON.
type rawEvent struct {
	Action, Outcome          string
	ObjectType               *string
	ObjectID, Patient, Actor uuid.NullUUID
	Results                  []uuid.UUID
	Request, IP, UA          *string
	Details                  string
}

// appendSQL calls audit.append directly, as the superuser (so p_actor is
// honoured), and returns the seq.
func appendSQL(t testing.TB, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, org uuid.UUID, e rawEvent) int64 {
	t.Helper()
	txt := func(s *string) pgtype.Text {
		if s == nil {
			return pgtype.Text{}
		}
		return pgtype.Text{String: *s, Valid: true}
	}
	id := func(u uuid.NullUUID) pgtype.UUID { return pgtype.UUID{Bytes: u.UUID, Valid: u.Valid} }
	results := make([]pgtype.UUID, len(e.Results))
	for i, r := range e.Results {
		results[i] = pgtype.UUID{Bytes: r, Valid: true}
	}
	if e.Details == "" {
		e.Details = "{}"
	}
	var seq int64
	err := q.QueryRow(context.Background(), `select audit.append_as(p_org => $1, p_action => $2, p_outcome => $3,
		p_object_type => $4, p_object_id => $5, p_patient => $6, p_results => $7, p_request => $8,
		p_ip => $9, p_ua => $10, p_details => $11::jsonb, p_actor => $12)`,
		org, e.Action, e.Outcome, txt(e.ObjectType), id(e.ObjectID), id(e.Patient), results,
		txt(e.Request), txt(e.IP), txt(e.UA), e.Details, id(e.Actor)).Scan(&seq)
	if err != nil {
		t.Fatalf("audit.append: %v", err)
	}
	// Sequence it at once: the tests read positions.
	var size int64
	if err := q.QueryRow(context.Background(), `select tree_size from audit.integrate($1)`, org).Scan(&size); err != nil {
		t.Fatalf("audit.integrate: %v", err)
	}
	if err := q.QueryRow(context.Background(), `select seq from audit.leaves where org_id = $1 and qid = $2`,
		org, seq).Scan(&seq); err != nil {
		t.Fatalf("seq after integration: %v", err)
	}
	return seq
}

// fill appends n simple events to org in one statement and returns the
// log's head as Verify reports it.
func fill(t testing.TB, db *postgres.DB, org uuid.UUID, n int) audit.Head {
	t.Helper()
	ctx := context.Background()
	p := seedPatients(t, db, org, 1)[0]
	_, err := db.Pool.Exec(ctx, `select audit.append_as(p_org => $1, p_action => 'patient.read', p_outcome => 'success',
		p_object_type => 'patient', p_object_id => $4, p_patient => $4,
		p_results => array[gen_random_uuid()], p_request => 'req-' || i, p_ip => '192.0.2.' || (i % 250),
		p_ua => 'test/1.0', p_details => jsonb_build_object('i', i, 'ok', i % 2 = 0), p_actor => $2)
		from generate_series(1, $3) i`, org, uuid.New(), n, p)
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	integrate(t, db, org)
	rep, err := audit.Verify(ctx, db.Pool, org, audit.VerifyOptions{})
	if err != nil {
		t.Fatalf("fill: verify clean log: %v", err)
	}
	return rep.Head()
}

// seedPatients creates org (unless it exists) and n patients in it, as the
// superuser: audit.append refuses events about a patient that is not in the
// org.
func seedPatients(t testing.TB, db *postgres.DB, org uuid.UUID, n int) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `insert into app.orgs (id, name) values ($1, 'Audit test') on conflict do nothing`, org); err != nil {
		t.Fatalf("seed org: %v", err)
	}
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
		if _, err := db.Pool.Exec(ctx, `insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`,
			org, ids[i], uuid.New()); err != nil {
			t.Fatalf("seed patient: %v", err)
		}
	}
	return ids
}

// integrate sequences every pending event of org, as the integrator would.
func integrate(t testing.TB, db *postgres.DB, org uuid.UUID) {
	t.Helper()
	for {
		var left int64
		if _, err := db.Pool.Exec(context.Background(), `select audit.integrate($1)`, org); err != nil {
			t.Fatalf("integrate: %v", err)
		}
		if err := db.Pool.QueryRow(context.Background(), `select count(*) from audit.queue where org_id = $1`,
			org).Scan(&left); err != nil || left == 0 {
			return
		}
	}
}

// fixture is an org with members and patients, for credential-bound tests.
type fixture struct {
	org                    uuid.UUID
	admin, patientUser     uuid.UUID
	adminCred, patientCred postgres.Credential
	p1, p2                 uuid.UUID // p1 is linked to patientUser
	adminSession           uuid.UUID
}

// newFixture creates, as the superuser, an org with an admin and a patient
// user (linked to patient p1; p2 is another patient), each with a live
// session whose token hash the credentials present.
func newFixture(t testing.TB, env *pgtest.Env) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{org: uuid.New(), admin: uuid.New(), patientUser: uuid.New(), p1: uuid.New(), p2: uuid.New()}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	exec(`insert into app.orgs (id, name) values ($1, 'Test practice')`, f.org)
	session := func(user uuid.UUID, role string) (postgres.Credential, uuid.UUID) {
		exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, '\x00')`, user, randBytes(32))
		exec(`insert into app.memberships (org_id, user_id, role) values ($1, $2, $3)`, f.org, user, role)
		token := hex.EncodeToString(randBytes(32))
		sum := sha256.Sum256([]byte(token))
		sid := uuid.New()
		// AAL2 (a second factor presented): admins and leads need it. Bound
		// to a DPoP key, as a new org requires of its staff (the credential
		// names the key's thumbprint, as the server sets it from a proof).
		jkt := strings.Repeat("A", 43)
		exec(`insert into app.sessions (id, org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at,
			    assurance, amr, dpop_jkt)
			values ($1, $2, $3, $4, 60, now() + interval '1 hour', 2, '{email,totp}', $5)`, sid, f.org, user, sum[:], jkt)
		return postgres.Credential{Hash: hex.EncodeToString(sum[:]), Org: f.org.String(), DPoP: jkt}, sid
	}
	f.adminCred, f.adminSession = session(f.admin, "admin")
	f.patientCred, _ = session(f.patientUser, "patient")
	for _, p := range []uuid.UUID{f.p1, f.p2} {
		exec(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`, f.org, p, f.admin)
	}
	exec(`insert into app.patient_links (org_id, user_id, patient_id) values ($1, $2, $3)`, f.org, f.patientUser, f.p1)
	return f
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func ptr(s string) *string { return &s }

func some(id uuid.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: id, Valid: true} }

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
