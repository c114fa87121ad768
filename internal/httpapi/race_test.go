package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
)

// One magic link spent by many clients at once issues exactly one session:
// the link row is locked while it is checked and marked used, so the other
// attempts see it used (link_used) and each is audited as a denied sign-in.
//
// To make the race real rather than lucky, the test holds the link's row
// locked (as the superuser) until the requests are queued on it in the
// database, then lets go: they all read the link at once. Without the
// row lock in the consume path, each of them would find it unused.
func TestMagicLinkDoubleSpend(t *testing.T) {
	const clients = 20
	// The clients read the session token from the body: the org binds no
	// sessions (a bound role's token would be in the cookie only).
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Double Spend Org")
	m := w.addMember(o, "spender@example.test", identity.RoleProvider)
	ctx := context.Background()

	url, err := w.ops.OperatorLink(ctx, w.env.Super, m.Email, uuid.NullUUID{UUID: o.ID, Valid: true})
	if err != nil {
		t.Fatalf("operator link: %v", err)
	}
	token := url[strings.LastIndex(url, "=")+1:]
	body, err := json.Marshal(map[string]string{"token": token})
	if err != nil {
		t.Fatal(err)
	}
	sessions := func() int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.sessions where user_id = $1`, m.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sessionsBefore := sessions()
	successBefore := w.auditCount(o.ID, "auth.signin", "success")
	deniedBefore := w.auditCount(o.ID, "auth.signin", "denied")

	type result struct {
		status int
		body   []byte
		err    error
	}
	results := make([]result, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := w.srv.Client().Post(w.srv.URL+"/v1/auth/magic", "application/json", strings.NewReader(string(body)))
			if err != nil {
				results[i].err = err
				return
			}
			defer resp.Body.Close()
			results[i].status = resp.StatusCode
			results[i].body, results[i].err = io.ReadAll(resp.Body)
		}()
	}
	hold, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `select from app.magic_links where token_hash = sha256(convert_to($1, 'UTF8')) for update`,
		token); err != nil {
		t.Fatal(err)
	}
	close(start)
	// Wait until the app's connections queue on the lock (every pooled
	// connection, or at least two, which is a race), then release it. If
	// the consume path no longer touches the row, go on after a while: the
	// requests still run concurrently.
	want := min(int(w.env.App.Pool.Config().MaxConns), clients)
	waiting := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
			where datname = current_database() and usename = 'ward_app' and wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= want {
			break
		}
	}
	if waiting < 2 {
		t.Logf("only %d requests queued on the link row; racing without the gate", waiting)
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	var session string
	used := 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("client %d: %v", i, r.err)
		case r.status == http.StatusOK:
			if session != "" {
				t.Fatalf("client %d also got a session from the same link", i)
			}
			var s struct {
				Token string `json:"token"`
			}
			if err := json.Unmarshal(r.body, &s); err != nil || s.Token == "" {
				t.Fatalf("client %d: 200 without a session token: %s", i, r.body)
			}
			session = s.Token
		case r.status == http.StatusUnauthorized && problemCode(t, r.body) == "link_used":
			used++
		default:
			t.Fatalf("client %d: %d %s, want 200 or 401 link_used", i, r.status, r.body)
		}
	}
	if session == "" || used != clients-1 {
		t.Fatalf("%d clients spending one link: session issued %v, %d link_used; want one session and %d link_used",
			clients, session != "", used, clients-1)
	}
	var me struct {
		UserID uuid.UUID `json:"user_id"`
	}
	w.do("GET", "/v1/me", session, nil, http.StatusOK, &me)
	if me.UserID != m.ID {
		t.Fatalf("the session belongs to %s, want %s", me.UserID, m.ID)
	}
	if n := sessions() - sessionsBefore; n != 1 {
		t.Fatalf("%d sessions created, want 1", n)
	}
	if n := w.auditCount(o.ID, "auth.signin", "success") - successBefore; n != 1 {
		t.Fatalf("%d successful sign-ins audited, want 1", n)
	}
	if n := w.auditCount(o.ID, "auth.signin", "denied") - deniedBefore; n != clients-1 {
		t.Fatalf("%d denied sign-ins audited, want %d", n, clients-1)
	}
}
