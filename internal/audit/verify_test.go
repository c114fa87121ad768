package audit_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// attack runs sql as a superuser who has switched the audit triggers off
// (session_replication_role = replica), the way a DBA attacker would.
func attack(t *testing.T, db *postgres.DB, org uuid.UUID, sqls ...string) {
	t.Helper()
	err := db.InTx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		for _, sql := range sqls {
			if _, err := tx.Exec(ctx, sql, org); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("attack: %v", err)
	}
}

// atSeq is the SQL condition naming org $1's event at position seq: an
// event's position is its leaf's (audit.leaves), the event row holds none.
func atSeq(seq int) string {
	return fmt.Sprintf("org_id = $1 and qid = (select l.qid from audit.leaves l where l.org_id = $1 and l.seq = %d)", seq)
}

// rewriteFrom recomputes, in Go, the hashes of every event from seq from
// on and the head row at size keep (dropping events beyond it), as an
// attacker who knows the algorithm would after editing or truncating.
func rewriteFrom(t *testing.T, db *postgres.DB, org uuid.UUID, from, keep int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := audit.ReadRows(ctx, db.Pool, org)
	if err != nil {
		t.Fatal(err)
	}
	tree := audit.NewTree()
	chain := audit.ChainSeed(audit.Origin(org))
	err = db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from audit.events e using audit.leaves l
			where e.org_id = $1 and l.org_id = $1 and l.qid = e.qid and l.seq > $2`, org, keep); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from audit.leaves where org_id = $1 and seq > $2`, org, keep); err != nil {
			return err
		}
		for _, r := range rows[:keep] {
			canon, err := audit.Canonical(r)
			if err != nil {
				return err
			}
			leaf := audit.LeafHash(canon)
			chain = audit.ChainNext(chain, leaf)
			tree.Append(leaf)
			if r.Seq < from {
				continue
			}
			if _, err := tx.Exec(ctx, `update audit.events e set canonical = $3, leaf_hash = $4 from audit.leaves l
				where e.org_id = $1 and l.org_id = $1 and l.qid = e.qid and l.seq = $2`, org, r.Seq, canon, leaf[:]); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `update audit.leaves set chain_hash = $3 where org_id = $1 and seq = $2`,
				org, r.Seq, chain[:]); err != nil {
				return err
			}
		}
		var frontier [][]byte
		for _, h := range tree.Frontier() {
			frontier = append(frontier, h[:])
		}
		root := tree.Root()
		_, err := tx.Exec(ctx, `update audit.heads set tree_size = $2, chain_hash = $3, frontier = $4, root_hash = $5
			where org_id = $1`, org, keep, chain[:], frontier, root[:])
		return err
	})
	if err != nil {
		t.Fatalf("rewrite: %v", err)
	}
}

