package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/mail/mailtest"
)

// switchMailer delivers through up, or, while down is set, through an SMTP
// server that refuses connections (a mail outage).
type switchMailer struct {
	up, outage auth.Mailer
	down       atomic.Bool
}

func (m *switchMailer) Send(ctx context.Context, msg mail.Message) error {
	if m.down.Load() {
		return m.outage.Send(ctx, msg)
	}
	return m.up.Send(ctx, msg)
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

type breakGlassAnswer struct {
	Token             string    `json:"token"`
	SessionID         uuid.UUID `json:"session_id"`
	AbsoluteExpiresAt time.Time `json:"absolute_expires_at"`
	IdleTimeoutMin    int       `json:"idle_timeout_min"`
	BreakGlass        bool      `json:"break_glass"`
	ActivationID      uuid.UUID `json:"activation_id"`
}

// activate runs a break-glass activation with d and reason.
func (w *world) activate(d *device, reason string) (*http.Response, []byte) {
	w.t.Helper()
	opts, binder := w.signInOptions()
	return w.request("POST", "/v1/auth/break-glass/activate", "", map[string]any{"binder": binder, "reason": reason,
		"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *opts))},
		w.signInProof("/v1/auth/break-glass/activate")...)
}

type activationList struct {
	Activations []auth.BreakGlassActivation `json:"activations"`
}

// Break-glass end to end (issue 8 §8): designation (two passkeys), the
// activation by passkey and reason, reads of every patient with the flag on
// every event, the admins' mail in mailpit, activation with mail down, the
// review item closed by another admin, and the session refused after 60
// minutes (and not lengthened by anyone).
func TestBreakGlass(t *testing.T) {
	mp := mailtest.Start(t)
	mailer := &switchMailer{up: mail.NewSMTP(mail.SMTPConfig{Addr: mp.SMTPAddr(), From: "ward@ward.example"}),
		outage: mail.NewSMTP(mail.SMTPConfig{Addr: closedAddr(t), From: "ward@ward.example", Timeout: 2 * time.Second})}
	w := newWorld(t, withLocalhost(), withMailer(mailer))
	o := w.createOrg("Glass Org")
	w.populate(o, "bg")
	admin2 := w.addMember(o, "bg-admin2@example.test", identity.RoleAdmin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The operator: a provider on no care team, with two passkeys.
	op := o.Prov2
	d1, d2 := w.newDevice(), w.newDevice()
	w.registerPasskey(&op.Token, d1, "laptop")
	w.registerPasskey(&op.Token, d2, "phone")
	const reason = "Unconscious patient in the emergency room; the care team cannot be reached"

	t.Run("no proof, not from Ward's pages", func(t *testing.T) {
		opts, binder := w.signInOptions()
		resp, b := w.request("POST", "/v1/auth/break-glass/activate", "", map[string]any{"binder": binder, "reason": reason,
			"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d1.rp, d1.auth, d1.cred, *opts))})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" || len(resp.Cookies()) != 0 {
			t.Fatalf("activation without a proof by an API client: %d %s %v", resp.StatusCode, b, resp.Cookies())
		}
	})

	t.Run("refused before designation", func(t *testing.T) {
		resp, b := w.activate(d1, reason)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "break_glass_refused" {
			t.Fatalf("activation before designation: %d %s", resp.StatusCode, b)
		}
		if n := w.auditCount(o.ID, "auth.break_glass.activate", "denied"); n != 1 {
			t.Fatalf("%d denied activation events, want 1", n)
		}
	})

	t.Run("designation", func(t *testing.T) {
		resp, b := w.request("PUT", "/v1/org/break-glass/users/"+op.ID.String(), o.Lead.Token, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("designation by a lead: %d %s", resp.StatusCode, b)
		}
		// A member without two passkeys cannot be designated.
		resp, b = w.request("PUT", "/v1/org/break-glass/users/"+o.Prov.ID.String(), o.Admin.Token, nil)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "invalid_input" {
			t.Fatalf("designation without two passkeys: %d %s", resp.StatusCode, b)
		}
		resp, b = w.request("PUT", "/v1/org/break-glass/users/"+o.PatUser.ID.String(), o.Admin.Token, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("designation of a patient: %d %s", resp.StatusCode, b)
		}
		var r struct{ Changed bool }
		w.do("PUT", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, &r)
		if !r.Changed {
			t.Fatal("designation changed nothing")
		}
		var list struct{ Users []auth.BreakGlassUser }
		w.do("GET", "/v1/org/break-glass/users", o.Admin.Token, nil, http.StatusOK, &list)
		if len(list.Users) != 1 || list.Users[0].UserID != op.ID || list.Users[0].DesignatedBy != o.Admin.ID {
			t.Fatalf("emergency-access users: %+v", list.Users)
		}
	})

	var opMe struct {
		BreakGlass *bool `json:"break_glass"`
	}
	w.do("GET", "/v1/me", op.Token, nil, http.StatusOK, &opMe)
	if opMe.BreakGlass == nil || *opMe.BreakGlass {
		t.Fatal("/v1/me of an ordinary session does not say break_glass: false")
	}
	// Without break-glass the operator reads no patient of the org.
	if resp, _ := w.request("GET", "/v1/patients/"+o.P1.String(), op.Token, nil); resp.StatusCode == http.StatusOK {
		t.Fatal("the operator reads P1 without break-glass")
	}

	t.Run("a reason is required", func(t *testing.T) {
		resp, b := w.activate(d1, "  help ")
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "invalid_input" {
			t.Fatalf("activation without a real reason: %d %s", resp.StatusCode, b)
		}
	})

	var bg breakGlassAnswer
	t.Run("activation", func(t *testing.T) {
		resp, b := w.activate(d1, reason)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &bg) != nil {
			t.Fatalf("activation: %d %s", resp.StatusCode, b)
		}
		if !bg.BreakGlass || bg.Token == "" || bg.IdleTimeoutMin > 60 {
			t.Fatalf("activation answer: %s", b)
		}
		if left := time.Until(bg.AbsoluteExpiresAt); left < 59*time.Minute || left > 61*time.Minute {
			t.Fatalf("break-glass session lives %v, want 60 minutes", left)
		}
		var me struct {
			meAnswer
			BreakGlass bool `json:"break_glass"`
		}
		w.do("GET", "/v1/me", bg.Token, nil, http.StatusOK, &me)
		if me.AAL != 2 || me.Pending != nil || strings.Join(me.AMR, ",") != "passkey" || !me.BreakGlass {
			t.Fatalf("break-glass principal: %+v", me)
		}
	})

	t.Run("reads every patient, every event flagged", func(t *testing.T) {
		for _, p := range []uuid.UUID{o.P1, o.P2} {
			w.do("GET", "/v1/patients/"+p.String(), bg.Token, nil, http.StatusOK, nil)
			w.do("GET", "/v1/patients/"+p.String()+"/entries", bg.Token, nil, http.StatusOK, nil)
		}
		var list struct {
			Patients []struct {
				ID uuid.UUID `json:"id"`
			} `json:"patients"`
		}
		w.do("GET", "/v1/patients", bg.Token, nil, http.StatusOK, &list)
		if len(list.Patients) != 2 {
			t.Fatalf("break-glass patient list: %d patients, want 2", len(list.Patients))
		}
		// It may not write what its role may not: it is a provider.
		if resp, _ := w.request("POST", "/v1/patients", bg.Token, map[string]any{"name": "New Person"}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("break-glass patient create: %d", resp.StatusCode)
		}
		var all, flagged, reads int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), count(*) filter (where break_glass),
		    count(*) filter (where action = 'patient.read' and outcome = 'success')
		  from audit.events where org_id = $1 and session_id = $2`, o.ID, bg.SessionID).Scan(&all, &flagged, &reads); err != nil {
			t.Fatal(err)
		}
		if all < 6 || flagged != all || reads != 2 {
			t.Fatalf("break-glass session events: %d, %d flagged, %d patient reads", all, flagged, reads)
		}
		var activated bool
		if err := w.env.Super.Pool.QueryRow(ctx, `select break_glass from audit.events
		  where org_id = $1 and action = 'auth.break_glass.activate' and outcome = 'success'`, o.ID).Scan(&activated); err != nil || !activated {
			t.Fatalf("the activation event is not flagged (%v)", err)
		}
		// The operator's ordinary session is not flagged.
		var other int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events
		  where org_id = $1 and break_glass and session_id <> $2`, o.ID, bg.SessionID).Scan(&other); err != nil || other != 0 {
			t.Fatalf("%d flagged events of other sessions (%v)", other, err)
		}
	})

	t.Run("reads every case and document, every event flagged", func(t *testing.T) {
		// A case of P1 (whose care team the operator is not on) with a
		// document, made by the lead.
		var kase caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Emergency admission"},
			http.StatusCreated, &kase)
		content := []byte("discharge summary: allergies penicillin")
		resp, b := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "summary.txt", content,
			"Ward-Document-Type", "report")
		var doc docJSON
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &doc) != nil {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		casePath, docPath := "/v1/cases/"+kase.ID.String(), "/v1/documents/"+doc.ID.String()
		// The operator's ordinary session reaches neither.
		for _, path := range []string{casePath, docPath, docPath + "/content"} {
			if resp, b := w.request("GET", path, op.Token, nil); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("GET %s without break-glass: %d %s", path, resp.StatusCode, b)
			}
		}
		// The break-glass session lists, reads and downloads them.
		var list struct {
			Cases []caseJSON `json:"cases"`
		}
		w.do("GET", "/v1/cases", bg.Token, nil, http.StatusOK, &list)
		if len(list.Cases) != 1 || list.Cases[0].ID != kase.ID {
			t.Fatalf("break-glass case list: %+v", list.Cases)
		}
		w.do("GET", casePath, bg.Token, nil, http.StatusOK, nil)
		w.do("GET", casePath+"/documents", bg.Token, nil, http.StatusOK, nil)
		w.do("GET", docPath, bg.Token, nil, http.StatusOK, nil)
		resp, got, err := w.download(docPath+"/content", bg.Token)
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
			t.Fatalf("break-glass download: %v %d %q", err, resp.StatusCode, got)
		}
		// It writes only what its role may: no upload to the case.
		if resp, b := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", bg.Token, "x.txt", []byte("x"),
			"Ward-Document-Type", "report"); resp.StatusCode == http.StatusCreated {
			t.Fatalf("break-glass upload: %d %s", resp.StatusCode, b)
		}
		var all, flagged, downloads int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), count(*) filter (where break_glass),
		    count(*) filter (where action = 'document.download' and outcome = 'success')
		  from audit.events where org_id = $1 and session_id = $2`, o.ID, bg.SessionID).Scan(&all, &flagged, &downloads); err != nil {
			t.Fatal(err)
		}
		if flagged != all || downloads != 1 {
			t.Fatalf("break-glass session events: %d, %d flagged, %d downloads", all, flagged, downloads)
		}
		var caseEvents int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events
		  where org_id = $1 and session_id = $2 and break_glass and object_type in ('case', 'document', 'document_version')`,
			o.ID, bg.SessionID).Scan(&caseEvents); err != nil || caseEvents < 4 {
			t.Fatalf("%d flagged case and document events (%v)", caseEvents, err)
		}
	})

	t.Run("every admin is mailed", func(t *testing.T) {
		for _, a := range []string{o.Admin.Email, admin2.Email} {
			msg, err := mp.WaitFor(ctx, a)
			if err != nil {
				t.Fatalf("no mail to %s: %v", a, err)
			}
			if !strings.Contains(msg.Subject, "Break-glass") || !strings.Contains(msg.Text, bg.ActivationID.String()) {
				t.Fatalf("notice to %s: %q %q", a, msg.Subject, msg.Text)
			}
			if strings.Contains(msg.Text, "Unconscious") {
				t.Fatal("the notice quotes the reason")
			}
		}
		// The operator (not an admin) has only the notices of their two
		// passkeys' registration, no break-glass notice.
		if n, err := mp.Count(ctx, op.Email); err != nil || n != 2 {
			t.Fatalf("the operator (not an admin) got %d messages, want their 2 passkey notices (%v)", n, err)
		}
	})

	t.Run("activation with mail down", func(t *testing.T) {
		mailer.down.Store(true)
		defer mailer.down.Store(false)
		resp, b := w.activate(d2, "Second emergency while the mail server is down for maintenance")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("activation with mail down: %d %s", resp.StatusCode, b)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(w.logs.String(), "break-glass notice not delivered") {
			if time.Now().After(deadline) {
				t.Fatal("the failed notice was not logged")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("review", func(t *testing.T) {
		var open activationList
		w.do("GET", "/v1/org/break-glass/activations?open=true", o.Admin.Token, nil, http.StatusOK, &open)
		if len(open.Activations) != 2 {
			t.Fatalf("%d open review items, want 2", len(open.Activations))
		}
		var first *auth.BreakGlassActivation
		for i, a := range open.Activations {
			if a.ID == bg.ActivationID {
				first = &open.Activations[i]
			}
		}
		if first == nil || first.Reason != reason || !first.Open || first.UserID != op.ID || first.SessionID != bg.SessionID {
			t.Fatalf("review item: %+v", first)
		}
		path := "/v1/org/break-glass/activations/" + bg.ActivationID.String() + "/review"
		if resp, _ := w.request("GET", "/v1/org/break-glass/activations", op.Token, nil); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("the operator lists review items: %d", resp.StatusCode)
		}
		if resp, _ := w.request("POST", path, bg.Token, map[string]string{"note": "fine"}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("the break-glass session closes its own review: %d", resp.StatusCode)
		}
		if resp, b := w.request("POST", path, o.Admin.Token, map[string]string{"note": ""}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("review without a note: %d %s", resp.StatusCode, b)
		}
		w.do("POST", path, o.Admin.Token, map[string]string{"note": "Called the ER; access was justified"}, http.StatusNoContent, nil)
		if resp, b := w.request("POST", path, admin2.Token, map[string]string{"note": "again"}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("closing a closed item: %d %s", resp.StatusCode, b)
		}
		w.do("GET", "/v1/org/break-glass/activations?open=true", o.Admin.Token, nil, http.StatusOK, &open)
		if len(open.Activations) != 1 || open.Activations[0].ID == bg.ActivationID {
			t.Fatalf("open items after the review: %+v", open.Activations)
		}
		var all activationList
		w.do("GET", "/v1/org/break-glass/activations", o.Admin.Token, nil, http.StatusOK, &all)
		for _, a := range all.Activations {
			if a.ID == bg.ActivationID && (a.Open || a.ReviewNote != "Called the ER; access was justified" ||
				a.ReviewedBy == nil || *a.ReviewedBy != o.Admin.ID) {
				t.Fatalf("closed item: %+v", a)
			}
		}
		if n := w.auditCount(o.ID, "org.break_glass.review", "success"); n != 1 {
			t.Fatalf("%d review events", n)
		}
	})

	t.Run("no reason, note or token in the logs", func(t *testing.T) {
		logs := w.logs.String()
		for _, secret := range []string{"Unconscious", "Called the ER", "mail server is down", bg.Token} {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs hold %q", secret)
			}
		}
	})

	t.Run("refused after 60 minutes", func(t *testing.T) {
		// Nobody lengthens it: the database refuses, even the superuser.
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set absolute_expires_at = created_at + interval '2 hours'
		    where id = $1`, bg.SessionID); err == nil {
			t.Fatal("a break-glass session was lengthened past 60 minutes")
		}
		if _, err := w.env.Super.Pool.Exec(ctx, `with t as (select clock_timestamp() as now)
		    update app.sessions s set created_at = t.now - interval '61 minutes',
		      absolute_expires_at = t.now - interval '1 minute', last_seen_at = t.now
		    from t where s.id = $1`, bg.SessionID); err != nil {
			t.Fatal(err)
		}
		resp, b := w.request("GET", "/v1/patients/"+o.P1.String(), bg.Token, nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_expired" {
			t.Fatalf("break-glass session after 60 minutes: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("taking the designation away ends a running emergency session", func(t *testing.T) {
		resp, b := w.activate(d1, reason)
		var bg2 breakGlassAnswer
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &bg2) != nil {
			t.Fatalf("activation: %d %s", resp.StatusCode, b)
		}
		w.do("GET", "/v1/patients/"+o.P1.String(), bg2.Token, nil, http.StatusOK, nil)
		w.do("DELETE", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, nil)
		resp, b = w.request("GET", "/v1/patients/"+o.P1.String(), bg2.Token, nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
			t.Fatalf("the emergency session after its designation ended: %d %s", resp.StatusCode, b)
		}
		// The operator's ordinary session is not an emergency one: it stays.
		w.do("GET", "/v1/me", op.Token, nil, http.StatusOK, nil)
		w.integrate()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
		    and action = 'session.revoke' and object_id = $2 and details->>'reason' = 'break_glass_undesignated'`,
			o.ID, bg2.SessionID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d session.revoke events for the ended emergency session (%v)", n, err)
		}
		w.do("PUT", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, nil)
	})

	t.Run("an activation racing the removal of the designation is refused", func(t *testing.T) {
		// The designation's removal in progress (its transaction holds the
		// row deleted, not yet committed): the activation must wait for it
		// and then find no designation, not slip a live emergency session
		// past the removal's end of the user's emergency sessions.
		tx, err := w.env.Super.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if tag, err := tx.Exec(ctx, `delete from app.break_glass_users where org_id = $1 and user_id = $2`, o.ID, op.ID); err != nil ||
			tag.RowsAffected() != 1 {
			t.Fatalf("removing the designation: %v %v", tag, err)
		}
		type answer struct {
			status int
			body   []byte
		}
		done := make(chan answer, 1)
		go func() {
			resp, b := w.activate(d1, reason)
			done <- answer{resp.StatusCode, b}
		}()
		select {
		case a := <-done:
			t.Fatalf("the activation did not wait for the designation's removal in progress: %d %s", a.status, a.body)
		case <-time.After(time.Second):
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		a := <-done
		if a.status != http.StatusForbidden || problemCode(t, a.body) != "break_glass_refused" {
			t.Fatalf("activation after the designation's removal committed: %d %s", a.status, a.body)
		}
		var live int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.sessions where org_id = $1 and user_id = $2
		    and break_glass and revoked_at is null`, o.ID, op.ID).Scan(&live); err != nil || live != 0 {
			t.Fatalf("%d live emergency sessions after the race (%v)", live, err)
		}
		w.do("PUT", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, nil)
	})

	t.Run("a designated member who is no longer staff is refused", func(t *testing.T) {
		w.do("PATCH", "/v1/members/"+op.ID.String(), o.Admin.Token, map[string]any{"role": identity.RolePatient}, http.StatusOK, nil)
		resp, b := w.activate(d2, reason)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "break_glass_refused" {
			t.Fatalf("activation by a demoted member: %d %s", resp.StatusCode, b)
		}
	})
}
