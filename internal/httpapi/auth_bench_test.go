package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// BenchmarkAuthenticate measures what resolving a presented credential costs
// per request, through the server's own path (auth.Service.Authenticate, as
// the route guard calls it: one batch binding ward.credential and reading
// app.whoami(), which runs private.me_pending() and the org's assurance
// bar), for an AAL2 admin session, for the same admin's DPoP-bound
// session (auth.Service.AuthenticateDPoP: the database's thumbprint check
// with the proof's jti recorded in the same round trip, alone; and the
// whole per-request DPoP path: a fresh proof signed, verified, then that
// resolution, beside the client's signing and the server's verification
// alone) and for an admin API key (the same resolution, its scopes in
// the same batch); and what the session check adds to a request that
// reads a row under RLS anyway: the read alone (baseline-rls-read), the
// check in its own transaction before it (session-then-rls-read), and the
// check leaving its transaction open for the read to continue
// (session-in-rls-read-tx, postgres.RequestTx, as a first read runs), and
// the principal kept from an earlier check with its check deferred to the
// read's own batch (session-kept-in-rls-read, as later reads run),
// beside two baselines on the same pools in the same run: a bare `select 1`
// round trip as ward_app, the same batch binding the credential with
// `select 1` in place of app.whoami(), and a plain indexed lookup of app.sessions by
// token_hash as the superuser (no RLS, no assurance check). The table holds
// 10,000 other sessions of the org. The serial sub-benchmarks give µs per
// request on one connection; the parallel ones requests/s from 4
// goroutines over the pool (4 connections). The serial ones also report
// the CPU time per request of the database's backends (pg-cpu-µs/req) and
// of this process (go-cpu-µs/req), which a shared machine's load moves far
// less than µs/req. Figures in docs/benchmarks.md §6.
func BenchmarkAuthenticate(b *testing.B) {
	// The org binds no role, so the admin's plain bearer session is the
	// plain session check; the DPoP session is the same admin's, signed in
	// with a proof.
	w := newWorld(b, withUnboundOrgs())
	o := w.createOrg("Bench Org")
	key := w.createKey(o, auth.ScopeMembers).Key
	ctx := context.Background()
	link, err := w.ops.OperatorLink(ctx, w.env.Super, o.Admin.Email, uuid.NullUUID{UUID: o.ID, Valid: true})
	if err != nil {
		b.Fatal(err)
	}
	var bound struct {
		Token string `json:"token"`
	}
	resp, body := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]},
		w.signInProof("/v1/auth/magic")...)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &bound) != nil {
		b.Fatalf("DPoP sign-in: %d %s", resp.StatusCode, body)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set assurance = 2, amr = '{email,totp}'
		where token_hash = sha256($1::bytea)`, []byte(bound.Token)); err != nil {
		b.Fatal(err)
	}
	dk, ok := w.boundKey(bound.Token)
	if !ok {
		b.Fatal("the DPoP session is not bound")
	}
	jkt, me := dk.jkt(), w.root+"/v1/me"
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min,
		absolute_expires_at, assurance, amr, authenticated_at)
		select s.org_id, s.user_id, sha256(gen_random_uuid()::text::bytea), s.idle_timeout_min, s.absolute_expires_at,
		  s.assurance, s.amr, s.authenticated_at
		from app.sessions s, generate_series(1, 10000) where s.token_hash = sha256($1::bytea)`,
		[]byte(o.Admin.Token)); err != nil {
		b.Fatalf("filler sessions: %v", err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `analyze app.sessions`); err != nil {
		b.Fatal(err)
	}
	patient := w.createPatient(o.Admin.Token, map[string]any{"name": "Bench Patient", "mrn": "BENCH-1"})
	signed := dk.proof("GET", me, bound.Token, nil)
	sum := sha256.Sum256([]byte(o.Admin.Token))
	hash, hexHash := sum[:], identity.HashToken(o.Admin.Token)

	// check that each credential resolves as the server needs before timing.
	for _, c := range []struct {
		token, dpop string
		kind        identity.CredentialKind
	}{{o.Admin.Token, "", identity.KindSession}, {bound.Token, jkt, identity.KindSession}, {key, "", identity.KindAPIKey}} {
		p, err := w.auth.Authenticate(ctx, c.token, "", "")
		if c.dpop != "" {
			p, err = w.auth.AuthenticateDPoP(ctx, c.token, "", auth.DPoPProof{JKT: c.dpop, JTI: uuid.NewString(), IAT: time.Now().Unix()})
		}
		if err != nil || p.Kind != c.kind || p.AAL != 2 || p.Pending != "" || p.Role != identity.RoleAdmin ||
			(c.kind == identity.KindAPIKey) != (len(p.Scopes) == 1) {
			b.Fatalf("authenticate %s: %+v %v", c.kind, p, err)
		}
	}
	if _, err := w.auth.Authenticate(ctx, bound.Token, "", ""); err == nil {
		b.Fatal("the DPoP session resolves without its thumbprint")
	}

	cases := []struct {
		name string
		op   func(context.Context) error
	}{
		{"baseline-select1", func(ctx context.Context) error {
			var one int
			return w.env.App.Pool.QueryRow(ctx, `select 1`).Scan(&one)
		}},
		{"baseline-superuser-session-lookup", func(ctx context.Context) error {
			var aal int
			return w.env.Super.Pool.QueryRow(ctx, `select assurance from app.sessions
				where token_hash = $1 and revoked_at is null`, hash).Scan(&aal)
		}},
		{"baseline-bind-select1", func(ctx context.Context) error {
			// the batch shape of the server's path, without app.whoami()
			var one int
			bt := &pgx.Batch{}
			bt.Queue(`select app.bind($1, $2, $3, $4)`, hexHash, "", "", "")
			bt.Queue(`select 1`).QueryRow(func(r pgx.Row) error { return r.Scan(&one) })
			return w.env.App.Pool.SendBatch(ctx, bt).Close()
		}},
		{"session", func(ctx context.Context) error {
			_, err := w.auth.Authenticate(ctx, o.Admin.Token, "", "")
			return err
		}},
		{"dpop-client-sign-proof", func(ctx context.Context) error {
			// the client's share of the whole DPoP path below, not the server's
			_ = dk.proof("GET", me, bound.Token, nil)
			return nil
		}},
		{"dpop-server-verify-proof", func(ctx context.Context) error {
			// the server's Go share of the whole DPoP path below: one
			// proof's verification (signature, htm, htu, iat, ath), no jti
			_, err := auth.VerifyDPoP(signed, "GET", me, bound.Token, time.Now())
			return err
		}},
		{"session-dpop-thumbprint", func(ctx context.Context) error {
			// the server's database share: the thumbprint check and a fresh
			// jti recorded, in the resolution's round trip
			_, err := w.auth.AuthenticateDPoP(ctx, bound.Token, "", auth.DPoPProof{JKT: jkt, JTI: uuid.NewString(), IAT: time.Now().Unix()})
			return err
		}},
		{"session-dpop-proof", func(ctx context.Context) error {
			// a fresh proof (client), its verification (server), then the
			// resolution with its thumbprint, its jti recorded in the same
			// round trip
			p, err := auth.VerifyDPoP(dk.proof("GET", me, bound.Token, nil), "GET", me, bound.Token, time.Now())
			if err == nil {
				_, err = w.auth.AuthenticateDPoP(ctx, bound.Token, "", p)
			}
			return err
		}},
		{"session-org-hint", func(ctx context.Context) error {
			_, err := w.auth.Authenticate(ctx, o.Admin.Token, o.ID.String(), "")
			return err
		}},
		{"baseline-rls-read", func(ctx context.Context) error {
			// a request's business transaction without a session check: the
			// binding and one patient row read under RLS (which resolves
			// the credential itself), one implicit transaction
			return readPatient(ctx, w, postgres.Credential{Hash: hexHash, Org: o.ID.String()}, patient)
		}},
		{"session-then-rls-read", func(ctx context.Context) error {
			// the session check in its own transaction, then that read: how
			// the routes that take a body or call out still run
			p, err := w.auth.Authenticate(ctx, o.Admin.Token, "", "")
			if err == nil {
				err = readPatient(ctx, w, postgres.CredentialOf(p, ""), patient)
			}
			return err
		}},
		{"session-in-rls-read-tx", func(ctx context.Context) error {
			// the session check leaving its transaction open and the read
			// continuing it (postgres.RequestTx), as the record reads run:
			// minus baseline-rls-read, what the check adds to such a request
			p, rt, err := w.auth.AuthenticateInTx(ctx, o.Admin.Token, "", "")
			if err == nil {
				err = readPatient(rt.Context(ctx), w, postgres.CredentialOf(p, ""), patient)
				rt.End(ctx)
			}
			return err
		}},
		{"session-kept-in-rls-read", func(ctx context.Context) error {
			// the principal kept from an earlier full check
			// (auth.Service.CachedInTx), its check deferred to the read's
			// batch (app.whoami compared after the binding, one round trip):
			// minus baseline-rls-read, what the check adds to such a
			// request once the credential has been seen
			p, rt, ok := w.auth.CachedInTx(ctx, o.Admin.Token, "", "", nil)
			if !ok {
				// kept for 30 s: a full check again, as a client's
				// requests would meet one every 30 s
				if _, err := w.auth.Authenticate(ctx, o.Admin.Token, "", ""); err != nil {
					return err
				}
				p, rt, ok = w.auth.CachedInTx(ctx, o.Admin.Token, "", "", nil)
			}
			if !ok || !rt.Deferred() {
				return errors.New("the admin's principal is not kept")
			}
			err := readPatient(rt.Context(ctx), w, postgres.CredentialOf(p, ""), patient)
			rt.End(ctx)
			return err
		}},
		{"api-key", func(ctx context.Context) error {
			_, err := w.auth.Authenticate(ctx, key, "", "")
			return err
		}},
	}
	for _, c := range cases {
		b.Run("serial/"+c.name, func(b *testing.B) {
			pg0, go0 := backendsCPU(b, w), selfCPU()
			for b.Loop() {
				if err := c.op(ctx); err != nil {
					b.Fatal(err)
				}
			}
			pg1, go1 := backendsCPU(b, w), selfCPU()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/req")
			// CPU time, which the other jobs on a shared machine move far
			// less than wall-clock time: PostgreSQL's (every backend of the
			// test's database) and this process's.
			b.ReportMetric(float64((pg1-pg0).Nanoseconds())/1e3/float64(b.N), "pg-cpu-µs/req")
			b.ReportMetric(float64((go1-go0).Nanoseconds())/1e3/float64(b.N), "go-cpu-µs/req")
		})
	}
	for _, c := range cases {
		b.Run("parallel/"+c.name, func(b *testing.B) {
			b.SetParallelism(max(1, 4/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.op(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// readPatient reads one patient row's id under RLS, bound to cred, in one
// batch (InTenantBatch, which continues a request transaction in ctx).
func readPatient(ctx context.Context, w *world, cred postgres.Credential, id uuid.UUID) error {
	var got uuid.UUID
	bt := &pgx.Batch{}
	bt.Queue(`select id from app.patients where id = $1`, id).QueryRow(func(r pgx.Row) error { return r.Scan(&got) })
	return w.env.App.InTenantBatch(ctx, cred, bt)
}

// backendsCPU is the CPU time (/proc/<pid>/schedstat) the live backends of
// the test's database have used so far; 0 where /proc is not there.
func backendsCPU(b *testing.B, w *world) time.Duration {
	b.Helper()
	rows, err := w.env.Super.Pool.Query(context.Background(), `select pid from pg_stat_activity
		where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for _, pid := range pids {
		buf, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(int(pid)), "schedstat"))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(buf)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