// Every kind of tampering a superuser can do is detected and the first bad
// seq named; the two that rewrite the head consistently are caught only
// with a head kept outside the database.
func TestVerifyDetectsTampering(t *testing.T) {
	const n = 20
	tests := []struct {
		name     string
		tamper   func(t *testing.T, db *postgres.DB, org uuid.UUID)
		firstBad int64
		reason   string
		// onlyKnown: the log is self-consistent and verifies without a
		// known head; with it, the error wraps ErrTruncated.
		onlyKnown bool
	}{
		{name: "update a column", firstBad: 7, reason: "columns differ", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.events set outcome = 'denied' where `+atSeq(7))
		}},
		{name: "update details", firstBad: 7, reason: "columns differ", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.events set details = details || '{"i": 99}' where `+atSeq(7))
		}},
		{name: "update actor", firstBad: 3, reason: "columns differ", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.events set actor_id = gen_random_uuid() where `+atSeq(3))
		}},
		{name: "update canonical", firstBad: 7, reason: "columns differ", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.events set canonical = (select canonical from audit.log where org_id = $1 and seq = 8)
				where `+atSeq(7))
		}},
		{name: "update column and canonical", firstBad: 7, reason: "leaf hash", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.events set ip = '203.0.113.66',
				canonical = convert_to(audit.jcs(audit.event_json_v2(org_id, at, action, outcome, actor_id, actor_kind, session_id,
				  object_type, object_id, patient_id, result_ids, request_id, '203.0.113.66', user_agent, details,
				  credential_kind, credential_id, device, case_id, disclosure, break_glass)), 'UTF8')
				where `+atSeq(7))
		}},
		{name: "update column, canonical and leaf", firstBad: 7, reason: "chain hash", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.events set ip = '203.0.113.66',
				canonical = convert_to(audit.jcs(audit.event_json_v2(org_id, at, action, outcome, actor_id, actor_kind, session_id,
				  object_type, object_id, patient_id, result_ids, request_id, '203.0.113.66', user_agent, details,
				  credential_kind, credential_id, device, case_id, disclosure, break_glass)), 'UTF8')
				where `+atSeq(7))
			attack(t, db, org, `update audit.events set leaf_hash = sha256('\x00'::bytea || canonical) where `+atSeq(7))
		}},
		{name: "delete a row", firstBad: 7, reason: "seq 7 is missing", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `delete from audit.events where `+atSeq(7), `delete from audit.leaves where org_id = $1 and seq = 7`)
		}},
		{name: "delete the first row", firstBad: 1, reason: "seq 1 is missing", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `delete from audit.events where `+atSeq(1), `delete from audit.leaves where org_id = $1 and seq = 1`)
		}},
		{name: "delete the last row", firstBad: n, reason: "head records 20 events", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `delete from audit.events where `+atSeq(20), `delete from audit.leaves where org_id = $1 and seq = 20`)
		}},
		{name: "insert a forged row after the head", firstBad: n + 1, reason: "beyond the head", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			// A well-formed event with correct leaf and chain hashes.
			attack(t, db, org, `with src as (select * from audit.log where org_id = $1 and seq = 20),
				ins as (insert into audit.events (org_id, at, action, outcome, actor_id, actor_kind,
				  object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details, canonical, leaf_hash,
				  v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
				select org_id, at, action, outcome, actor_id, actor_kind, object_type, object_id, patient_id, result_ids,
				       request_id, ip, user_agent, details, canonical, leaf_hash,
				       v, credential_kind, credential_id, device, case_id, disclosure, break_glass
				  from src returning qid)
				insert into audit.leaves (org_id, seq, qid, chain_hash)
				select src.org_id, 21, ins.qid, sha256('\x02'::bytea || src.chain_hash || src.leaf_hash) from src, ins`)
		}},
		{name: "insert a forged row by renumbering", firstBad: 5, reason: "chain hash", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.leaves set seq = seq + 100 where org_id = $1 and seq >= 5`)
			attack(t, db, org, `update audit.leaves set seq = seq - 99 where org_id = $1 and seq >= 105`)
			// A copy of event 4, a well-formed event with its own hashes.
			attack(t, db, org, `with src as (select * from audit.log where org_id = $1 and seq = 4),
				ins as (insert into audit.events (org_id, at, action, outcome, actor_id, actor_kind, session_id, object_type,
				  object_id, patient_id, result_ids, request_id, ip, user_agent, details, canonical, leaf_hash,
				  v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
				select org_id, at, action, outcome, actor_id, actor_kind, session_id, object_type, object_id, patient_id,
				       result_ids, request_id, ip, user_agent, details, canonical, leaf_hash,
				       v, credential_kind, credential_id, device, case_id, disclosure, break_glass
				  from src returning qid)
				insert into audit.leaves (org_id, seq, qid, chain_hash) select src.org_id, 5, ins.qid, src.chain_hash from src, ins`)
		}},
		{name: "swap two rows", firstBad: 5, reason: "chain hash", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.events e set at = o.at, action = o.action, outcome = o.outcome, actor_id = o.actor_id,
				  actor_kind = o.actor_kind, session_id = o.session_id, object_type = o.object_type, object_id = o.object_id,
				  patient_id = o.patient_id, result_ids = o.result_ids, request_id = o.request_id, ip = o.ip,
				  user_agent = o.user_agent, details = o.details, canonical = o.canonical, leaf_hash = o.leaf_hash
				from audit.log o, audit.leaves l
				where e.org_id = $1 and o.org_id = $1 and l.org_id = $1 and l.qid = e.qid
				  and ((l.seq = 5 and o.seq = 9) or (l.seq = 9 and o.seq = 5))`,
				`update audit.leaves l set chain_hash = o.chain_hash from audit.leaves o
				where l.org_id = $1 and o.org_id = $1 and ((l.seq = 5 and o.seq = 9) or (l.seq = 9 and o.seq = 5))`)
		}},
		{name: "take an event out of the queue", firstBad: n + 1, reason: "neither a position nor a place in the queue",
			tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
				attack(t, db, org, `select audit.append_as(p_org => $1, p_action => 'audit.read', p_outcome => 'success',
					p_actor => gen_random_uuid())`, `delete from audit.queue where org_id = $1`)
			}},
		{name: "edit the head's root", firstBad: n, reason: "root differs", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.heads set root_hash = sha256(root_hash) where org_id = $1`)
		}},
		{name: "edit the head's chain", firstBad: n, reason: "chain hash differs", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `update audit.heads set chain_hash = sha256(chain_hash) where org_id = $1`)
		}},
		{name: "delete the head", firstBad: 1, reason: "beyond the head", tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
			attack(t, db, org, `delete from audit.heads where org_id = $1`)
		}},
		{name: "delete the whole log", firstBad: 1, reason: "fewer than the known head", onlyKnown: true,
			tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
				attack(t, db, org, `delete from audit.events where org_id = $1`)
				attack(t, db, org, `delete from audit.leaves where org_id = $1`)
				attack(t, db, org, `delete from audit.heads where org_id = $1`)
			}},
		{name: "truncate the tail and rewrite the head", firstBad: 13, reason: "fewer than the known head", onlyKnown: true,
			tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
				rewriteFrom(t, db, org, 13, 12)
			}},
		{name: "edit a row and rewrite every later hash and the head", firstBad: n, reason: "differs from the known head", onlyKnown: true,
			tamper: func(t *testing.T, db *postgres.DB, org uuid.UUID) {
				attack(t, db, org, `update audit.events set outcome = 'denied' where `+atSeq(7))
				rewriteFrom(t, db, org, 7, n)
			}},
	}
	// One database; each case tampers with its own org's log only.
	env := pgtest.New(t)
	other := uuid.New()
	fill(t, env.Super, other, 3)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxTimeout(t)
			org := uuid.New()
			known := fill(t, env.Super, org, n)
			tc.tamper(t, env.Super, org)

			rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{})
			if tc.onlyKnown {
				if err != nil {
					t.Fatalf("Verify without a known head: %v (this tampering is expected to be self-consistent)", err)
				}
			} else {
				checkFailure(t, rep, err, tc.firstBad, tc.reason, false)
			}
			rep, err = audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{Known: &known})
			checkFailure(t, rep, err, tc.firstBad, tc.reason, tc.onlyKnown)

			// VerifyAll fails this org's log (listed by its known head even
			// when its rows and head are gone) and passes the untouched one.
			reps, err := audit.VerifyAll(ctx, env.Super.Pool, map[uuid.UUID]audit.Head{org: known})
			if !errors.Is(err, audit.ErrTampered) {
				t.Fatalf("VerifyAll: %v, want ErrTampered", err)
			}
			seen := 0
			for _, r := range reps {
				if r.Org == org || r.Org == other {
					seen++
					if (r.Org == other) != r.Verified {
						t.Errorf("VerifyAll: %s", r)
					}
				}
			}
			if seen != 2 {
				t.Errorf("VerifyAll reported %d of the two orgs: %v", seen, reps)
			}
		})
	}
}

func checkFailure(t *testing.T, rep audit.Report, err error, firstBad int64, reason string, truncated bool) {
	t.Helper()
	if !errors.Is(err, audit.ErrTampered) {
		t.Fatalf("Verify = %s, %v; want ErrTampered", rep, err)
	}
	if got := errors.Is(err, audit.ErrTruncated); got != truncated {
		t.Errorf("errors.Is(err, ErrTruncated) = %v, want %v (%v)", got, truncated, err)
	}
	if rep.Verified || rep.FirstBad != firstBad || !strings.Contains(rep.Reason, reason) {
		t.Errorf("report %s; want first bad seq %d, reason containing %q", rep, firstBad, reason)
	}
}

// A clean log verifies, the report round-trips as JSON, and a known head
// from earlier is accepted after more appends.
func TestVerifyClean(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()

	rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{})
	if err != nil || !rep.Verified || rep.Size != 0 || rep.Root != audit.EmptyRoot() {
		t.Fatalf("empty log: %s, %v", rep, err)
	}
	known := fill(t, env.Super, org, 257)
	fill(t, env.Super, org, 40)
	rep, err = audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{Known: &known})
	if err != nil || !rep.Verified || rep.Size != 297 {
		t.Fatalf("Verify = %s, %v", rep, err)
	}
	var root []byte
	if err := env.Super.Pool.QueryRow(ctx, `select root_hash from audit.heads where org_id = $1`, org).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if rep.Root.String() != hex.EncodeToString(root) {
		t.Errorf("report root %s, head %x", rep.Root, root)
	}
	var back audit.Report
	if err := json.Unmarshal(rep.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	if s := rep.String(); !strings.Contains(s, "verified 297 events") || !strings.Contains(s, rep.Root.String()) {
		t.Errorf("String() = %q", s)
	}
	// A wrong known root at a size the log has passed is a rewrite.
	bad := audit.Head{Size: 100, Root: known.Root}
	if _, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{Known: &bad}); !errors.Is(err, audit.ErrTruncated) {
		t.Errorf("Verify with a wrong known head: %v, want ErrTruncated", err)
	}
}

// Verify inside the caller's transaction sees that transaction's snapshot;
// run by an org admin through row-level security it verifies too.
func TestVerifyInTransaction(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	fill(t, env.Super, f.org, 30)
	err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		rep, err := audit.Verify(ctx, tx, f.org, audit.VerifyOptions{})
		if err == nil && rep.Size != 30 {
			t.Errorf("admin Verify size %d, want 30", rep.Size)
		}
		return err
	})
	if err != nil {
		t.Fatalf("Verify as the org admin: %v", err)
	}
	// A patient, like no credential, sees no event and no head: an empty
	// log, which only a known head exposes.
	appendSQL(t, env.Super.Pool, f.org, rawEvent{Action: "patient.read", Outcome: "success", Patient: some(f.p1)})
	rep, err := audit.Verify(ctx, env.Super.Pool, f.org, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	known := rep.Head()
	for _, tc := range []struct {
		name      string
		cred      postgres.Credential
		known     *audit.Head
		truncated bool
	}{
		{"patient, known head", f.patientCred, &known, true},
		{"no credential, known head", postgres.Credential{}, &known, true},
	} {
		err = env.App.InTenantTx(ctx, tc.cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := audit.Verify(ctx, tx, f.org, audit.VerifyOptions{Known: tc.known})
			return err
		})
		if !errors.Is(err, audit.ErrTampered) || errors.Is(err, audit.ErrTruncated) != tc.truncated {
			t.Errorf("Verify as %s: %v, want ErrTampered (truncated %v)", tc.name, err, tc.truncated)
		}
	}
}

// The log is append-only for ward_app by grants and for everyone else
// (even a superuser) by triggers.
func TestImmutable(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	fill(t, env.Super, org, 3)
	tests := []struct {
		name string
		db   *postgres.DB
		sql  string
	}{
		{"app update", env.App, `update audit.events set outcome = 'denied'`},
		{"app delete", env.App, `delete from audit.events`},
		{"app truncate", env.App, `truncate audit.events`},
		{"app insert", env.App, `insert into audit.events (org_id, at, action, outcome, actor_kind, canonical, leaf_hash)
			select org_id, at, action, outcome, actor_kind, canonical, leaf_hash from audit.events`},
		{"app update head", env.App, `update audit.heads set tree_size = 0`},
		{"app delete head", env.App, `delete from audit.heads`},
		{"app truncate heads", env.App, `truncate audit.heads`},
		{"superuser update", env.Super, `update audit.events set outcome = 'denied'`},
		{"superuser delete", env.Super, `delete from audit.events`},
		{"superuser truncate", env.Super, `truncate audit.events`},
		{"superuser truncate heads", env.Super, `truncate audit.heads`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.db.Pool.Exec(ctx, tc.sql)
			if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
				t.Errorf("%s: err = %v, want SQLSTATE 42501", tc.sql, err)
			}
		})
	}
	if rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); err != nil || rep.Size != 3 {
		t.Errorf("after the attempts: %s, %v", rep, err)
	}
}

// Concurrent appends to one org serialise on the head row: seq runs 1..N
// without gaps and the log verifies.
func TestConcurrentAppends(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	patient := seedPatients(t, env.Super, org, 1)[0]
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				_, err := audit.Record(ctx, tx, audit.Event{Org: org, Action: "patient.read", Outcome: audit.OutcomeSuccess,
					Patient: some(patient), Actor: some(uuid.New()), Details: map[string]any{"i": i}})
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	integrate(t, env.Super, org)
	rows, _ := env.Super.Pool.Query(ctx, `select seq from audit.leaves where org_id = $1 order by seq`, org)
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("seqs = %v, want 1..%d", seqs, n)
		}
	}
	if len(seqs) != n {
		t.Fatalf("%d events, want %d", len(seqs), n)
	}
	if rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); err != nil || rep.Size != n {
		t.Fatalf("Verify = %s, %v", rep, err)
	}
}
