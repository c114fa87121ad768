package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/audit"
)

// The audit log's transparency surface: the published key verifies the
// org's checkpoint; an admin's inclusion and consistency proofs verify
// against it; a patient's access report carries, per entry, an inclusion
// proof that verifies offline with the key alone; a tampered proof does not.
func TestAuditProofs(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Proof Org")
	w.populate(o, "prf")
	for range 3 {
		w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
	}
	w.do("GET", "/v1/audit/checkpoint", o.Admin.Token, nil, http.StatusNotFound, nil) // nothing signed yet
	w.integrate()

	resp, body := w.request("GET", "/.well-known/ward-audit-key", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != w.vkey {
		t.Fatalf("published key: %d %q", resp.StatusCode, body)
	}
	var cp audit.Checkpoint
	w.do("GET", "/v1/audit/checkpoint", o.PatUser.Token, nil, http.StatusOK, &cp)
	// A key that reads the log reads it too; a case's outside party does
	// not (the size would tell them how busy the org's log is).
	w.do("GET", "/v1/audit/checkpoint", w.createKey(o, "audit:read").Key, nil, http.StatusOK, nil)
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	payer := w.joined(o.Lead.Token, c.ID.String(), "payer@insurer.test", "payer", "view")
	w.do("GET", "/v1/audit/checkpoint", payer.Token, nil, http.StatusForbidden, nil)
	verified, err := audit.OpenCheckpoint(cp.Note, string(body))
	if err != nil || verified.Origin != "ward/audit/"+o.ID.String() || verified.Size < 3 {
		t.Fatalf("checkpoint: %+v, %v", verified, err)
	}

	var inc audit.Inclusion
	w.do("GET", "/v1/audit/proof/inclusion?seq=2", o.Admin.Token, nil, http.StatusOK, &inc)
	if _, err := inc.Verify(w.vkey); err != nil {
		t.Fatalf("inclusion proof of seq 2: %v", err)
	}
	inc.Seq = 3 // the same proof for another position
	if _, err := inc.Verify(w.vkey); err == nil {
		t.Fatal("a proof verified for the wrong position")
	}
	w.do("GET", "/v1/audit/proof/inclusion?seq=2", o.Lead.Token, nil, http.StatusForbidden, nil)
	w.do("GET", "/v1/audit/proof/inclusion?seq="+strconv.FormatInt(verified.Size+1, 10), o.Admin.Token, nil,
		http.StatusBadRequest, nil)

	var cons audit.Consistency
	w.do("GET", "/v1/audit/proof/consistency?from=1", o.Admin.Token, nil, http.StatusOK, &cons)
	if err := audit.VerifyConsistency(1, uint64(verified.Size), cons.Proof, cons.FromRoot, verified.Root); err != nil {
		t.Fatalf("consistency 1..%d: %v", verified.Size, err)
	}

	var rep struct {
		Checkpoint audit.Checkpoint `json:"checkpoint"`
		Accesses   []struct {
			Seq       int64        `json:"seq"`
			LeafHash  *audit.Hash  `json:"leaf_hash"`
			Inclusion []audit.Hash `json:"inclusion"`
		} `json:"accesses"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep)
	proved := 0
	for _, a := range rep.Accesses {
		if a.LeafHash == nil {
			continue
		}
		b := audit.Inclusion{Checkpoint: rep.Checkpoint, Seq: a.Seq, LeafHash: *a.LeafHash, Proof: a.Inclusion}
		if _, err := b.Verify(w.vkey); err != nil {
			t.Fatalf("access report entry seq %d: %v", a.Seq, err)
		}
		proved++
	}
	if proved < 3 {
		t.Fatalf("%d access report entries carry a proof, want the 3 reads at least", proved)
	}
}
