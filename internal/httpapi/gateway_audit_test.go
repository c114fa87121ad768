package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// The record a Ward-Patient header names is read in one round trip and its
// patient.read event commits while the body is de-identified
// (records.OpenPatient): nothing may reach the upstream before that commit,
// and a commit that fails refuses the call. The fake upstream looks for the
// committed event when the request reaches it; a deferred trigger on
// audit.events makes the database refuse the commit of any patient.read
// event, as a full disk or a lost connection would.
func TestGatewayPatientReadCommitsBeforeUpstream(t *testing.T) {
	g := newGW(t)
	ctx := context.Background()
	body := json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user",` +
		`"content":"Call Rosalind Vantongeren at 617-555-0142."}]}`)
	call := func() (*http.Response, []byte) {
		return g.request("POST", "/llm/v1/messages", "", body, "x-api-key", g.key, "anthropic-version", "2023-06-01",
			"Ward-Patient", g.patient.String())
	}
	if _, err := g.env.Super.Pool.Exec(ctx, `
		create function public.refuse_patient_read() returns trigger language plpgsql as $$
		begin
		  if new.action = 'patient.read' then
		    raise exception 'injected: patient.read refused at commit';
		  end if;
		  return null;
		end $$;
		create constraint trigger refuse_patient_read after insert on audit.events
		  deferrable initially deferred for each row execute function public.refuse_patient_read();`); err != nil {
		t.Fatal(err)
	}
	before, reads := len(g.up.calls()), g.auditCount(g.o.ID, "patient.read", "success")
	resp, b := call()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), `"type":"error"`) {
		t.Errorf("a patient.read that does not commit: %d %s, want the 500 in the Anthropic shape", resp.StatusCode, b)
	}
	if n := len(g.up.calls()); n != before {
		t.Errorf("the upstream got %d calls although the record's read did not commit", n-before)
	}
	if n := g.auditCount(g.o.ID, "patient.read", "success"); n != reads {
		t.Errorf("%d patient.read events committed, want none", n-reads)
	}
	if n := g.auditCount(g.o.ID, "ai.invoke", "success"); n != 0 {
		t.Errorf("%d ai.invoke events for a refused call", n)
	}

	if _, err := g.env.Super.Pool.Exec(ctx, `drop trigger refuse_patient_read on audit.events;
		drop function public.refuse_patient_read()`); err != nil {
		t.Fatal(err)
	}
	// When the request reaches the upstream, the read's event is already
	// committed (the oracle's pool sees it).
	var atUpstream atomic.Int64
	atUpstream.Store(-1)
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		atUpstream.Store(int64(g.auditCount(g.o.ID, "patient.read", "success")))
		return false
	})
	resp, b = call()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Rosalind Vantongeren") {
		t.Fatalf("after the trigger is gone: %d %s", resp.StatusCode, b)
	}
	if n := atUpstream.Load(); n != int64(reads+1) {
		t.Errorf("the upstream got the request when %d patient.read events had committed, want %d", n, reads+1)
	}
	if n := len(g.up.calls()); n != before+1 {
		t.Errorf("the upstream got %d calls, want 1", n-before)
	}
	noCanary(t, "the upstream requests", g.up.all())
	if n := g.auditCount(g.o.ID, "patient.read", "success"); n != reads+1 {
		t.Errorf("%d patient.read events, want 1", n-reads)
	}
	if n := g.auditCount(g.o.ID, "ai.invoke", "success"); n != 1 {
		t.Errorf("%d ai.invoke events, want 1", n)
	}
}
