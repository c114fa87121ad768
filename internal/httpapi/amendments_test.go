package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

type amendmentJSON struct {
	ID             uuid.UUID  `json:"id"`
	PatientID      uuid.UUID  `json:"patient_id"`
	EntryID        *uuid.UUID `json:"entry_id"`
	Request        string     `json:"request"`
	RequestedBy    uuid.UUID  `json:"requested_by"`
	Status         string     `json:"status"`
	DenialBasis    *string    `json:"denial_basis"`
	Decision       *string    `json:"decision"`
	DecidedBy      *uuid.UUID `json:"decided_by"`
	Disagreement   *string    `json:"disagreement"`
	DisagreementAt *time.Time `json:"disagreement_at"`
	Rebuttal       *string    `json:"rebuttal"`
	RebuttalBy     *uuid.UUID `json:"rebuttal_by"`
	DSRID          uuid.UUID  `json:"dsr_id"`
	QueueStatus    *string    `json:"queue_status"`
	DueAt          *time.Time `json:"due_at"`
}

// entryMarksJSON is a listed entry with its links to amendments.
type entryMarksJSON struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	Amendments []struct {
		ID                uuid.UUID  `json:"id"`
		Status            string     `json:"status"`
		DecidedAt         *time.Time `json:"decided_at"`
		DisagreementFiled bool       `json:"disagreement_filed"`
	} `json:"amendments"`
}

