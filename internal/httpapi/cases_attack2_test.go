package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/blob"
)

// The second attacker's review of cases, invitations, grants and
// documents (after cases_attack_test.go and doc_parties_test.go): what was
// added since (patient keys and shreds, legal holds, the retention purge,
// versions) tried from one legitimate credential at a time. The finding
// is TestCaseRowsStampedByDatabase; the probes that held are kept in
// TestCasesAttack2 as guards.

// sqlAs runs f in a transaction as ward_app bound to token's credential
// in org, as a statement the server were made to run would be.
func (w *world) sqlAs(token string, org uuid.UUID, f func(ctx context.Context, tx pgx.Tx) error) error {
	w.t.Helper()
	cred := w.cred(token)
	cred.Org = org.String()
	return w.env.App.InTenantTx(context.Background(), cred, f)
}

func rand32() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// The database writes what is its own to write in a new row of the case
// tables (migration 00313; an attacker's review, MEDIUM). Before, a
// statement under an employer's credential filed a document already
// provided and accepted in the clinic lead's name, and backdated its
// versions and comments; one under a provider's credential sent
// invitations past the 50 an hour by backdating them, valid for a
// century, and gave grants for centuries.
func TestCaseRowsStampedByDatabase(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Stamp Clinic")
	w.populate(o, "st")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	employer := w.joined(o.Lead.Token, cid, "hr@stamp-employer.test", "employer", "view", "upload")
	attorney := w.joined(o.Lead.Token, cid, "counsel@stamp-law.test", "attorney", "view", "comment")
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := func(what, query string, args ...any) {
		t.Helper()
		var at time.Time
		if err := w.env.Super.Pool.QueryRow(ctx, query, args...).Scan(&at); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if time.Since(at) > 5*time.Minute {
			t.Errorf("%s is %s, as the caller wrote it: the database must stamp it", what, at)
		}
	}

	// A document filed provided and accepted, in the lead's name.
	err := w.sqlAs(employer.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `insert into app.documents (org_id, case_id, doc_type, created_by, provided_at, accepted_at,
		    accepted_by, accepted_version) values ($1, $2, 'wage_statement', $3, $4, $4, $5, 1)`,
			o.ID, c.ID, employer.ID, past, o.Lead.ID)
		return err
	})
	if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Errorf("a document filed accepted by the lead, under the employer's credential: %v", err)
	}
	// A document, its version and a comment, each dated 2001.
	doc, ver := uuid.New(), uuid.New()
	if err := w.sqlAs(employer.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into app.documents (org_id, id, case_id, doc_type, created_by, created_at)
		    values ($1, $2, $3, 'wage_statement', $4, $5)`, o.ID, doc, c.ID, employer.ID, past); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `insert into app.document_versions (org_id, id, case_id, document_id, version, storage_key,
		    data_key, size, sha256, content_type, filename_enc, uploaded_by, created_at)
		  values ($1, $2, $3, $4, 1, $5, '\x00', 1, sha256('x'), 'application/pdf', '\x00', $6, $7)`,
			o.ID, ver, c.ID, doc, blob.ObjectKey(o.ID, uuid.New()), employer.ID, past)
		return err
	}); err != nil {
		t.Fatalf("the employer's own document and version: %v", err)
	}
	recent("the document's created_at", `select created_at from app.documents where id = $1`, doc)
	recent("the version's created_at", `select created_at from app.document_versions where id = $1`, ver)
	err = w.sqlAs(employer.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `insert into app.document_versions (org_id, case_id, document_id, version, storage_key,
		    data_key, size, sha256, content_type, filename_enc, uploaded_by)
		  values ($1, $2, $3, 2, $4, '\x00', 1, sha256('x'), 'text/html; charset=utf-8', '\x00', $5)`,
			o.ID, c.ID, doc, blob.ObjectKey(o.ID, uuid.New()), employer.ID)
		return err
	})
	if !postgres.IsCode(err, "23514") {
		t.Errorf("a version stored as text/html: %v", err)
	}
	comment := uuid.New()
	if err := w.sqlAs(attorney.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `insert into app.document_comments (org_id, id, case_id, document_id, body_enc, author_id,
		    created_at) values ($1, $2, $3, $4, '\x00', $5, $6)`, o.ID, comment, c.ID, doc, attorney.ID, past)
		return err
	}); err != nil {
		t.Fatalf("the attorney's comment: %v", err)
	}
	recent("the comment's created_at", `select created_at from app.document_comments where id = $1`, comment)

	// Invitations: a lifetime of the caller's, and backdated past the
	// hourly limit.
	invite := func(tx pgx.Tx, created, expires, access time.Time) (uuid.UUID, error) {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `insert into app.case_invites (org_id, case_id, email_bidx, email_enc, invitee_id,
		    token_hash, kind, permissions, access_expires_at, expires_at, created_by, created_at)
		  values ($1, $2, $3, '\x00', gen_random_uuid(), $4, 'payer', '{view}', $5, $6, $7, $8) returning id`,
			o.ID, c.ID, rand32(), rand32(), access, expires, o.Prov.ID, created).Scan(&id)
		return id, err
	}
	var first uuid.UUID
	sent := 0
	err = w.sqlAs(o.Prov.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if first, err = invite(tx, time.Now().Add(-2*time.Hour), time.Now().AddDate(100, 0, 0),
			time.Now().AddDate(0, 1, 0)); err != nil {
			return err
		}
		sent = 1
		for ; sent < 60; sent++ {
			if _, err := invite(tx, time.Now().Add(-2*time.Hour), time.Now().Add(time.Hour), time.Now().AddDate(0, 1, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if !postgres.IsCode(err, "54000") || sent != 50 {
		t.Errorf("backdated invitations: %d sent, then %v; want the 51st refused (54000)", sent, err)
	}
	if err := w.sqlAs(o.Prov.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		first, err = invite(tx, time.Now().Add(-2*time.Hour), time.Now().AddDate(100, 0, 0), time.Now().AddDate(0, 1, 0))
		return err
	}); err != nil {
		t.Fatalf("one invitation: %v", err)
	}
	var expires time.Time
	if err := w.env.Super.Pool.QueryRow(ctx, `select expires_at from app.case_invites where id = $1`, first).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	if time.Until(expires) > 31*24*time.Hour {
		t.Errorf("an invitation valid until %s: the instance's lifetime is at most 30 days", expires)
	}
	recent("the invitation's created_at", `select created_at from app.case_invites where id = $1`, first)
	err = w.sqlAs(o.Prov.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invite(tx, time.Now(), time.Now().Add(time.Hour), time.Now().AddDate(50, 0, 0))
		return err
	})
	if !postgres.IsCode(err, "23514") {
		t.Errorf("an invitation giving 50 years of access: %v", err)
	}

	// Grants: for centuries, or with their expiry already "recorded".
	err = w.sqlAs(o.Prov.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `update app.case_members set access_expires_at = now() + interval '100 years'
		    where org_id = $1 and case_id = $2 and user_id = $3`, o.ID, c.ID, employer.ID)
		return err
	})
	if !postgres.IsCode(err, "23514") {
		t.Errorf("a grant extended by a century: %v", err)
	}
	if err := w.sqlAs(o.Prov.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `insert into app.case_members (org_id, case_id, user_id, kind, permissions, access_expires_at,
		    added_by, added_at, expiry_recorded_at) values ($1, $2, $3, 'payer', '{view}', now() + interval '1 day', $4, $5, now())`,
			o.ID, c.ID, o.PatUser2.ID, o.Prov.ID, past)
		return err
	}); err != nil {
		t.Fatalf("a grant: %v", err)
	}
	var recorded bool
	if err := w.env.Super.Pool.QueryRow(ctx, `select expiry_recorded_at is not null from app.case_members
	    where org_id = $1 and case_id = $2 and user_id = $3`, o.ID, c.ID, o.PatUser2.ID).Scan(&recorded); err != nil || recorded {
		t.Errorf("a new grant's expiry is recorded already (%v): its expiry would never be audited", err)
	}
	recent("the grant's added_at", `select added_at from app.case_members where org_id = $1 and case_id = $2 and user_id = $3`,
		o.ID, c.ID, o.PatUser2.ID)

	// The API's own writes are as they were.
	if resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", employer.Token, "wages.pdf", []byte("%PDF-1.7\nwages"),
		"Ward-Document-Type", "wage_statement"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("an upload through the API: %d %s", resp.StatusCode, b)
	}
	w.inviteOutbox(o.Lead.Token, cid, "adjuster@stamp-payer.test", "payer", []string{"view"}, time.Now().AddDate(4, 11, 0))
}

// TestCasesAttack2 keeps the probes of the second review that held.
func TestCasesAttack2(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Attack2 Clinic")
	w.populate(a, "a2")
	b := w.createOrg("Attack2 Other")
	w.populate(b, "b2")
	ctx := context.Background()

	var ca, closed, cb caseJSON
	w.do("POST", "/v1/cases", a.Lead.Token, map[string]any{"patient_id": a.P1, "title": "Open claim"}, http.StatusCreated, &ca)
	w.do("POST", "/v1/cases", a.Lead.Token, map[string]any{"patient_id": a.P2, "title": "Closed claim"}, http.StatusCreated, &closed)
	w.do("POST", "/v1/cases", b.Lead.Token, map[string]any{"patient_id": b.P1, "title": "B claim"}, http.StatusCreated, &cb)
	cid := ca.ID.String()
	upload := func(token, kase, name, typ string, body []byte) docJSON {
		t.Helper()
		resp, rb := w.upload("POST", "/v1/cases/"+kase+"/files", token, name, body, "Ward-Document-Type", typ)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %s: %d %s", name, resp.StatusCode, rb)
		}
		var d docJSON
		_ = json.Unmarshal(rb, &d)
		return d
	}
	da := upload(a.Lead.Token, cid, "report.pdf", "wage_statement", []byte("%PDF-1.7\nA's report"))
	gone := upload(a.Lead.Token, cid, "gone.pdf", "note", []byte("%PDF-1.7\ngone"))
	w.do("DELETE", "/v1/documents/"+gone.ID.String(), a.Lead.Token, nil, http.StatusNoContent, nil)
	shut := upload(a.Lead.Token, closed.ID.String(), "shut.pdf", "note", []byte("%PDF-1.7\nshut"))
	w.do("PATCH", "/v1/cases/"+closed.ID.String(), a.Lead.Token, map[string]any{"status": "closed"}, http.StatusOK, nil)
	bStake := w.joined(b.Lead.Token, cb.ID.String(), "hr@b2-employer.test", "employer", "view", "upload", "download", "comment")

	t.Run("another org learns nothing by id", func(t *testing.T) {
		// Every route, with A's real ids (an open case, a closed one, a
		// live document, a deleted one, a closed case's document) and with
		// random ones: the same answer, a refusal, for each of B's callers.
		routes := []struct{ method, path, kind string }{
			{"GET", "/v1/cases/{c}", "c"}, {"GET", "/v1/cases/{c}/documents", "c"}, {"GET", "/v1/cases/{c}/members", "c"},
			{"GET", "/v1/cases/{c}/invites", "c"}, {"PATCH", "/v1/cases/{c}", "c"}, {"POST", "/v1/cases/{c}/invites", "c"},
			{"POST", "/v1/cases/{c}/documents", "c"}, {"PUT", "/v1/cases/{c}/members/{u}", "c"},
			{"DELETE", "/v1/cases/{c}/members/{u}", "c"}, {"POST", "/v1/cases/{c}/files", "c"},
			{"GET", "/v1/documents/{d}", "d"}, {"GET", "/v1/documents/{d}/content", "d"},
			{"HEAD", "/v1/documents/{d}/content", "d"}, {"GET", "/v1/documents/{d}/comments", "d"},
			{"POST", "/v1/documents/{d}/comments", "d"}, {"POST", "/v1/documents/{d}/accept", "d"},
			{"DELETE", "/v1/documents/{d}", "d"}, {"PUT", "/v1/documents/{d}/content", "d"},
		}
		bodies := map[string]any{
			"PATCH /v1/cases/{c}":             map[string]any{"title": "mine"},
			"POST /v1/cases/{c}/invites":      map[string]any{"email": "x@b2.test", "kind": "payer", "permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)},
			"POST /v1/cases/{c}/documents":    map[string]any{"type": "note"},
			"PUT /v1/cases/{c}/members/{u}":   map[string]any{"kind": "payer", "permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)},
			"POST /v1/documents/{d}/comments": map[string]any{"body": "hello"},
			"POST /v1/documents/{d}/accept":   map[string]any{"version": 1},
		}
		cases := []string{cid, closed.ID.String()}
		docs := []string{da.ID.String(), gone.ID.String(), shut.ID.String()}
		answer := func(token, method, path string, body any) (int, string) {
			var resp *http.Response
			var rb []byte
			switch {
			case strings.HasSuffix(path, "/files"):
				resp, rb = w.upload(method, path, token, "x.pdf", []byte("%PDF-1.7\nx"), "Ward-Document-Type", "note")
			case method == "PUT" && strings.HasSuffix(path, "/content"):
				resp, rb = w.upload(method, path, token, "x.pdf", []byte("%PDF-1.7\nx"))
			default:
				resp, rb = w.request(method, path, token, body)
			}
			return resp.StatusCode, problemCodeOrEmpty(rb)
		}
		for _, who := range []struct{ name, token string }{{"B's admin", b.Admin.Token}, {"B's lead", b.Lead.Token},
			{"B's provider", b.Prov.Token}, {"B's patient", b.PatUser.Token}, {"B's stakeholder", bStake.Token}} {
			for _, r := range routes {
				ids := docs
				if r.kind == "c" {
					ids = cases
				}
				fill := func(id string) string {
					p := strings.ReplaceAll(r.path, "{c}", id)
					p = strings.ReplaceAll(p, "{d}", id)
					return strings.ReplaceAll(p, "{u}", a.Prov2.ID.String())
				}
				body := bodies[r.method+" "+r.path]
				wantStatus, wantCode := answer(who.token, r.method, fill(uuid.NewString()), body)
				if wantStatus < 400 || wantStatus == http.StatusConflict {
					t.Errorf("%s %s %s with a random id: %d", who.name, r.method, r.path, wantStatus)
				}
				for _, id := range ids {
					if st, code := answer(who.token, r.method, fill(id), body); st != wantStatus || code != wantCode {
						t.Errorf("%s %s %s: A's id answers %d %q, a random one %d %q", who.name, r.method, r.path,
							st, code, wantStatus, wantCode)
					}
				}
			}
		}
		// Nothing of A changed, and no object was added to A's store.
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.document_versions where org_id = $1`, a.ID).Scan(&n); err != nil || n != 3 {
			t.Errorf("A's versions after B's attempts: %d %v", n, err)
		}
		if got := w.objects(a.ID); got != 2 {
			t.Errorf("A's objects after B's attempts: %d, want 2 (the deleted document's is gone)", got)
		}
	})

	t.Run("removed, expired, revoked and used", func(t *testing.T) {
		reader := w.joined(a.Lead.Token, cid, "reader@a2-law.test", "attorney", "view", "download", "comment")
		lapsed := w.joined(a.Lead.Token, cid, "lapsed@a2-payer.test", "payer", "view", "download")
		content := "/v1/documents/" + da.ID.String() + "/content"
		for _, s := range []stakeholder{reader, lapsed} {
			if resp, _, err := w.download(content, s.Token); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("a live grant's download: %v %v", resp, err)
			}
		}
		w.do("DELETE", "/v1/cases/"+cid+"/members/"+reader.ID.String(), a.Lead.Token, nil, http.StatusNoContent, nil)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.case_members set access_expires_at = now() - interval '1 second'
		    where org_id = $1 and user_id = $2`, a.ID, lapsed.ID); err != nil {
			t.Fatal(err)
		}
		for _, s := range []stakeholder{reader, lapsed} {
			for _, p := range []string{"/v1/cases/" + cid, "/v1/cases/" + cid + "/documents", "/v1/documents/" + da.ID.String(),
				content, "/v1/documents/" + da.ID.String() + "/comments"} {
				if resp, rb := w.request("GET", p, s.Token, nil); resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s after the grant ended: %d %s", p, resp.StatusCode, rb)
				}
			}
			var list struct{ Cases []caseJSON }
			w.do("GET", "/v1/cases", s.Token, nil, http.StatusOK, &list)
			if len(list.Cases) != 0 {
				t.Errorf("a party whose grant ended lists %d cases", len(list.Cases))
			}
		}

		// An invitation revoked, expired, or used: no grant, no session.
		revoked, tok := w.inviteOutbox(a.Lead.Token, cid, "revoked@a2-payer.test", "payer", []string{"view"}, time.Now().Add(24*time.Hour))
		w.do("DELETE", "/v1/cases/"+cid+"/invites/"+revoked.String(), a.Lead.Token, nil, http.StatusNoContent, nil)
		if s, resp, rb := w.accept(tok); resp.StatusCode == http.StatusOK || s.Token != "" {
			t.Errorf("a revoked invitation accepted: %d %s", resp.StatusCode, rb)
		}
		expired, tok := w.inviteOutbox(a.Lead.Token, cid, "expired@a2-payer.test", "payer", []string{"view"}, time.Now().Add(24*time.Hour))
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.case_invites set expires_at = now() - interval '1 second'
		    where id = $1`, expired); err != nil {
			t.Fatal(err)
		}
		if s, resp, rb := w.accept(tok); resp.StatusCode == http.StatusOK || s.Token != "" {
			t.Errorf("an expired invitation accepted: %d %s", resp.StatusCode, rb)
		}
		_, tok = w.inviteOutbox(a.Lead.Token, cid, "Twice.Over@A2-Payer.test", "payer", []string{"view"}, time.Now().Add(24*time.Hour))
		first, resp, rb := w.accept(tok)
		if resp.StatusCode != http.StatusOK || first.Token == "" {
			t.Fatalf("first acceptance: %d %s", resp.StatusCode, rb)
		}
		if s, resp, rb := w.accept(tok); resp.StatusCode == http.StatusOK || s.Token != "" {
			t.Errorf("an invitation accepted twice: %d %s", resp.StatusCode, rb)
		}
		var sessions int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.sessions where org_id = $1 and user_id = $2`,
			a.ID, first.ID).Scan(&sessions); err != nil || sessions != 1 {
			t.Errorf("sessions of the invitee after a second use: %d %v", sessions, err)
		}
		// The same mailbox in another case, spelled in lower case: the same
		// account (no second identity by case-folding), which signs in.
		w.do("PATCH", "/v1/cases/"+closed.ID.String(), a.Lead.Token, map[string]any{"status": "open"}, http.StatusOK, nil)
		_, tok = w.inviteOutbox(a.Lead.Token, closed.ID.String(), "twice.over@a2-payer.test", "payer", []string{"view"},
			time.Now().Add(24*time.Hour))
		s, resp, rb := w.accept(tok)
		if resp.StatusCode != http.StatusOK || s.Token != "" || !strings.Contains(string(rb), "sign_in_required") {
			t.Errorf("a second invitation of a live stakeholder: %d %s", resp.StatusCode, rb)
		}
		var holder uuid.UUID
		if err := w.env.Super.Pool.QueryRow(ctx, `select user_id from app.case_members where org_id = $1 and case_id = $2
		    and kind = 'payer'`, a.ID, closed.ID).Scan(&holder); err != nil || holder != first.ID {
			t.Errorf("the lower-case spelling's grant went to %s (%v), the first acceptance's account is %s", holder, err, first.ID)
		}
		w.do("PATCH", "/v1/cases/"+closed.ID.String(), a.Lead.Token, map[string]any{"status": "closed"}, http.StatusOK, nil)
	})

	t.Run("file names and download headers", func(t *testing.T) {
		versions, objects := w.versionCount(a.ID), w.objects(a.ID)
		for _, name := range []string{"a%00b.pdf", "invoice%E2%80%AEfdp.exe", "a%0D%0ASet-Cookie:%20x.pdf", "a%E2%80%8Bb.pdf",
			"..%2F..%2Fetc.pdf", "a%5Cb.pdf", strings.Repeat("n", 256)} {
			resp, rb := w.upload("POST", "/v1/cases/"+cid+"/files", a.Lead.Token, name, []byte("%PDF-1.7\nx"),
				"Ward-Document-Type", "note")
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("file name %q: %d %s", name, resp.StatusCode, rb)
			}
		}
		if v, o := w.versionCount(a.ID), w.objects(a.ID); v != versions || o != objects {
			t.Errorf("refused uploads left rows or objects: versions %d→%d, objects %d→%d", versions, v, objects, o)
		}
		// A name that tries to end the header's parameter and start
		// another is carried percent-encoded, whole, in filename* only.
		d := upload(a.Lead.Token, cid, `x.pdf%22%3B%20filename%3Devil.html%3B%20a%3D%22`, "note", []byte("%PDF-1.7\nquoted"))
		resp, _, err := w.download("/v1/documents/"+d.ID.String()+"/content", a.Lead.Token)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("download: %v %v", resp, err)
		}
		cd := resp.Header.Get("Content-Disposition")
		if want := `attachment; filename*=UTF-8''x.pdf%22%3B%20filename%3Devil.html%3B%20a%3D%22`; cd != want {
			t.Errorf("Content-Disposition %q, want %q", cd, want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			resp.Header.Get("Content-Security-Policy") != "sandbox" {
			t.Errorf("download headers: type %q, nosniff %q, CSP %q", ct, resp.Header.Get("X-Content-Type-Options"),
				resp.Header.Get("Content-Security-Policy"))
		}
	})

	t.Run("holds and the purge stay in their scope", func(t *testing.T) {
		// B keeps wage statements one day; A keeps them forever. A's
		// report, made old, is not B's purge's to take.
		if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.document_retention (org_id, doc_type, retain_days, updated_by)
		    values ($1, 'wage_statement', 1, $2)`, b.ID, b.Admin.ID); err != nil {
			t.Fatal(err)
		}
		old := upload(bStake.Token, cb.ID.String(), "b-wages.pdf", "wage_statement", []byte("%PDF-1.7\nB wages"))
		for _, q := range []string{`update app.documents set created_at = now() - interval '10 days' where id = any ($1::uuid[])`,
			`update app.document_versions set created_at = now() - interval '10 days' where document_id = any ($1::uuid[])`} {
			if _, err := w.env.Super.Pool.Exec(ctx, q, []uuid.UUID{da.ID, old.ID}); err != nil {
				t.Fatal(err)
			}
		}
		purge := func() map[uuid.UUID]bool {
			t.Helper()
			rows, err := w.env.Super.Pool.Query(ctx, `select document_id from app.purge_expired_documents(1000)`)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			if err != nil {
				t.Fatal(err)
			}
			out := map[uuid.UUID]bool{}
			for _, id := range ids {
				out[id] = true
			}
			return out
		}
		if got := purge(); !got[old.ID] || got[da.ID] {
			t.Errorf("B's purge took %v (B's old wage statement %s, A's report %s)", got, old.ID, da.ID)
		}
		// A's own one-day rule, under a hold on the case: nothing goes,
		// neither by the purge nor by a lead's deletion; the object stays.
		var hold uuid.UUID
		if err := w.env.Super.Pool.QueryRow(ctx, `insert into app.legal_holds (org_id, case_id, reason_enc, created_by)
		    values ($1, $2, '\x00', $3) returning id`, a.ID, ca.ID, a.Admin.ID).Scan(&hold); err != nil {
			t.Fatal(err)
		}
		if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.document_retention (org_id, doc_type, retain_days, updated_by)
		    values ($1, 'wage_statement', 1, $2)`, a.ID, a.Admin.ID); err != nil {
			t.Fatal(err)
		}
		objects := w.objects(a.ID)
		if got := purge(); got[da.ID] {
			t.Errorf("the purge took a held document")
		}
		if resp, rb := w.request("DELETE", "/v1/documents/"+da.ID.String(), a.Lead.Token, nil); resp.StatusCode != http.StatusConflict ||
			problemCode(t, rb) != "legal_hold" {
			t.Errorf("a held document's deletion: %d %s", resp.StatusCode, rb)
		}
		if got := w.objects(a.ID); got != objects {
			t.Errorf("A's objects under the hold: %d, were %d", got, objects)
		}
		if resp, got, err := w.download("/v1/documents/"+da.ID.String()+"/content", a.Lead.Token); err != nil ||
			resp.StatusCode != http.StatusOK || string(got) != "%PDF-1.7\nA's report" {
			t.Errorf("the held document's download: %v %v %q", resp, err, got)
		}
	})

	t.Run("every download is an event", func(t *testing.T) {
		reader := w.joined(a.Lead.Token, cid, "audit@a2-law.test", "attorney", "view", "download")
		count := func(org uuid.UUID, action, outcome string, actor uuid.UUID) int {
			t.Helper()
			var n int
			if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = $2
			    and outcome = $3 and actor_id = $4`, org, action, outcome, actor).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		content := "/v1/documents/" + da.ID.String() + "/content"
		for i := 1; i <= 2; i++ {
			if resp, _, err := w.download(content, reader.Token, "Range", "bytes=0-3"); err != nil || resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("ranged download: %v %v", resp, err)
			}
			if n := count(a.ID, "document.download", "success", reader.ID); n != i {
				t.Errorf("after %d downloads, %d events", i, n)
			}
		}
		var disclosed int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and actor_id = $2
		    and action = 'document.download' and disclosure->>'recipient' = 'attorney'`, a.ID, reader.ID).Scan(&disclosed); err != nil || disclosed != 2 {
			t.Errorf("downloads recorded as disclosures to the attorney: %d %v", disclosed, err)
		}
		// B's refused attempts are B's events, never in A's log.
		if resp, _, _ := w.download(content, b.Lead.Token); resp.StatusCode != http.StatusNotFound {
			t.Errorf("B's download of A's document: %d", resp.StatusCode)
		}
		var leaked int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and actor_id = $2`,
			a.ID, b.Lead.ID).Scan(&leaked); err != nil || leaked != 0 {
			t.Errorf("B's lead in A's log: %d %v", leaked, err)
		}
	})
}

