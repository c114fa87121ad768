package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The operator's seal of the legal-hold texts written in the clear before
// 00280 (cases.SealHoldTexts, run by `ward migrate`): the page function
// lists the holds of live orgs that still hold a clear text, in (org, id)
// order after a cursor; the seal stores a sealed text and clears the
// clear one only where the row still holds the text read, one text at a
// time, and never for a shredded org, whose clear texts the shred
// overwrote (00281) and which it no longer lists.
func TestOpsSealLegalHold(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	org, admin := uuid.New(), uuid.New()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`insert into app.orgs (id, name) values ($1, 'Holding Clinic')`, org)
	exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3)`, admin, rlsRandom(32), rlsRandom(40))
	exec(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, admin)
	first, second := uuid.New(), uuid.New()
	if first.String() > second.String() {
		first, second = second, first
	}
	exec(`insert into app.legal_holds (org_id, id, reason, created_by, released_at, released_by, release_note)
	      values ($1, $2, 'matter A', $3, now(), $3, 'done A')`, org, first, admin)
	exec(`insert into app.legal_holds (org_id, id, reason, created_by) values ($1, $2, 'matter B', $3)`, org, second, admin)

	page := func(afterOrg, afterID any, limit int) []uuid.UUID {
		t.Helper()
		rows, err := env.Super.Pool.Query(ctx, `select id from app.ops_legal_hold_clear_texts($1, $2, $3) where org_id = $4`,
			afterOrg, afterID, limit, org)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []uuid.UUID
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := page(org, nil, 1000); len(got) != 2 || got[0] != first || got[1] != second {
		t.Fatalf("clear texts after (org, nil): %v; want [%s %s]", got, first, second)
	}
	if got := page(org, first, 1000); len(got) != 1 || got[0] != second {
		t.Fatalf("clear texts after the first hold: %v; want [%s]", got, second)
	}

	seal := func(id uuid.UUID, reason, note any, reasonEnc, noteEnc []byte) bool {
		t.Helper()
		var ok bool
		if err := env.Super.Pool.QueryRow(ctx, `select app.ops_seal_legal_hold($1, $2, $3, $4, $5, $6)`,
			org, id, reason, reasonEnc, note, noteEnc).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	type texts struct {
		reason, note       *string
		reasonEnc, noteEnc []byte
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return "'" + *p + "'"
	}
	read := func(id uuid.UUID) texts {
		t.Helper()
		var x texts
		if err := env.Super.Pool.QueryRow(ctx, `select reason, release_note, reason_enc, release_note_enc
		    from app.legal_holds where org_id = $1 and id = $2`, org, id).Scan(&x.reason, &x.note, &x.reasonEnc, &x.noteEnc); err != nil {
			t.Fatal(err)
		}
		return x
	}

	// A reason that is not the stored one (changed since it was read) is
	// not replaced.
	if seal(first, "matter Z", nil, []byte{1, 2}, nil) {
		t.Error("a seal of a text the row no longer holds stored it")
	}
	if x := read(first); x.reason == nil || *x.reason != "matter A" || x.reasonEnc != nil {
		t.Errorf("after a stale seal: reason %s, sealed %x; want 'matter A', none", str(x.reason), x.reasonEnc)
	}
	// The reason alone: the note stays clear, and the hold is still listed.
	if !seal(first, "matter A", nil, []byte{1, 2}, nil) {
		t.Error("the seal of the stored reason stored nothing")
	}
	if x := read(first); x.reason != nil || string(x.reasonEnc) != "\x01\x02" || x.note == nil || *x.note != "done A" {
		t.Errorf("after sealing the reason: reason %s, sealed %x, note %s; want none, 0102, 'done A'", str(x.reason), x.reasonEnc, str(x.note))
	}
	if got := page(org, nil, 1000); len(got) != 2 {
		t.Errorf("with the note still clear the page lists %v; want both holds", got)
	}
	if !seal(first, nil, "done A", nil, []byte{3, 4}) {
		t.Error("the seal of the stored note stored nothing")
	}
	if x := read(first); x.note != nil || string(x.noteEnc) != "\x03\x04" {
		t.Errorf("after sealing the note: note %s, sealed %x; want none, 0304", str(x.note), x.noteEnc)
	}
	if got := page(org, nil, 1000); len(got) != 1 || got[0] != second {
		t.Errorf("after sealing the first hold the page lists %v; want [%s]", got, second)
	}

	// The shred overwrites the clear reason left; the org is no longer
	// listed and nothing is sealed for it.
	exec(`update app.legal_holds set released_at = now(), released_by = created_by, release_note = 'done B' where id = $1`, second)
	exec(`select app.ops_org_shred($1, 'Holding Clinic', false)`, org)
	if x := read(second); x.reason == nil || *x.reason != "shredded" || x.note == nil || *x.note != "shredded" {
		t.Errorf("after the shred the unsealed hold's reason %s, note %s; want 'shredded' both", str(x.reason), str(x.note))
	}
	if x := read(first); x.reason != nil || x.note != nil || string(x.reasonEnc) != "\x01\x02" {
		t.Errorf("after the shred the sealed hold's reason %s, note %s, sealed %x; want none, none, 0102", str(x.reason), str(x.note), x.reasonEnc)
	}
	if got := page(org, nil, 1000); len(got) != 0 {
		t.Errorf("the shredded org's holds are listed: %v", got)
	}
	if seal(second, "shredded", nil, []byte{5}, nil) {
		t.Error("a hold of a shredded org was sealed")
	}
}
