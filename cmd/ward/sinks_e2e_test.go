package main

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/audit/sink"
)

// TestSIEMWebhookEndToEnd: an admin adds a webhook sink to a running ward
// serve (trusting the receiver's CA with --audit-sinks-ca, on loopback
// with --audit-sinks-allow-loopback); the server's deliverer streams the
// org's log to it, signed with the secret the API returned once.
func TestSIEMWebhookEndToEnd(t *testing.T) {
	var mu sync.Mutex
	type hook struct {
		id, ts, sig string
		body        []byte
	}
	var got []hook
	recv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, hook{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b})
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	ca := filepath.Join(t.TempDir(), "siem-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: recv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServeWith(t, dir, noEnv, "--audit-sinks-ca", ca, "--audit-sinks-allow-loopback")
	out := mustWard(t, "org", "create", "--data-dir", dir, "--name", "Stream Clinic", "--admin-email", "admin@stream.test")
	orgID := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", "admin@stream.test"))
	var sess struct {
		Token string `json:"token"`
	}
	s.noDeviceBinding()
	s.call("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, http.StatusOK, &sess)
	s.stepUp(sess.Token)
	var created struct {
		Sink   sink.Sink `json:"sink"`
		Secret string    `json:"secret"`
	}
	s.call("POST", "/v1/audit/sinks", sess.Token, map[string]any{"kind": "webhook", "name": "siem",
		"endpoint": recv.URL + "/ward", "batch_max": 50}, http.StatusCreated, &created)
	var p struct {
		ID string `json:"id"`
	}
	s.call("POST", "/v1/patients", sess.Token, map[string]any{"name": "Streamed Patient"}, http.StatusCreated, &p)
	s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, nil)

	for deadline := time.Now().Add(30 * time.Second); ; {
		mu.Lock()
		var read *hook
		for i := range got {
			if strings.Contains(string(got[i].body), `"operation":"patient.read"`) {
				read = &got[i]
			}
		}
		mu.Unlock()
		if read != nil {
			want, err := sink.Sign(created.Secret, read.id, read.ts, read.body)
			if err != nil || read.sig != want {
				t.Fatalf("signature %q, want %q (%v)", read.sig, want, err)
			}
			var b sink.WebhookBody
			if err := json.Unmarshal(read.body, &b); err != nil || b.Data.Org != orgID {
				t.Fatalf("batch of org %q, want %s (%v)", b.Data.Org, orgID, err)
			}
			if strings.Contains(string(read.body), "Streamed Patient") {
				t.Fatal("the patient's name left in a batch")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no batch with the read arrived (%d batches)", len(got))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
