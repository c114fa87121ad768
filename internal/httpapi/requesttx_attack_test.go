package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestRecordListKeepsTheDPoPProofWhenTheClientLeaves: a key-bound session's
// list continues the check's transaction; when the client goes away while
// the list's statements run, the request's context is canceled, pgx closes
// the connection mid-transaction and the server rolls all of it back. The
// proof's jti, recorded by the check before the savepoint, must still
// stand: the same proof is a replay afterwards (as it is when the check
// runs in its own transaction).
func TestRecordListKeepsTheDPoPProofWhenTheClientLeaves(t *testing.T) {
	t.Run("during the read", func(t *testing.T) {
		leaveWhileHeld(t, `before insert on audit.events for each row when (new.action = 'patient.list')`)
	})
	// The check's own batch (begin … app.whoami, savepoint) is in the
	// server when the client leaves: the transaction it leaves open dies
	// with the connection.
	t.Run("during the check", func(t *testing.T) {
		leaveWhileHeld(t, `after insert on app.dpop_jtis for each row`)
	})
}

// leaveWhileHeld sends a key-bound list whose statements wait, where the
// trigger when says, on a lock the test holds; the client leaves while
// they wait; then the same proof must be refused as a replay.
func leaveWhileHeld(t *testing.T, when string) {
	w := newWorld(t)
	o := w.createOrg("Request Tx Leave")
	w.populate(o, "rl")
	k, ok := w.boundKey(o.Prov.Token)
	if !ok {
		t.Fatal("the provider's session is not bound to a key")
	}
	const path = "/v1/patients"
	send := func(ctx context.Context, proof string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", w.srv.URL+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "DPoP "+o.Prov.Token)
		req.Header.Set("DPoP", proof)
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	ctx := context.Background()
	super := w.env.Super.Pool
	// The list's audit append waits on a lock the test holds.
	if _, err := super.Exec(ctx, `
		create sequence public.hold_once;
		create function public.hold_patient_list() returns trigger language plpgsql security definer as $$
		begin
		  if nextval('public.hold_once') = 1 then -- once: not the jti's redo
		    perform pg_advisory_xact_lock(7340033);
		  end if;
		  return new;
		end $$;
		create trigger hold_patient_list `+when+` execute function public.hold_patient_list();`); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_, _ = super.Exec(ctx, `drop function if exists public.hold_patient_list() cascade; drop sequence if exists public.hold_once`)
	}()
	lock, err := super.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `select pg_advisory_xact_lock(7340033)`); err != nil {
		t.Fatal(err)
	}
	jtis := func() (n int) {
		if err := super.QueryRow(ctx, `select count(*) from app.dpop_jtis`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := jtis()
	proof := k.proof("GET", w.root+path, o.Prov.Token, nil)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := send(cctx, proof); done <- err }()
	// Wait for the list's backend to wait on the lock, then leave.
	var pid int32
	for i := 0; ; i++ {
		if i == 1000 {
			cancel()
			t.Fatal("the list never waited on the lock")
		}
		err := super.QueryRow(ctx, `select pid from pg_stat_activity
			where wait_event_type = 'Lock' and wait_event = 'advisory' and pid <> pg_backend_pid() limit 1`).Scan(&pid)
		if err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	// The handler gave its connection up (closed mid-statement), or the
	// server already waits to record the jti again behind the abandoned
	// backend's uncommitted one.
	for i := 0; ; i++ {
		var n int
		if err := super.QueryRow(ctx, `select count(*) from pg_stat_activity
			where wait_event_type = 'Lock' and wait_event = 'transactionid'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 || w.env.App.Pool.Stat().AcquiredConns() == 0 {
			break
		}
		if i == 1000 {
			rows, _ := super.Query(ctx, `select pid, coalesce(wait_event_type,''), coalesce(wait_event,''), state, left(query, 60) from pg_stat_activity where backend_type = 'client backend'`)
			for rows.Next() {
				var pid int32
				var a, b, c, d string
				_ = rows.Scan(&pid, &a, &b, &c, &d)
				t.Log(pid, a, b, c, d)
			}
			rows.Close()
			t.Fatalf("%d connections still held after the client left", w.env.App.Pool.Stat().AcquiredConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The abandoned backend finishes its statement, then finds its client gone.
	for i := 0; ; i++ {
		var n int
		if err := super.QueryRow(ctx, `select count(*) from pg_stat_activity where pid = $1`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i == 1000 {
			t.Fatal("the abandoned backend never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; w.env.App.Pool.Stat().AcquiredConns() != 0; i++ {
		if i == 3000 {
			t.Fatalf("%d connections still held", w.env.App.Pool.Stat().AcquiredConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The proof's jti is recorded (once its transaction has gone, again).
	for i := 0; i < 1000 && jtis() == before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := super.Exec(ctx, `drop function public.hold_patient_list() cascade; drop sequence public.hold_once`); err != nil {
		t.Fatal(err)
	}
	st, err := send(ctx, proof)
	if err != nil {
		t.Fatal(err)
	}
	if st != http.StatusUnauthorized {
		t.Errorf("the abandoned list's proof again: %d, want 401 (a replay: its jti was recorded by the check)", st)
	}
}

// TestRecordReadsTokenReuse: a rotated token presented after its grace on
// a route whose check leaves its transaction open (need.inTx) still ends
// the whole session and is audited once: the check's revocation commits
// although no request transaction comes back.
func TestRecordReadsTokenReuse(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Request Tx Reuse")
	old, tok := w.rotatedAAL2(o.Admin.Email, o.ID)
	w.do("GET", "/v1/patients", old, nil, http.StatusOK, nil) // in its grace (an AAL2 token)
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.session_tokens set retired_at = now() - interval '31 seconds'`); err != nil {
		t.Fatal(err)
	}
	w.do("GET", "/v1/patients", tok, nil, http.StatusOK, nil)
	resp, b := w.request("GET", "/v1/patients", old, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("a rotated token after its grace: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("GET", "/v1/patients", tok, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("the current token after reuse of a rotated one: %d %s", resp.StatusCode, b)
	}
	if n := w.auditCount(o.ID, "auth.token_reuse", "denied"); n != 1 {
		t.Fatalf("%d token reuse events, want 1", n)
	}
	for i := 0; w.env.App.Pool.Stat().AcquiredConns() != 0; i++ {
		if i == 200 {
			t.Fatalf("%d connections still held", w.env.App.Pool.Stat().AcquiredConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRecordReadDoesNotHoldTheSessionTouch: a record read's check runs in
// the request's transaction, so when it touches the session (its last use,
// once a minute) the row stays locked until the read commits. Another
// request of the same session, whose check is due to touch it too, must
// not wait for that read (it did, holding a pool connection).
func TestRecordReadDoesNotHoldTheSessionTouch(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Touch Lock")
	w.populate(o, "tl")
	ctx := context.Background()
	super := w.env.Super.Pool
	if _, err := super.Exec(ctx, `
		create function public.hold_list() returns trigger language plpgsql as $$
		begin
		  perform pg_advisory_xact_lock(7340034);
		  return new;
		end $$;
		create trigger hold_list before insert on audit.events
		  for each row when (new.action = 'patient.list') execute function public.hold_list();
		update app.sessions set last_seen_at = now() - interval '65 seconds'`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = super.Exec(ctx, `drop function if exists public.hold_list() cascade`) }()
	lock, err := super.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `select pg_advisory_xact_lock(7340034)`); err != nil {
		t.Fatal(err)
	}
	get := func(path string, done chan<- int) {
		req, err := http.NewRequest("GET", w.srv.URL+path, nil)
		if err != nil {
			done <- 0
			return
		}
		req.Header.Set("Authorization", "Bearer "+o.Lead.Token)
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}
	list := make(chan int, 1)
	go get("/v1/patients", list)
	waiting := func(event string) bool {
		var n int
		if err := super.QueryRow(ctx, `select count(*) from pg_stat_activity
			where wait_event_type = 'Lock' and wait_event = $1`, event).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	for i := 0; !waiting("advisory"); i++ {
		if i == 1000 {
			t.Fatal("the list never waited on the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	me := make(chan int, 1)
	go get("/v1/me", me)
	var st int
	for i := 0; st == 0; i++ {
		select {
		case st = <-me:
		default:
			if waiting("transactionid") {
				_ = lock.Rollback(ctx)
				<-me
				t.Fatal("the session's other request waits for the read that touched the session")
			}
			if i == 1000 {
				t.Fatal("the session's other request never answered")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if st != http.StatusOK {
		t.Errorf("GET /v1/me while the session's list runs: %d", st)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if st := <-list; st != http.StatusOK {
		t.Errorf("the list: %d", st)
	}
}
