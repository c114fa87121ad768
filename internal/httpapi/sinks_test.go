package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/sink"
)

type hookReq struct {
	id, ts, sig string
	body        []byte
}

// verifyHook runs the npm standardwebhooks library over a received
// request with secret.
func verifyHook(t *testing.T, secret string, r hookReq) bool {
	t.Helper()
	m, _ := json.Marshal(map[string]string{"id": r.id, "timestamp": r.ts, "signature": r.sig, "body": string(r.body)})
	p := filepath.Join(t.TempDir(), "msg.json")
	if err := os.WriteFile(p, m, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("..", "..", "scripts", "validators", "validate.mjs")
	if _, err := os.Stat(filepath.Join("..", "..", "scripts", "validators", "node_modules", "standardwebhooks")); err != nil {
		t.Fatal("the validators are not installed: run scripts/deps.sh validators")
	}
	out, err := exec.Command("node", script, "webhook", secret, p).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("node: %v", err)
		}
		return false
	}
	return strings.Contains(string(out), "verified")
}

// SIEM sinks through the API: only admins who stepped up configure them,
// each org sees its own; a webhook's secret rotates with an overlap window
// in which both signatures verify (npm standardwebhooks), and after which
// only the new one does.
func TestAuditSinksAPI(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Sink A")
	w.populate(a, "sa")
	b := w.createOrg("Sink B")
	w.populate(b, "sb")
	w.integrate()

	var mu sync.Mutex
	var got []hookReq
	recv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, hookReq{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body})
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	last := func() hookReq {
		mu.Lock()
		defer mu.Unlock()
		if len(got) == 0 {
			t.Fatal("the receiver got nothing")
		}
		return got[len(got)-1]
	}

	// Refusals and bad input.
	hook := map[string]any{"kind": "webhook", "name": "siem", "endpoint": recv.URL + "/ward"}
	for _, m := range []*member{a.Lead, a.Prov} {
		resp, body := w.request("POST", "/v1/audit/sinks", m.Token, hook)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin created a sink: %d %s", resp.StatusCode, body)
		}
	}
	for _, bad := range []map[string]any{
		{"kind": "webhook", "name": "x", "endpoint": "http://insecure.example/hook"},
		{"kind": "webhook", "name": "x", "endpoint": "https://user:pw@siem.example/hook"},
		{"kind": "smtp", "name": "x", "endpoint": "https://siem.example"},
		{"kind": "syslog", "name": "x", "endpoint": "siem.example"},
		{"kind": "splunk", "name": "x", "endpoint": "https://hec.example"},
		{"kind": "webhook", "name": "", "endpoint": "https://siem.example"},
		{"kind": "webhook", "name": "x", "endpoint": "https://siem.example", "format": "cef"},
	} {
		resp, body := w.request("POST", "/v1/audit/sinks", a.Admin.Token, bad)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d %s", bad, resp.StatusCode, body)
		}
	}

	var created struct {
		Sink   sink.Sink `json:"sink"`
		Secret string    `json:"secret"`
	}
	w.do("POST", "/v1/audit/sinks", a.Admin.Token, hook, http.StatusCreated, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Sink.Kind != sink.Webhook {
		t.Fatalf("created %+v", created)
	}
	resp, body := w.request("POST", "/v1/audit/sinks", a.Admin.Token, hook)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a duplicate name: %d %s", resp.StatusCode, body)
	}
	// The secret is not in the list, nor in the logs.
	var list struct{ Sinks []json.RawMessage }
	w.do("GET", "/v1/audit/sinks", a.Admin.Token, nil, http.StatusOK, &list)
	if len(list.Sinks) != 1 || strings.Contains(string(list.Sinks[0]), created.Secret[6:]) ||
		strings.Contains(w.logs.String(), created.Secret[6:]) {
		t.Fatalf("list %s", list.Sinks)
	}
	w.do("GET", "/v1/audit/sinks", b.Admin.Token, nil, http.StatusOK, &list)
	if len(list.Sinks) != 0 {
		t.Fatalf("org B sees org A's sinks: %s", list.Sinks)
	}
	id := created.Sink.ID.String()
	w.do("PATCH", "/v1/audit/sinks/"+id, b.Admin.Token, map[string]any{"enabled": false}, http.StatusNotFound, nil)
	w.do("POST", "/v1/audit/sinks/"+id+"/rotate", b.Admin.Token, nil, http.StatusNotFound, nil)

	// An org holds at most 10 sinks (the database counts them), so one
	// tenant cannot hold the one deliverer with sinks that never answer.
	for i := range 10 {
		w.do("POST", "/v1/audit/sinks", b.Admin.Token, map[string]any{"kind": "syslog", "name": fmt.Sprintf("s%d", i),
			"endpoint": "siem.example:6514"}, http.StatusCreated, nil)
	}
	resp, body = w.request("POST", "/v1/audit/sinks", b.Admin.Token, map[string]any{"kind": "syslog", "name": "s10",
		"endpoint": "siem.example:6514"})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "sink_limit") {
		t.Fatalf("an eleventh sink: %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/audit/sinks", b.Admin.Token, nil, http.StatusOK, &list)
	if len(list.Sinks) != 10 {
		t.Fatalf("org B holds %d sinks, want 10", len(list.Sinks))
	}

	// Deliver: the signature verifies under the secret.
	d := sink.NewDeliverer(w.env.Super, w.inst, sink.Config{Client: recv.Client(), Site: "ward-test"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	deliver := func() {
		t.Helper()
		w.integrate()
		if _, err := d.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deliver()
	first := last()
	if !verifyHook(t, created.Secret, first) || strings.Contains(first.sig, " ") {
		t.Fatalf("one signature under the secret: %q", first.sig)
	}
	if strings.Contains(string(first.body), b.ID.String()) {
		t.Fatal("org A's sink received org B's events")
	}

	// Rotate: during the overlap both secrets verify.
	var rot struct{ Secret string }
	w.do("POST", "/v1/audit/sinks/"+id+"/rotate", a.Admin.Token, nil, http.StatusOK, &rot)
	if rot.Secret == created.Secret || !strings.HasPrefix(rot.Secret, "whsec_") {
		t.Fatal("rotation returned no new secret")
	}
	w.do("GET", "/v1/patients/"+a.P1.String(), a.Prov.Token, nil, http.StatusOK, nil)
	deliver()
	during := last()
	if during.id == first.id || len(strings.Fields(during.sig)) != 2 {
		t.Fatalf("during the overlap: %q", during.sig)
	}
	if !verifyHook(t, created.Secret, during) || !verifyHook(t, rot.Secret, during) {
		t.Fatal("during the overlap, a receiver with either secret must verify")
	}
	// After the overlap only the new one.
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.audit_sinks set prev_expires_at = now() - interval '1 second'
		where id = $1`, created.Sink.ID); err != nil {
		t.Fatal(err)
	}
	w.do("GET", "/v1/patients/"+a.P1.String(), a.Prov.Token, nil, http.StatusOK, nil)
	deliver()
	after := last()
	if len(strings.Fields(after.sig)) != 1 || !verifyHook(t, rot.Secret, after) || verifyHook(t, created.Secret, after) {
		t.Fatalf("after the overlap: %q", after.sig)
	}

	// No PHI left in any batch: the events carry ids only.
	mu.Lock()
	for _, g := range got {
		for _, c := range []string{"Patient One", "Patient Two", "MRN-1", "MRN-2", "1970-03-04", "1981-05-06"} {
			if strings.Contains(string(g.body), c) {
				t.Errorf("PHI canary %q in a webhook batch", c)
			}
		}
	}
	mu.Unlock()

	// Disable and list: the state shows; configuration is audited.
	w.do("PATCH", "/v1/audit/sinks/"+id, a.Admin.Token, map[string]any{"enabled": false}, http.StatusOK, nil)
	var sinks struct{ Sinks []sink.Sink }
	w.do("GET", "/v1/audit/sinks", a.Admin.Token, nil, http.StatusOK, &sinks)
	if s := sinks.Sinks[0]; s.Enabled || s.Cursor == 0 || s.LastSuccess == nil {
		t.Fatalf("listed %+v", s)
	}
	for _, action := range []string{"audit.sink.create", "audit.sink.rotate", "audit.sink.update", "audit.sink.list"} {
		if w.auditCount(a.ID, action, "success") == 0 {
			t.Errorf("%s not audited", action)
		}
	}
	if w.auditCount(a.ID, "audit.sink.create", "denied") == 0 {
		t.Error("refused sink creation not audited")
	}
	w.age(a.Admin.Token, 11*time.Minute)
	resp, body = w.request("POST", "/v1/audit/sinks/"+id+"/rotate", a.Admin.Token, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "step_up_required" {
		t.Fatalf("rotation without a fresh second factor: %d %s", resp.StatusCode, body)
	}
	_ = uuid.Nil
}
