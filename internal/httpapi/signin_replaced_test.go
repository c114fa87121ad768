package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestSignInEndsTheReplacedSession: a sign-in that puts its session in a
// browser's cookie ends the session the cookie held, as a logout would
// (audited as one), instead of leaving it live where nobody can present or
// end it: another member's on a shared computer, or the user's own earlier
// one. A sign-in without that cookie ends nothing.
func TestSignInEndsTheReplacedSession(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Shared Desk Clinic")
	ann := w.addMember(o, "ann@example.test", "patient")
	ben := w.addMember(o, "ben@example.test", "patient")
	signIn := func(b *browser, email string) string {
		t.Helper()
		link, err := w.ops.OperatorLink(context.Background(), w.env.Super, email, uuid.NullUUID{UUID: o.ID, Valid: true})
		if err != nil {
			t.Fatal(err)
		}
		body := `{"token":"` + link[strings.LastIndex(link, "=")+1:] + `"}`
		if resp, out := b.send("POST", "/v1/auth/magic", "application/json", body); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s signs in: %d %s", email, resp.StatusCode, out)
		}
		return b.session()
	}

	desk := w.browser(t)
	annTok := signIn(desk, ann.Email)
	annID, live := w.sessionLive(annTok)
	if annTok == "" || !live {
		t.Fatal("ann's sign-in left no live session in the cookie")
	}
	// Ann's session on her own phone, which the desk never held.
	annPhone := signIn(w.browser(t), ann.Email)

	benTok := signIn(desk, ben.Email)
	if _, live := w.sessionLive(annTok); live || benTok == annTok {
		t.Fatal("ben's sign-in at the desk left ann's session live")
	}
	if n := w.logoutEvents(o.ID, annID); n != 1 {
		t.Fatalf("%d logout events for ann's replaced session, want 1", n)
	}
	if _, live := w.sessionLive(annPhone); !live {
		t.Fatal("ben's sign-in ended ann's session on another device")
	}
	benID, _ := w.sessionLive(benTok)

	// Ben signing in again at the desk ends his earlier session there too.
	again := signIn(desk, ben.Email)
	if _, live := w.sessionLive(benTok); live || again == benTok {
		t.Fatal("a second sign-in at the desk left the first one live")
	}
	if _, live := w.sessionLive(again); !live {
		t.Fatal("the second sign-in's session is not live")
	}
	if n := w.logoutEvents(o.ID, benID); n != 1 {
		t.Fatalf("%d logout events for ben's replaced session, want 1", n)
	}
}
