package export

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
)

// SetPageSize makes pages of rows events and leaves leaf hashes for the
// rest of the test.
func SetPageSize(t testing.TB, rows, leaves int64) {
	pr, lp := pageRows, leafPage
	pageRows, leafPage = rows, leaves
	t.Cleanup(func() { pageRows, leafPage = pr, lp })
}

// At most MaxPerOrg exports of one org and MaxTotal on the instance run
// at once; one more is refused with ErrBusy and a Retry-After, before
// anything is read or recorded (the Service here has no database at all),
// and a finished export gives its slot back. While one org holds its
// maximum another still gets a slot, and the last free slot goes to an org
// that runs none, not to another org's second export (before, orgs a and b
// took two each and refused org c).
func TestExportCap(t *testing.T) {
	skey, _, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(nil, signer, Options{}, slog.New(slog.DiscardHandler))
	as := func(org uuid.UUID) context.Context {
		return identity.WithPrincipal(context.Background(), identity.Principal{OrgID: org, UserID: uuid.New(),
			Role: identity.RoleAdmin})
	}
	busy := func(what string, err error) {
		t.Helper()
		d, ok := errkind.RetryAfter(err)
		if !errors.Is(err, ErrBusy) || errkind.Of(err) != errkind.RateLimited || !ok || d <= 0 {
			t.Fatalf("%s: %v (retry %v %v), want ErrBusy with a Retry-After", what, err, d, ok)
		}
	}
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	var releases []func()
	for range MaxPerOrg {
		r, err := s.slots.Take(a)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	_, err = s.Export(as(a), JSONL, Filter{}, io.Discard)
	busy("a third export of one org", err)
	_, err = s.Bundle(as(a), JSONL, Filter{}, io.Discard)
	busy("a bundle beside two exports of its org", err)
	// b gets a slot beside a's two, and not the last one for a second.
	r, err := s.slots.Take(b)
	if err != nil {
		t.Fatalf("org b beside org a's maximum: %v", err)
	}
	releases = append(releases, r)
	if r, err := s.slots.Take(b); err == nil {
		r()
		t.Fatal("a second export of org b took the last slot")
	} else {
		busy("a second export of org b that would take the last slot", err)
	}
	// The last slot is c's, which runs none; then the node is full.
	if r, err = s.slots.Take(c); err != nil {
		t.Fatalf("org c, running none, for the last slot: %v", err)
	}
	releases = append(releases, r)
	if len(releases) != MaxTotal {
		t.Fatalf("%d exports running, want %d", len(releases), MaxTotal)
	}
	_, err = s.Export(as(uuid.New()), CSV, Filter{}, io.Discard)
	busy("an export of a fourth org beside four", err)
	for _, r := range releases {
		r()
	}
	if s.slots.all != 0 || len(s.slots.open) != 0 {
		t.Fatalf("slots left: %d %v", s.slots.all, s.slots.open)
	}
	if r, err := s.slots.Take(a); err != nil {
		t.Fatalf("after the exports ended: %v", err)
	} else {
		r()
	}
}
