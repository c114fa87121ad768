package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/records"
	"github.com/wardhq/ward/internal/tenancy"
)

type benchConfig struct {
	common
	Duration time.Duration
	Clients  string
	Patients int
	Profile  string
}

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg benchConfig
	fs := newFlagSet("bench", "bench [flags]\n\n"+
		"Measures the audited PHI read over HTTP (session check, RLS query, audit append, commit) beside\n"+
		"pgbench running the same one-select-one-insert transaction on the same cluster, and RLS overhead\n"+
		"on the patient list beside the same query as a role that bypasses RLS. Uses a scratch database\n"+
		"(ward_bench) in the embedded cluster, dropped afterwards.", stdout)
	addCommon(fs, &cfg.common, getenv)
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measuring time per step")
	fs.StringVar(&cfg.Clients, "clients", "1,8,32", "concurrent clients, comma-separated")
	fs.IntVar(&cfg.Patients, "patients", 2000, "patients to seed")
	fs.StringVar(&cfg.Profile, "cpuprofile", "", "write a CPU profile of the HTTP steps to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New("bench runs on the embedded cluster only (it runs pgbench beside it); drop --database-url")
	}
	var clients []int
	for _, s := range strings.Split(cfg.Clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 512 {
			return fmt.Errorf("--clients: %q is not a count of 1..512", s)
		}
		clients = append(clients, n)
	}
	return bench(ctx, cfg, clients, stdout, stderr)
}