// A grant revoked or changed by the case's managers ends the invitations
// still pending for its holder's address on that case (migration 00314;
// an attacker's review, MEDIUM). Before, an attorney invited twice (a
// resent link) accepted one, was removed from the case, and came back,
// with download, through the other; one narrowed to view regained
// download the same way. An invitation sent after the revocation works.
func TestRevokedGrantEndsPendingInvites(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Pending Clinic")
	w.populate(o, "pi")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "report.pdf", []byte("%PDF-1.7\nreport"),
		"Ward-Document-Type", "medical_report")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var d docJSON
	_ = json.Unmarshal(b, &d)
	content := "/v1/documents/" + d.ID.String() + "/content"
	until := time.Now().Add(30 * 24 * time.Hour)
	all := []string{"view", "download", "comment"}

	for _, tc := range []struct {
		name, email string
		end         func(user uuid.UUID)
		reason      string
	}{
		{"revoked", "removed@pi-law.test", func(user uuid.UUID) {
			w.do("DELETE", "/v1/cases/"+cid+"/members/"+user.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
		}, "grant_revoked"},
		{"narrowed", "narrowed@pi-law.test", func(user uuid.UUID) {
			w.do("PUT", "/v1/cases/"+cid+"/members/"+user.String(), o.Lead.Token, map[string]any{"kind": "attorney",
				"permissions": []string{"view"}, "access_expires_at": until}, http.StatusOK, nil)
		}, "grant_changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, tok1 := w.inviteOutbox(o.Prov.Token, cid, tc.email, "attorney", all, until)
			second, tok2 := w.inviteOutbox(o.Lead.Token, cid, tc.email, "attorney", all, until)
			att, resp, b := w.accept(tok1)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("accept: %d %s", resp.StatusCode, b)
			}
			tc.end(att.ID)
			if resp, _, _ := w.download(content, att.Token); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("download after the grant %s: %d", tc.name, resp.StatusCode)
			}
			// The second link gives nothing back.
			s, resp, b := w.accept(tok2)
			if resp.StatusCode == http.StatusOK {
				t.Errorf("the pending invitation accepted after the grant was %s: %d %s", tc.name, resp.StatusCode, b)
			}
			for _, tok := range []string{att.Token, s.Token} {
				if tok == "" {
					continue
				}
				if resp, _, _ := w.download(content, tok); resp.StatusCode != http.StatusNotFound {
					t.Errorf("download through the second invitation: %d", resp.StatusCode)
				}
			}
			var revoked bool
			var reason string
			if err := w.env.Super.Pool.QueryRow(ctx, `select i.revoked_at is not null,
			    coalesce((select e.details->>'reason' from audit.events e where e.org_id = i.org_id
			               and e.action = 'case.invite.revoke' and e.object_id = i.id and e.actor_id = $2), '')
			    from app.case_invites i where i.id = $1`, second, o.Lead.ID).Scan(&revoked, &reason); err != nil {
				t.Fatal(err)
			}
			if !revoked || reason != tc.reason {
				t.Errorf("the pending invitation: revoked %v, event reason %q (want %q, in the lead's name)", revoked, reason, tc.reason)
			}
			// A new invitation, sent after, is the managers' new word.
			_, tok3 := w.inviteOutbox(o.Lead.Token, cid, tc.email, "attorney", all, until)
			if _, resp, b := w.accept(tok3); resp.StatusCode != http.StatusOK {
				t.Errorf("an invitation sent after the change: %d %s", resp.StatusCode, b)
			}
			if resp, _, _ := w.download(content, att.Token); resp.StatusCode != http.StatusOK {
				t.Errorf("download after the new invitation: %d", resp.StatusCode)
			}
		})
	}
}

