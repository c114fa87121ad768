package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/keystore"
)

// A legal hold's reason and release note are sealed under the org's keys
// (migration 00280): the table holds neither in the clear, read as a
// superuser, while the API returns both. A hold written in the clear
// before 00280 is sealed by cases.SealHoldTexts (what `ward migrate`
// runs), after which the API returns its texts too and the table holds
// them no more. A shred leaves none legible: the sealed ones have no key
// left, and a clear one (a hold `ward migrate` has not sealed yet) is
// overwritten (00281).
func TestLegalHoldTextsSealed(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Hold Seal")
	ctx := context.Background()
	const reason, note = "Matter of Quillon Varga v. clinic", "Settled with Quillon Varga"
	const oldReason, oldNote = "Subpoena naming Quillon Varga", "Quillon Varga withdrew"

	type hold struct {
		ID          uuid.UUID `json:"id"`
		Reason      string    `json:"reason"`
		ReleaseNote string    `json:"release_note"`
	}
	var placed hold
	w.do("POST", "/v1/legal-holds", o.Admin.Token, map[string]any{"reason": reason}, http.StatusCreated, &placed)
	if placed.Reason != reason {
		t.Fatalf("placed hold's reason %q, want %q", placed.Reason, reason)
	}
	w.do("POST", "/v1/legal-holds/"+placed.ID.String()+"/release", o.Admin.Token, map[string]any{"note": note},
		http.StatusNoContent, nil)

	// A hold of before 00280: clear texts, written as the old server did.
	var legacy uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `insert into app.legal_holds (org_id, reason, created_by, released_at,
	    released_by, release_note) values ($1, $2, $3, now(), $3, $4) returning id`,
		o.ID, oldReason, o.Admin.ID, oldNote).Scan(&legacy); err != nil {
		t.Fatal(err)
	}

	// rowsText is every hold row of the org as the database stores it.
	rowsText := func() []byte {
		t.Helper()
		var b []byte
		if err := w.env.Super.Pool.QueryRow(ctx, `select coalesce(string_agg(h::text, ' '), '')::bytea
		    from app.legal_holds h where h.org_id = $1`, o.ID).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	list := func() map[uuid.UUID]hold {
		t.Helper()
		var out struct{ Holds []hold }
		w.do("GET", "/v1/legal-holds", o.Admin.Token, nil, http.StatusOK, &out)
		m := map[uuid.UUID]hold{}
		for _, h := range out.Holds {
			m[h.ID] = h
		}
		return m
	}

	var reasonNull, noteNull bool
	var reasonEnc, noteEnc []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select reason is null, reason_enc, release_note is null, release_note_enc
	    from app.legal_holds where org_id = $1 and id = $2`, o.ID, placed.ID).Scan(&reasonNull, &reasonEnc, &noteNull, &noteEnc); err != nil {
		t.Fatal(err)
	}
	if !reasonNull || !noteNull || len(reasonEnc) == 0 || len(noteEnc) == 0 {
		t.Fatalf("placed hold: clear reason null %v, note null %v, sealed %d and %d bytes; want clear null, sealed set",
			reasonNull, noteNull, len(reasonEnc), len(noteEnc))
	}
	stored := rowsText()
	if bytes.Contains(reasonEnc, []byte("Quillon")) || bytes.Contains(noteEnc, []byte("Quillon")) {
		t.Errorf("the sealed reason or note holds the text")
	}
	if !bytes.Contains(stored, []byte("Quillon")) {
		t.Fatalf("the legacy hold's clear text is not in the table: the check below would prove nothing")
	}
	for _, s := range []string{reason, note, "Settled", "Matter of"} {
		if bytes.Contains(stored, []byte(s)) {
			t.Errorf("the table holds %q of the hold placed through the API in the clear", s)
		}
	}
	got := list()
	if h := got[placed.ID]; h.Reason != reason || h.ReleaseNote != note {
		t.Errorf("API lists the hold with reason %q, note %q; want %q, %q", h.Reason, h.ReleaseNote, reason, note)
	}
	if h := got[legacy]; h.Reason != "" || h.ReleaseNote != "" {
		t.Errorf("before the seal the API lists the legacy hold with reason %q, note %q; want both empty (ward_app reads no clear text)",
			h.Reason, h.ReleaseNote)
	}

	// `ward migrate`'s step seals the legacy hold; a second run seals nothing.
	if n, err := cases.SealHoldTexts(ctx, w.env.Super, w.keys); err != nil || n != 1 {
		t.Fatalf("SealHoldTexts: %d, %v; want 1 hold", n, err)
	}
	if n, err := cases.SealHoldTexts(ctx, w.env.Super, w.keys); err != nil || n != 0 {
		t.Fatalf("SealHoldTexts again: %d, %v; want 0", n, err)
	}
	if stored := rowsText(); bytes.Contains(stored, []byte("Quillon")) {
		t.Errorf("after SealHoldTexts the table still holds a hold's text in the clear")
	}
	got = list()
	if h := got[legacy]; h.Reason != oldReason || h.ReleaseNote != oldNote {
		t.Errorf("after the seal the API lists the legacy hold with reason %q, note %q; want %q, %q",
			h.Reason, h.ReleaseNote, oldReason, oldNote)
	}

	// One more hold of before 00280, which nothing sealed, then the shred.
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.legal_holds (org_id, reason, created_by, released_at,
	    released_by, release_note) values ($1, $2, $3, now(), $3, $4)`, o.ID, oldReason, o.Admin.ID, oldNote); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `select * from app.ops_org_shred($1, 'Hold Seal', false)`, o.ID); err != nil {
		t.Fatal(err)
	}
	stored = rowsText()
	if bytes.Contains(stored, []byte("Quillon")) {
		t.Errorf("after the shred the table holds a hold's text in the clear")
	}
	var holds, sealed, overwritten int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), count(*) filter (where reason_enc is not null
	    and release_note_enc is not null), count(*) filter (where reason = 'shredded' and release_note = 'shredded')
	    from app.legal_holds where org_id = $1`, o.ID).Scan(&holds, &sealed, &overwritten); err != nil {
		t.Fatal(err)
	}
	if holds != 3 || sealed != 2 || overwritten != 1 {
		t.Errorf("after the shred: %d holds, %d sealed, %d overwritten; want 3, 2, 1", holds, sealed, overwritten)
	}
	// The sealed texts have no key left to open them.
	if _, err := w.keys.OpsOrg(ctx, w.env.Super, o.ID); !errors.Is(err, keystore.ErrNoKeys) {
		t.Errorf("the shredded org's keys: %v; want ErrNoKeys", err)
	}
}