func bench(ctx context.Context, cfg benchConfig, clients []int, stdout, stderr io.Writer) error {
	dbase, err := cfg.openDatabase(ctx, stderr, "bench")
	if err != nil {
		return err
	}
	defer dbase.Close()
	cl := dbase.cluster
	const name = "ward_bench"
	admin, err := pgx.Connect(ctx, cl.URL("postgres", "postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "drop database if exists "+name+" with (force)"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "create database "+name); err != nil {
		return err
	}
	defer admin.Exec(context.WithoutCancel(ctx), "drop database if exists "+name+" with (force)")
	superURL, appURL := cl.URL("postgres", name), cl.URL("ward_app", name)
	if _, err := postgres.Migrate(ctx, superURL); err != nil {
		return err
	}
	super, err := postgres.Open(ctx, superURL)
	if err != nil {
		return err
	}
	defer super.Close()
	// The pool `ward serve` runs with (postgres.DefaultMaxConns): a larger
	// one puts more backends than cores on the cluster at 32 clients, and
	// measures their contention (twice the CPU per request here) instead
	// of Ward.
	db, err := postgres.Open(ctx, appURL)
	if err != nil {
		return err
	}
	defer db.Close()

	ring, err := cfg.keyring(nil)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	keys := keystore.New(ring)
	if err := keys.EnsureInstance(ctx, super); err != nil {
		return err
	}
	authSvc := auth.NewService(db, keys, mail.NewConsole(io.Discard), auth.Config{BaseURL: "http://bench"}, log)
	recSvc := records.NewService(db, keys, records.Config{Mailer: mail.NewConsole(io.Discard)}, log)

	// An org, its admin, a session, and patients.
	opsSvc := auth.NewService(super, keys, mail.NewConsole(io.Discard), auth.Config{BaseURL: "http://bench"}, log)
	created, err := tenancy.CreateOrg(ctx, super, keys, "Bench Practice", "bench-admin@example.test")
	if err != nil {
		return err
	}
	// A new org requires its staff to bind non-browser sessions (migration
	// 00080); the bench drives the API with a plain bearer session, so its
	// org requires no binding: the figures are the plain session check
	// (the DPoP check is measured beside it by BenchmarkAuthenticate).
	if _, err := super.Pool.Exec(ctx, `update app.orgs set device_binding_required_for = '{}' where id = $1`,
		created.ID); err != nil {
		return err
	}
	link, err := opsSvc.OperatorLink(ctx, super, "bench-admin@example.test", uuid.NullUUID{})
	if err != nil {
		return err
	}
	sess, err := authSvc.ConsumeLink(ctx, link[strings.LastIndex(link, "=")+1:], "")
	if err != nil {
		return err
	}
	// Admins need a second factor; the bench measures data access, so the
	// superuser raises the session as a verified TOTP code would.
	if _, err := super.Pool.Exec(ctx, `update app.sessions set assurance = 2, amr = '{email,totp}' where id = $1`,
		sess.ID); err != nil {
		return err
	}
	p, err := authSvc.Authenticate(identity.WithRequest(ctx, identity.Request{ID: "bench"}), sess.Token, "", "")
	if err != nil {
		return err
	}
	pctx := identity.WithPrincipal(ctx, p)
	fmt.Fprintf(stderr, "bench: seeding %d patients\n", cfg.Patients)
	ids := make([]uuid.UUID, 0, cfg.Patients)
	for i := range cfg.Patients {
		pt, err := recSvc.CreatePatient(pctx, records.PatientInput{Name: fmt.Sprintf("Bench Patient %d", i),
			DOB: "1980-01-02", MRN: fmt.Sprintf("MRN%06d", i), Email: fmt.Sprintf("p%d@example.test", i)})
		if err != nil {
			return err
		}
		ids = append(ids, pt.ID)
	}
	// Statistics as autovacuum would have them a minute after the seeding,
	// so the list's plan is the one a live table gets (an index scan that
	// stops after 50 rows), not the one of a table the planner thinks empty.
	if _, err := super.Pool.Exec(ctx, "analyze"); err != nil {
		return err
	}

	// The API on a loopback listener (plain HTTP: TLS is the same on both
	// sides of no comparison here, and the client would dominate).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// One session drives all the load: the per-user rate limit is off.
	srv := &http.Server{Handler: httpapi.NewServer(httpapi.Config{RateLimit: -1}, httpapi.Deps{Auth: authSvc,
		Records: recSvc, Audit: audit.NewService(db, log), Ready: db.Pool.Ping, Log: log})}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	// The audit integrator runs beside the load, as in `ward serve`; the
	// sampler records how far behind it is.
	integrator := audit.NewIntegrator(db, log, 0)
	ictx, stopIntegrator := context.WithCancel(ctx)
	defer stopIntegrator()
	go integrator.Run(ictx)
	var lagMu sync.Mutex
	var lags []float64
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ictx.Done():
				return
			case <-t.C:
				if st := integrator.Stats(); !st.LastPass.IsZero() {
					lagMu.Lock()
					lags = append(lags, float64(st.Lag)/float64(time.Millisecond))
					lagMu.Unlock()
				}
			}
		}
	}()

	// pgbench's equivalent: one select by primary key, one insert, commit.
	pgbench := filepath.Join(cl.BinDir, "pgbench")
	script := filepath.Join(os.TempDir(), "ward-bench.sql")
	if _, err := super.Pool.Exec(ctx, `create table public.bench_rows as select id, name_enc, dob_enc from app.patients;
		alter table public.bench_rows add primary key (id);
		create table public.bench_log (id bigserial primary key, at timestamptz default now(), object uuid, payload bytea);
		create table public.bench_ids as select row_number() over () as n, id from public.bench_rows;
		alter table public.bench_ids add primary key (n)`); err != nil {
		return err
	}
	if err := os.WriteFile(script, []byte(fmt.Sprintf(`\set n random(1, %d)
BEGIN;
SELECT r.* FROM public.bench_rows r JOIN public.bench_ids i ON i.id = r.id WHERE i.n = :n;
INSERT INTO public.bench_log (object, payload) VALUES ((SELECT id FROM public.bench_ids WHERE n = :n), '\x00112233');
END;
`, len(ids))), 0o644); err != nil {
		return err
	}
	defer os.Remove(script)

	// The floor: the same select and insert behind a plain Go HTTP handler
	// (no session, RLS, keys or audit), in one round trip as Ward sends
	// its read, on the same loopback and load generator. What Ward costs
	// beyond it is its safeguards; what it costs beyond pgbench is HTTP
	// and Go on the same two cores.
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	plainSrv := &http.Server{Handler: plainHandler(super)}
	go plainSrv.Serve(plainLn)
	defer plainSrv.Close()
	plainBase := "http://" + plainLn.Addr().String()

	fmt.Fprintf(stdout, "# ward bench, %s, %d CPUs (%s), %s per step\n\n", time.Now().UTC().Format("2006-01-02"),
		runtime.NumCPU(), cpuModel(), cfg.Duration)
	fmt.Fprintln(stdout, "## Audited PHI read over HTTP vs pgbench (select + insert + commit)")
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "| clients | ward req/s | p50 ms | p99 ms | pgbench TPS | ratio | ward CPU µs/req | of which PostgreSQL | pgbench CPU µs/tx | CPU ratio |")
	fmt.Fprintln(stdout, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	type floorRow struct {
		c           int
		r           loadResult
		cpu, pg     string
		tps, wardPS float64
	}
	var floors []floorRow
	for _, c := range clients {
		if cfg.Profile != "" {
			f, err := os.Create(cfg.Profile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		// CPU per request: this process (server, load generator,
		// integrator) and every process of the cluster.
		cpu0, self0 := clusterCPU(cl), selfCPU()
		r, err := loadHTTP(ctx, base, sess.Token, ids, c, cfg.Duration)
		pgCPU := clusterCPU(cl) - cpu0
		wardCPU := pgCPU + selfCPU() - self0
		if cfg.Profile != "" {
			pprof.StopCPUProfile()
		}
		if err != nil {
			return err
		}
		cpu0, self0 = clusterCPU(cl), selfCPU()
		fr, err := loadHTTP(ctx, plainBase, "", ids, c, cfg.Duration)
		if err != nil {
			return fmt.Errorf("plain handler: %w", err)
		}
		floorPG := clusterCPU(cl) - cpu0
		floorCPU := floorPG + selfCPU() - self0
		freqs := fr.rps * cfg.Duration.Seconds()
		cpu0 = clusterCPU(cl)
		tps, pgbenchSelf, err := runPgbench(ctx, pgbench, cl, name, script, c, cfg.Duration)
		if err != nil {
			return err
		}
		pgbenchCPU := clusterCPU(cl) - cpu0 + pgbenchSelf
		reqs, txs := r.rps*cfg.Duration.Seconds(), tps*cfg.Duration.Seconds()
		cpuRatio := "n/a"
		if wardCPU > 0 && pgbenchCPU > 0 {
			cpuRatio = fmt.Sprintf("%.0f%%", 100*(float64(pgbenchCPU)/txs)/(float64(wardCPU)/reqs))
		}
		fmt.Fprintf(stdout, "| %d | %.0f | %.2f | %.2f | %.0f | %.0f%% | %s | %s | %s | %s |\n", c, r.rps, r.p50, r.p99, tps,
			100*r.rps/tps, perOp(wardCPU, reqs), perOp(pgCPU, reqs), perOp(pgbenchCPU, txs), cpuRatio)
		floors = append(floors, floorRow{c: c, r: fr, cpu: perOp(floorCPU, freqs), pg: perOp(floorPG, freqs), tps: tps, wardPS: r.rps})
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "The same select and insert behind a plain Go HTTP handler (no session, RLS, keys or audit; one round trip), same load generator:")
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "| clients | plain req/s | p50 ms | p99 ms | of pgbench | CPU µs/req | of which PostgreSQL | ward of plain |")
	fmt.Fprintln(stdout, "|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, f := range floors {
		fmt.Fprintf(stdout, "| %d | %.0f | %.2f | %.2f | %.0f%% | %s | %s | %.0f%% |\n", f.c, f.r.rps, f.r.p50, f.r.p99,
			100*f.r.rps/f.tps, f.cpu, f.pg, 100*f.wardPS/f.r.rps)
	}

	lagMu.Lock()
	sort.Float64s(lags)
	if len(lags) > 0 {
		fmt.Fprintf(stdout, "\nAudit integration lag during the runs (age of the oldest pending event at each integrator pass, "+
			"sampled every 50 ms, %d samples): p50 %.0f ms, p99 %.0f ms, max %.0f ms.\n",
			len(lags), lags[len(lags)/2], lags[len(lags)*99/100], lags[len(lags)-1])
	}
	lagMu.Unlock()
	// The integrator's catching up is not the list's cost.
	stopIntegrator()

	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "## RLS overhead on the patient list (50 newest, indexed)")
	fmt.Fprintln(stdout)
	// PostgreSQL CPU of the connections the loop uses (see poolCPU).
	appCPU, err := poolCPU(ctx, db)
	if err != nil {
		return err
	}
	superCPU, err := poolCPU(ctx, super)
	if err != nil {
		return err
	}
	cpu0 := appCPU()
	rls, n, err := timeList(ctx, db, postgres.Credential{Hash: p.CredentialHash, DPoP: p.DPoP, Org: p.OrgID.String()}, p.OrgID, cfg.Duration)
	if err != nil {
		return err
	}
	rlsCPU := appCPU() - cpu0
	cpu0 = superCPU()
	base0, n0, err := timeList(ctx, super, postgres.Credential{}, p.OrgID, cfg.Duration)
	if err != nil {
		return err
	}
	baseCPU := superCPU() - cpu0
	cpuOverhead := "n/a"
	if rlsCPU > 0 && baseCPU > 0 {
		cpuOverhead = fmt.Sprintf("%+.0f%%", 100*((float64(rlsCPU)/n)/(float64(baseCPU)/n0)-1))
	}
	fmt.Fprintln(stdout, "| query | mean ms per transaction | overhead | PostgreSQL CPU µs per transaction | CPU overhead |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|")
	fmt.Fprintf(stdout, "| as superuser (RLS bypassed), same SQL | %.3f | baseline | %s | baseline |\n", base0, perOp(baseCPU, n0))
	fmt.Fprintf(stdout, "| as ward_app with credential-bound RLS | %.3f | %+.0f%% | %s | %s |\n", rls, 100*(rls/base0-1),
		perOp(rlsCPU, n), cpuOverhead)
	return nil
}