// A deleted document's versions and comments are gone from every read of
// the parties, the database's included (migration 00315; an attacker's
// review, LOW). Before, a statement under the attorney's credential still
// listed the deleted report's file names, SHA-256 and comments.
func TestDeletedDocumentRowsHidden(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Deleted Clinic")
	w.populate(o, "dd")
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	attorney := w.joined(o.Lead.Token, cid, "counsel@dd-law.test", "attorney", "view", "download", "comment")
	resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "report.pdf", []byte("%PDF-1.7\nreport"),
		"Ward-Document-Type", "medical_report")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var d docJSON
	_ = json.Unmarshal(b, &d)
	w.do("POST", "/v1/documents/"+d.ID.String()+"/comments", attorney.Token, map[string]any{"body": "page 3 is missing"},
		http.StatusCreated, nil)
	count := func() (versions, comments int) {
		t.Helper()
		if err := w.sqlAs(attorney.Token, o.ID, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select (select count(*) from app.document_versions where document_id = $1),
			    (select count(*) from app.document_comments where document_id = $1)`, d.ID).Scan(&versions, &comments)
		}); err != nil {
			t.Fatal(err)
		}
		return versions, comments
	}
	if v, cm := count(); v != 1 || cm != 1 {
		t.Fatalf("before the deletion the attorney reads %d versions, %d comments", v, cm)
	}
	w.do("DELETE", "/v1/documents/"+d.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	if v, cm := count(); v != 0 || cm != 0 {
		t.Errorf("after the deletion the attorney still reads %d versions, %d comments of it", v, cm)
	}
	for _, p := range []string{"/v1/documents/" + d.ID.String(), "/v1/documents/" + d.ID.String() + "/content?version=1",
		"/v1/documents/" + d.ID.String() + "/comments"} {
		if resp, rb := w.request("GET", p, attorney.Token, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after the deletion: %d %s", p, resp.StatusCode, rb)
		}
	}
}

// A staff grant ended by the care team's removal (app.care_team_leave, a
// trigger) ends the invitations still pending for its holder's address on
// that case, as a manager's revocation does (00314 skipped every change
// made inside another trigger, and care_team_leave revokes no invitation:
// the provider accepted the pending one and was back on the case).
func TestCareTeamRemovalEndsPendingInvites(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Care Pending Clinic")
	w.populate(o, "cpi")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	w.do("PUT", "/v1/cases/"+cid+"/members/"+o.Prov.ID.String(), o.Lead.Token, map[string]any{"kind": "staff",
		"permissions": []string{"view", "download", "comment"}}, http.StatusOK, nil)
	until := time.Now().Add(30 * 24 * time.Hour)
	inv, tok := w.inviteOutbox(o.Lead.Token, cid, "cpi-prov@example.test", "attorney",
		[]string{"view", "download", "comment"}, until)
	w.do("DELETE", "/v1/patients/"+o.P1.String()+"/care-team/"+o.Prov.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	var grantRevoked, inviteRevoked bool
	if err := w.env.Super.Pool.QueryRow(ctx, `select
	    (select m.revoked_at is not null from app.case_members m where m.case_id = $1 and m.user_id = $2),
	    (select i.revoked_at is not null from app.case_invites i where i.id = $3)`, c.ID, o.Prov.ID, inv).
		Scan(&grantRevoked, &inviteRevoked); err != nil {
		t.Fatal(err)
	}
	if !grantRevoked {
		t.Fatalf("the staff grant outlived the care team's removal")
	}
	if !inviteRevoked {
		t.Errorf("the invitation pending for the removed provider's address is still live")
	}
	if _, resp, _ := w.accept(tok); resp.StatusCode == http.StatusOK {
		t.Errorf("the removed provider accepted the pending invitation")
	}
}