// TestAmendments: a patient asks for an amendment of their record or of an
// entry (HIPAA §164.526), which files its entry in the data-subject queue;
// an admin accepts (the amendment kept beside the original) or denies with
// a basis; after a denial the patient states disagreement once and the
// practice rebuts once; the care team reads it all, nobody else; each step
// is audited and every text is sealed.
func TestAmendments(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Amend Org")
	w.populate(o, "amd")
	ctx := context.Background()
	p1, p2 := "/v1/patients/"+o.P1.String(), "/v1/patients/"+o.P2.String()
	var entry, otherEntry struct {
		ID uuid.UUID `json:"id"`
	}
	food := func(name string) map[string]any {
		return map[string]any{"kind": "food", "name": name, "observed_at": time.Now().UTC().Format(time.RFC3339)}
	}
	w.do("POST", p1+"/entries", o.Prov.Token, food("Shellfish risotto"), http.StatusCreated, &entry)
	w.do("POST", p2+"/entries", o.Lead.Token, food("Toast"), http.StatusCreated, &otherEntry)
	listEntries := func(token, path string) []entryMarksJSON {
		t.Helper()
		var out struct {
			Entries []entryMarksJSON `json:"entries"`
		}
		w.do("GET", path+"/entries", token, nil, http.StatusOK, &out)
		return out.Entries
	}

	// Who asks: the patient of the record, or an admin on their behalf.
	const wrong = "The risotto was vegetarian: I do not eat shellfish."
	var a amendmentJSON
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"entry_id": entry.ID, "request": "  " + wrong + " "},
		http.StatusCreated, &a)
	if a.Status != "requested" || a.Request != wrong || a.EntryID == nil || *a.EntryID != entry.ID ||
		a.RequestedBy != o.PatUser.ID || a.QueueStatus == nil || *a.QueueStatus != "open" || a.DueAt == nil ||
		a.DueAt.Sub(time.Now()) < 59*24*time.Hour || a.DueAt.Sub(time.Now()) > 61*24*time.Hour {
		t.Fatalf("requested: %+v", a)
	}
	if entries := listEntries(o.Prov.Token, p1); len(entries) != 1 || len(entries[0].Amendments) != 1 ||
		entries[0].Amendments[0].ID != a.ID || entries[0].Amendments[0].Status != "requested" ||
		entries[0].Amendments[0].DecidedAt != nil {
		t.Fatalf("the entry with a request pending: %+v", entries)
	}
	var queued dsrJSON
	w.do("GET", "/v1/compliance/dsr/"+a.DSRID.String(), o.Admin.Token, nil, http.StatusOK, &queued)
	if queued.Kind != "amendment" || queued.PatientID == nil || *queued.PatientID != o.P1 || queued.Status != "open" {
		t.Fatalf("the queue entry: %+v", queued)
	}
	var onBehalf amendmentJSON
	w.do("POST", p1+"/amendments", o.Admin.Token, map[string]any{"request": "Update my address (asked on paper)."},
		http.StatusCreated, &onBehalf)
	for _, c := range []struct {
		name, path, token string
		body              map[string]any
		want              int
	}{
		{"a provider", p1, o.Prov.Token, map[string]any{"request": "x"}, http.StatusForbidden},
		{"a lead", p1, o.Lead.Token, map[string]any{"request": "x"}, http.StatusForbidden},
		// Another patient cannot see the record, so cannot name it (the
		// keys of the record are read first, since 00275).
		{"another patient", p1, o.PatUser2.Token, map[string]any{"request": "x"}, http.StatusNotFound},
		{"an entry of another record", p1, o.PatUser.Token, map[string]any{"entry_id": otherEntry.ID, "request": "x"},
			http.StatusNotFound},
		{"no such entry", p1, o.PatUser.Token, map[string]any{"entry_id": uuid.New(), "request": "x"}, http.StatusNotFound},
		{"an empty request", p1, o.PatUser.Token, map[string]any{"request": "  "}, http.StatusBadRequest},
		{"an unknown field", p1, o.PatUser.Token, map[string]any{"request": "x", "status": "accepted"}, http.StatusBadRequest},
		{"too long", p1, o.PatUser.Token, map[string]any{"request": string(bytes.Repeat([]byte("a"), 10001))},
			http.StatusBadRequest},
	} {
		if resp, body := w.request("POST", c.path+"/amendments", c.token, c.body); resp.StatusCode != c.want {
			t.Errorf("%s asks: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
	}

	// Who reads: whoever reads the record's entries.
	list := func(token string, want int) []amendmentJSON {
		t.Helper()
		var out struct {
			Amendments []amendmentJSON `json:"amendments"`
		}
		w.do("GET", p1+"/amendments", token, nil, want, &out)
		return out.Amendments
	}
	if got := list(o.Prov.Token, http.StatusOK); len(got) != 2 || got[0].ID != a.ID || got[0].Request != wrong ||
		got[0].QueueStatus != nil {
		t.Fatalf("the care team's list: %+v", got)
	}
	if got := list(o.PatUser.Token, http.StatusOK); len(got) != 2 || got[0].QueueStatus == nil {
		t.Fatalf("the patient's list: %+v", got)
	}
	list(o.PatUser2.Token, http.StatusNotFound)
	list(o.Prov2.Token, http.StatusNotFound)
	stranger := w.createOrg("Amend Other").Admin.Token
	w.do("GET", p1+"/amendments", stranger, nil, http.StatusNotFound, nil)

	// An admin decides; a decision is final and closes the queue entry.
	step := func(id uuid.UUID, what, token string, body map[string]any, want int) amendmentJSON {
		t.Helper()
		var out amendmentJSON
		if want != http.StatusOK {
			w.do("POST", p1+"/amendments/"+id.String()+"/"+what, token, body, want, nil)
			return out
		}
		w.do("POST", p1+"/amendments/"+id.String()+"/"+what, token, body, want, &out)
		return out
	}
	accept := map[string]any{"outcome": "accepted", "statement": "Corrected: vegetable risotto, no shellfish."}
	step(a.ID, "decision", o.Lead.Token, accept, http.StatusForbidden)
	step(a.ID, "decision", o.PatUser.Token, accept, http.StatusForbidden)
	step(a.ID, "decision", o.Admin.Token, map[string]any{"outcome": "denied", "statement": "x"}, http.StatusBadRequest)
	step(a.ID, "decision", o.Admin.Token, map[string]any{"outcome": "accepted", "basis": "accurate_and_complete",
		"statement": "x"}, http.StatusBadRequest)
	step(a.ID, "decision", o.Admin.Token, map[string]any{"outcome": "maybe", "statement": "x"}, http.StatusBadRequest)
	step(uuid.New(), "decision", o.Admin.Token, accept, http.StatusNotFound)
	// Another org's admin, with this org's ids, finds nothing to decide
	// or rebut; a path that is no id is a 400.
	step(a.ID, "decision", stranger, accept, http.StatusNotFound)
	step(a.ID, "rebuttal", stranger, map[string]any{"statement": "x"}, http.StatusNotFound)
	w.do("POST", p1+"/amendments/not-an-id/decision", o.Admin.Token, accept, http.StatusBadRequest, nil)
	w.do("POST", "/v1/patients/not-an-id/amendments", o.PatUser.Token, map[string]any{"request": "x"}, http.StatusBadRequest, nil)
	got := step(a.ID, "decision", o.Admin.Token, accept, http.StatusOK)
	if got.Status != "accepted" || got.Decision == nil || *got.Decision != "Corrected: vegetable risotto, no shellfish." ||
		got.DecidedBy == nil || *got.DecidedBy != o.Admin.ID || got.Request != wrong {
		t.Fatalf("accepted: %+v", got)
	}
	w.do("GET", "/v1/compliance/dsr/"+a.DSRID.String(), o.Admin.Token, nil, http.StatusOK, &queued)
	if queued.Status != "fulfilled" {
		t.Fatalf("the queue entry of an accepted amendment: %s", queued.Status)
	}
	step(a.ID, "decision", o.Admin.Token, map[string]any{"outcome": "denied", "basis": "accurate_and_complete",
		"statement": "Second thoughts."}, http.StatusConflict)
	step(a.ID, "disagreement", o.PatUser.Token, map[string]any{"statement": "x"}, http.StatusConflict)
	// The original entry is kept as it was, beside its amendment.
	// It links to the amendment (§164.526(c)(1)), for whoever reads it.
	for _, token := range []string{o.PatUser.Token, o.Prov.Token, o.Lead.Token} {
		entries := listEntries(token, p1)
		if len(entries) != 1 || entries[0].Name != "Shellfish risotto" || len(entries[0].Amendments) != 1 ||
			entries[0].Amendments[0].ID != a.ID || entries[0].Amendments[0].Status != "accepted" ||
			entries[0].Amendments[0].DecidedAt == nil || entries[0].Amendments[0].DisagreementFiled {
			t.Fatalf("the original entry: %+v", entries)
		}
	}
	if entries := listEntries(o.Lead.Token, p2); len(entries) != 1 || entries[0].Amendments != nil {
		t.Fatalf("an entry nobody asked to amend: %+v", entries)
	}

	// A denial, with its basis; the patient disagrees once, the practice
	// rebuts once, each in turn.
	const why = "The address on file is the one your insurer confirmed."
	step(onBehalf.ID, "rebuttal", o.Admin.Token, map[string]any{"statement": "x"}, http.StatusConflict)
	got = step(onBehalf.ID, "decision", o.Admin.Token, map[string]any{"outcome": "denied", "basis": "accurate_and_complete",
		"statement": why}, http.StatusOK)
	if got.Status != "denied" || got.DenialBasis == nil || *got.DenialBasis != "accurate_and_complete" || *got.Decision != why {
		t.Fatalf("denied: %+v", got)
	}
	w.do("GET", "/v1/compliance/dsr/"+onBehalf.DSRID.String(), o.Admin.Token, nil, http.StatusOK, &queued)
	if queued.Status != "denied" {
		t.Fatalf("the queue entry of a denied amendment: %s", queued.Status)
	}
	step(onBehalf.ID, "rebuttal", o.Admin.Token, map[string]any{"statement": "x"}, http.StatusConflict)
	step(onBehalf.ID, "disagreement", o.Admin.Token, map[string]any{"statement": "x"}, http.StatusForbidden)
	step(onBehalf.ID, "disagreement", o.PatUser2.Token, map[string]any{"statement": "x"}, http.StatusNotFound)
	step(onBehalf.ID, "disagreement", o.PatUser.Token, map[string]any{"statement": ""}, http.StatusBadRequest)
	got = step(onBehalf.ID, "disagreement", o.PatUser.Token, map[string]any{"statement": "I moved in June."}, http.StatusOK)
	if got.Disagreement == nil || *got.Disagreement != "I moved in June." || got.DisagreementAt == nil {
		t.Fatalf("disagreement: %+v", got)
	}
	step(onBehalf.ID, "disagreement", o.PatUser.Token, map[string]any{"statement": "Again."}, http.StatusConflict)
	step(onBehalf.ID, "rebuttal", o.PatUser.Token, map[string]any{"statement": "x"}, http.StatusForbidden)
	got = step(onBehalf.ID, "rebuttal", o.Admin.Token, map[string]any{"statement": "No record of a move reached us."},
		http.StatusOK)
	if got.Rebuttal == nil || got.RebuttalBy == nil || *got.RebuttalBy != o.Admin.ID || *got.Disagreement != "I moved in June." {
		t.Fatalf("rebuttal: %+v", got)
	}
	step(onBehalf.ID, "rebuttal", o.Admin.Token, map[string]any{"statement": "Again."}, http.StatusConflict)

	// Its queue entry closes with the decision only (00158): neither an
	// admin nor a dsr key answers it by hand; withdrawing it is allowed.
	var pending amendmentJSON
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "Pending."}, http.StatusCreated, &pending)
	dsrKey := w.createKey(o, "dsr").Key
	for _, outcome := range []string{"fulfilled", "denied"} {
		for _, token := range []string{o.Admin.Token, dsrKey} {
			w.do("POST", "/v1/compliance/dsr/"+pending.DSRID.String()+"/close", token,
				map[string]any{"outcome": outcome}, http.StatusConflict, nil)
		}
	}
	got = step(pending.ID, "decision", o.Admin.Token, accept, http.StatusOK)
	w.do("GET", "/v1/compliance/dsr/"+pending.DSRID.String(), o.Admin.Token, nil, http.StatusOK, &queued)
	if got.Status != "accepted" || queued.Status != "fulfilled" {
		t.Fatalf("decided after the refused closes: %s, queue %s", got.Status, queued.Status)
	}

	// A request withdrawn in the queue leaves nothing to decide.
	var withdrawn amendmentJSON
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "Never mind."}, http.StatusCreated, &withdrawn)
	w.do("POST", "/v1/compliance/dsr/"+withdrawn.DSRID.String()+"/close", o.Admin.Token,
		map[string]any{"outcome": "withdrawn"}, http.StatusOK, nil)
	step(withdrawn.ID, "decision", o.Admin.Token, accept, http.StatusConflict)

	// Every step is audited with the patient; no text is stored in the
	// clear.
	for action, want := range map[string]int{"amendment.request": 4, "amendment.decide": 3, "amendment.disagree": 1,
		"amendment.rebut": 1, "amendment.list": 2} {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = $2
		    and outcome = 'success' and patient_id = $3`, o.ID, action, o.P1).Scan(&n); err != nil || n != want {
			t.Errorf("%s audited %d times, want %d (%v)", action, n, want, err)
		}
	}
	// Refusals too: the provider's, the lead's and the other patient's
	// requests, the entries of another record, and the decisions refused.
	for action, least := range map[string]int{"amendment.request": 5, "amendment.decide": 2, "amendment.disagree": 2} {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = $2
		    and outcome = 'denied'`, o.ID, action).Scan(&n); err != nil || n < least {
			t.Errorf("%s refused and audited %d times, want at least %d (%v)", action, n, least, err)
		}
	}
	var dsrEvents int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and patient_id = $2
	    and outcome = 'success' and action in ('dsr.open', 'dsr.close')`, o.ID, o.P1).Scan(&dsrEvents); err != nil || dsrEvents != 8 {
		t.Errorf("%d dsr.open and dsr.close events, want 4 + 4 (%v)", dsrEvents, err)
	}
	// A denied request about an entry, disputed: the entry says so.
	var disputed amendmentJSON
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"entry_id": entry.ID, "request": "It was mushroom."},
		http.StatusCreated, &disputed)
	step(disputed.ID, "decision", o.Admin.Token, map[string]any{"outcome": "denied", "basis": "accurate_and_complete",
		"statement": "The order slip says shrimp."}, http.StatusOK)
	step(disputed.ID, "disagreement", o.PatUser.Token, map[string]any{"statement": "The slip is wrong."}, http.StatusOK)
	if entries := listEntries(o.Prov.Token, p1); len(entries) != 1 || len(entries[0].Amendments) != 2 ||
		entries[0].Amendments[0].ID != a.ID || entries[0].Amendments[1].ID != disputed.ID ||
		entries[0].Amendments[1].Status != "denied" || !entries[0].Amendments[1].DisagreementFiled {
		t.Fatalf("the disputed entry: %+v", entries)
	}
	// Nobody else learns of the amendments through the entries.
	w.do("GET", p1+"/entries", o.PatUser2.Token, nil, http.StatusNotFound, nil)
	w.do("GET", p1+"/entries", stranger, nil, http.StatusNotFound, nil)

	// The patient is told of each decision and of the rebuttal by mail
	// (§164.526(c)(2), (d)(1)): that there is one and what they may do,
	// never a text; nobody else is.
	outbox := w.outbox.String()
	to := "To: " + o.PatUser.Email + "\nSubject: "
	for subject, want := range map[string]int{
		"Your request to amend your health record was accepted": 2, // a and pending
		"Your request to amend your health record was denied":   2, // onBehalf and disputed
		"Your practice answered your statement of disagreement": 1,
	} {
		if n := strings.Count(outbox, to+subject); n != want {
			t.Errorf("%q mailed to the patient %d times, want %d", subject, n, want)
		}
	}
	if n := strings.Count(outbox, "Subject: Your request to amend") + strings.Count(outbox, "Subject: Your practice answered"); n != 5 {
		t.Errorf("%d amendment notices in all, want the patient's 5", n)
	}
	for _, text := range []string{"vegetable risotto", why, "No record of a move", "order slip", "shellfish", "mushroom"} {
		if strings.Contains(outbox, text) {
			t.Errorf("a notice carries the text %q", text)
		}
	}
	if !strings.Contains(outbox, "statement of disagreement") || !strings.Contains(outbox, "Secretary of the U.S. Department of Health") {
		t.Error("the denial's notice does not say what the patient may do")
	}
	var notified int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and outcome = 'success'
	    and action in ('amendment.decide', 'amendment.rebut') and (details->>'notified')::int = 1`, o.ID).Scan(&notified); err != nil ||
		notified != 5 {
		t.Errorf("%d decide and rebut events say one patient user was told, want 5 (%v)", notified, err)
	}

	var clear int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.record_amendments
	    where position(convert_to('shellfish', 'UTF8') in request_enc) > 0
	       or position(convert_to('June', 'UTF8') in coalesce(disagreement_enc, '')) > 0`).Scan(&clear); err != nil || clear != 0 {
		t.Errorf("%d amendments hold text in the clear (%v)", clear, err)
	}
}