type loadResult struct{ rps, p50, p99 float64 }

// loadHTTP runs c clients, each reading random patients over keep-alive
// connections, for d, and reports throughput and latency.
func loadHTTP(ctx context.Context, base, token string, ids []uuid.UUID, c int, d time.Duration) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				id := ids[rand.IntN(len(ids))]
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/patients/"+id.String(), nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, fmt.Errorf("bench: HTTP read: %w", firstErr)
	}
	if len(lat) == 0 {
		return loadResult{}, errors.New("bench: no request completed")
	}
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	return loadResult{rps: float64(len(lat)) / d.Seconds(), p50: ms(0.50), p99: ms(0.99)}, nil
}

// tpsRE is compiled on first use, not at the start of every ward command.
var tpsRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
})

func runPgbench(ctx context.Context, bin string, cl *postgres.Cluster, db, script string, c int, d time.Duration) (float64, time.Duration, error) {
	jobs := min(c, runtime.NumCPU())
	cmd := exec.CommandContext(ctx, bin, "-n", "-M", "prepared", "-c", strconv.Itoa(c), "-j", strconv.Itoa(jobs),
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script, "-h", cl.SocketDir(), "-p", strconv.Itoa(cl.SocketPort()), "-U", "postgres", db)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsRE().FindSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("pgbench: no tps in output:\n%s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	return tps, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), err
}

// timeList runs the patient-list query in a credential-bound transaction
// for d and returns the mean milliseconds per transaction and how many ran.
func timeList(ctx context.Context, db *postgres.DB, cred postgres.Credential, org uuid.UUID, d time.Duration) (float64, float64, error) {
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		err := db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `select org_id, id, created_at, name_enc from app.patients
				where org_id = $1 order by created_at desc, id limit 50`, org)
			if err != nil {
				return err
			}
			k := 0
			for rows.Next() {
				k++
			}
			if k != 50 {
				return fmt.Errorf("bench: list returned %d rows, want 50", k)
			}
			return rows.Err()
		})
		if err != nil {
			return 0, 0, err
		}
		n++
	}
	return float64(time.Since(start).Microseconds()) / 1000 / float64(n), float64(n), nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			_, v, _ := strings.Cut(line, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// plainHandler serves GET /v1/patients/{id} with pgbench's transaction (the
// row by primary key, one insert) sent as one batch, and the row as JSON:
// the floor ward bench sets Ward's audited read beside.
func plainHandler(db *postgres.DB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/patients/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		var row struct {
			ID   uuid.UUID `json:"id"`
			Name []byte    `json:"name_enc"`
			DOB  []byte    `json:"dob_enc"`
		}
		b := &pgx.Batch{}
		b.Queue(`select id, name_enc, dob_enc from public.bench_rows where id = $1`, id).QueryRow(func(r pgx.Row) error {
			return r.Scan(&row.ID, &row.Name, &row.DOB)
		})
		b.Queue(`insert into public.bench_log (object, payload) values ($1, '\x00112233')`, id)
		if err := db.Pool.SendBatch(r.Context(), b).Close(); err != nil {
			http.Error(w, "database", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(row)
	})
	return mux
}
