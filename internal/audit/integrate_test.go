package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Appends take no per-org lock; several integrators run at once (two
// nodes); every event gets exactly one position, the positions run 1..N,
// and the log verifies.
func TestConcurrentIntegrators(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	patient := seedPatients(t, env.Super, org, 1)[0]
	const writers, each = 8, 40
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	nodes := []*audit.Integrator{audit.NewIntegrator(env.App, log, 5*time.Millisecond),
		audit.NewIntegrator(env.App, log, 5*time.Millisecond)}
	ictx, stop := context.WithCancel(ctx)
	var iwg sync.WaitGroup
	for _, n := range nodes {
		iwg.Go(func() { n.Run(ictx) })
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				errs <- env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
					_, err := audit.Record(ctx, tx, audit.Event{Org: org, Action: "patient.read", Outcome: audit.OutcomeSuccess,
						Patient: some(patient), Actor: some(uuid.New())})
					return err
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	// Both nodes keep passing until nothing is pending.
	for deadline := time.Now().Add(20 * time.Second); ; {
		var pending int
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.queue where org_id = $1`, org).
			Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A pass whose commit the database applied but whose answer the node
	// has not read yet counts when it has: wait for that before stopping
	// (a stop in between cannot tell the node it committed).
	for deadline := time.Now().Add(30 * time.Second); nodes[0].Stats().Integrated+nodes[1].Stats().Integrated <
		writers*each && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	iwg.Wait()
	var n, distinct, maxSeq int64
	if err := env.Super.Pool.QueryRow(ctx, `select count(*), count(distinct l.seq), max(l.seq) from audit.events e
		left join audit.leaves l on l.org_id = e.org_id and l.qid = e.qid where e.org_id = $1`,
		org).Scan(&n, &distinct, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if n != writers*each || distinct != n || maxSeq != n {
		t.Fatalf("%d events, %d distinct positions, max %d; want %d, each once, 1..N", n, distinct, maxSeq, writers*each)
	}
	if rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); err != nil || rep.Size != n {
		t.Fatalf("Verify = %s, %v", rep, err)
	}
	if a, b := nodes[0].Stats().Integrated, nodes[1].Stats().Integrated; a+b != n {
		t.Errorf("the nodes report %d + %d integrated, want %d in all", a, b, n)
	}
	var metrics strings.Builder
	nodes[0].WriteMetrics(&metrics)
	for _, m := range []string{"ward_audit_integration_lag_seconds ", "ward_audit_pending_events ", "ward_audit_integrated_events_total "} {
		if !strings.Contains(metrics.String(), m) {
			t.Errorf("metrics lack %q:\n%s", m, metrics.String())
		}
	}
}

// A pending event is as immutable as an integrated one: not even a
// superuser (without disabling triggers) can give it a position, change
// one, or take it out of the queue; only the integrator writes a leaf, once,
// and nobody rewrites an event.
func TestPendingEventsAreImmutable(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	fill(t, env.Super, org, 3)
	if _, err := env.Super.Pool.Exec(ctx, `select audit.append_as(p_org => $1, p_action => 'audit.read', p_outcome => 'success',
		p_actor => $2)`, org, uuid.New()); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`insert into audit.leaves (org_id, seq, qid, chain_hash) select org_id, 4, qid, sha256(''::bytea) from audit.queue
		  where org_id = $1`,
		`update audit.events set details = '{"x": 1}' where org_id = $1 and qid in (select qid from audit.queue where org_id = $1)`,
		`update audit.events set details = '{"x": 1}' where org_id = $1 and qid in (select qid from audit.leaves where org_id = $1)`,
		`update audit.leaves set seq = 9 where org_id = $1 and seq = 3`,
		`update audit.leaves set chain_hash = sha256(chain_hash) where org_id = $1 and seq = 3`,
		`delete from audit.leaves where org_id = $1 and seq = 3`,
		`delete from audit.events where org_id = $1 and qid in (select qid from audit.queue where org_id = $1)`,
		`delete from audit.queue where org_id = $1`,
		`update audit.queue set at = now() where org_id = $1`,
		`truncate audit.queue`,
		`truncate audit.leaves`,
		`update audit.heads set tree_size = 4 where org_id = $1`,
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = append(args, org)
		}
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			t.Errorf("%s: %v, want 42501", sql, err)
		}
	}
	integrate(t, env.Super, org)
	if rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); err != nil || rep.Size != 4 || rep.Pending != 0 {
		t.Fatalf("after integration: %s, %v", rep, err)
	}
}

// A log pruned past retention still verifies from a signed checkpoint
// onwards: the checkpoint's stored chain and compact range (authenticated
// by its signed root) stand in for the removed events; an edit after it is
// still caught, and a forged start point is refused.
func TestVerifyFromCheckpoint(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	skey, vkey, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	fill(t, env.Super, org, 10)
	var root []byte
	if err := env.Super.Pool.QueryRow(ctx, `select root_hash from audit.heads where org_id = $1`, org).Scan(&root); err != nil {
		t.Fatal(err)
	}
	var r audit.Hash
	copy(r[:], root)
	cp, err := audit.SignCheckpoint(signer, audit.Origin(org), 10, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `select audit.record_checkpoint($1, $2)`, org, cp.Note); err != nil {
		t.Fatal(err)
	}
	fill(t, env.Super, org, 10)
	// Prune the first ten (as retention would, triggers aside).
	if _, err := env.Super.Pool.Exec(ctx, `set session_replication_role = replica;
		delete from audit.events where org_id = '`+org.String()+`' and qid in
		  (select qid from audit.leaves where org_id = '`+org.String()+`' and seq <= 10);
		delete from audit.leaves where org_id = '`+org.String()+`' and seq <= 10;
		set session_replication_role = origin`); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); !errors.Is(err, audit.ErrTampered) {
		t.Fatalf("a pruned log verified from seq 1: %v", err)
	}
	from, err := audit.StartPointAt(ctx, env.Super.Pool, org, 10, vkey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{From: from})
	if err != nil || rep.Size != 20 || rep.From != 10 {
		t.Fatalf("from the checkpoint: %s, %v", rep, err)
	}
	forged := *from
	forged.Frontier = append([]audit.Hash(nil), from.Frontier...)
	forged.Frontier[0][0] ^= 1
	if _, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{From: &forged}); !errors.Is(err, audit.ErrTampered) {
		t.Fatalf("a start point that does not fold to the signed root: %v", err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `set session_replication_role = replica;
		update audit.events set outcome = 'denied' where org_id = '`+org.String()+`' and qid =
		  (select qid from audit.leaves where org_id = '`+org.String()+`' and seq = 15);
		set session_replication_role = origin`); err != nil {
		t.Fatal(err)
	}
	rep, err = audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{From: from})
	if !errors.Is(err, audit.ErrTampered) || rep.FirstBad != 15 {
		t.Fatalf("an edit after the start point: %s, %v", rep, err)
	}
}

// A queue row the integrator cannot place (its event deleted, or placed
// already: only a superuser makes either) leaves the queue without a
// position instead of holding up every later event.
func TestIntegratorDropsStrayQueueRows(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	fill(t, env.Super, org, 3)
	attack(t, env.Super, org,
		`insert into audit.queue (org_id, qid, at) select org_id, qid, now() from audit.leaves where org_id = $1 and seq = 2`,
		`insert into audit.queue (org_id, qid, at) values ($1, 9000000000, now())`)
	if _, err := env.Super.Pool.Exec(ctx, `select audit.append_as(p_org => $1, p_action => 'audit.read', p_outcome => 'success',
		p_actor => $2)`, org, uuid.New()); err != nil {
		t.Fatal(err)
	}
	var size, sequenced int64
	if err := env.Super.Pool.QueryRow(ctx, `select tree_size, sequenced from audit.integrate($1)`, org).Scan(&size, &sequenced); err != nil {
		t.Fatalf("integrate over stray queue rows: %v", err)
	}
	var left int64
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.queue where org_id = $1`, org).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if size != 4 || sequenced != 1 || left != 0 {
		t.Fatalf("tree size %d, sequenced %d, %d left queued; want 4, 1, 0", size, sequenced, left)
	}
	if rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); err != nil || rep.Size != 4 {
		t.Fatalf("Verify = %s, %v", rep, err)
	}
}
