package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestPatientReadAuditedInOneTransaction pins GET /v1/patients/{id}, which
// reads the row and appends its patient.read in one statement of a
// one-round-trip transaction: nothing of the record is served when that
// transaction does not commit, each served read has exactly one committed
// event, and a patient the caller may not see appends no success.
func TestPatientReadAuditedInOneTransaction(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Read Audit Org")
	w.populate(o, "ra")
	ctx := context.Background()
	path := "/v1/patients/" + o.P1.String()

	// A patient.read that fails at commit (a deferred trigger: the read
	// and the append succeed, the commit does not).
	if _, err := w.env.Super.Pool.Exec(ctx, `
		create function public.refuse_patient_read_commit() returns trigger language plpgsql as $$
		begin
		  if new.action = 'patient.read' and new.outcome = 'success' then
		    raise exception 'injected: patient.read refused at commit';
		  end if;
		  return null;
		end $$;
		create constraint trigger refuse_patient_read_commit after insert on audit.events
		  deferrable initially deferred for each row execute function public.refuse_patient_read_commit();`); err != nil {
		t.Fatal(err)
	}
	reads := w.auditCount(o.ID, "patient.read", "success")
	resp, b := w.request("GET", path, o.Prov.Token, nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("a read whose event does not commit: %d %s, want 500", resp.StatusCode, b)
	}
	if strings.Contains(string(b), "Patient One") || strings.Contains(string(b), "MRN-1") {
		t.Errorf("the record was served although its read did not commit: %s", b)
	}
	if n := w.auditCount(o.ID, "patient.read", "success"); n != reads {
		t.Errorf("%d patient.read events committed for a refused read", n-reads)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `drop trigger refuse_patient_read_commit on audit.events;
		drop function public.refuse_patient_read_commit()`); err != nil {
		t.Fatal(err)
	}

	// Served reads: one event each, naming the patient.
	for i := 1; i <= 3; i++ {
		var p struct{ Name string }
		w.do("GET", path, o.Prov.Token, nil, http.StatusOK, &p)
		if p.Name != "ra Patient One" {
			t.Fatalf("read %d: %+v", i, p)
		}
		if n := w.auditCount(o.ID, "patient.read", "success"); n != reads+i {
			t.Fatalf("after %d served reads, %d patient.read events", i, n-reads)
		}
	}
	var named int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
		and action = 'patient.read' and outcome = 'success' and patient_id = $2 and object_id = $2`,
		o.ID, o.P1).Scan(&named); err != nil {
		t.Fatal(err)
	}
	if named != 3 {
		t.Errorf("%d patient.read events name the patient, want 3", named)
	}

	// A patient the caller may not see (unassigned provider, another
	// org's admin): 404, no success appended, the refusal audited.
	other := w.createOrg("Read Audit Other")
	w.populate(other, "rb")
	denied := w.auditCount(o.ID, "patient.read", "denied")
	for _, who := range []*member{o.Prov2, other.Admin} {
		resp, b := w.request("GET", path, who.Token, nil)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(b), "Patient One") {
			t.Errorf("%s reads another's patient: %d %s", who.Email, resp.StatusCode, b)
		}
	}
	if n := w.auditCount(o.ID, "patient.read", "success"); n != reads+3 {
		t.Errorf("%d success events after refused reads, want none more", n-reads-3)
	}
	if n := w.auditCount(o.ID, "patient.read", "denied"); n != denied+1 {
		t.Errorf("%d denied events in the patient's org, want 1 (the unassigned provider)", n-denied)
	}
}
