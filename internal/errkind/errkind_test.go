package errkind_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wardhq/ward/internal/errkind"
)

func TestKinds(t *testing.T) {
	errExpired := errkind.New(errkind.Unauthenticated, "link_expired", "auth: link expired").
		WithPublic("this sign-in link has expired")
	errBad := errkind.New(errkind.Invalid, "", "records: invalid input")
	wrapped := fmt.Errorf("auth: consume link %s: %w", "id-1", errExpired)
	if errkind.Of(wrapped) != errkind.Unauthenticated || errkind.Code(wrapped) != "link_expired" ||
		errkind.PublicText(wrapped) != "this sign-in link has expired" || !errors.Is(wrapped, errExpired) {
		t.Errorf("wrapped sentinel: %v %q %q", errkind.Of(wrapped), errkind.Code(wrapped), errkind.PublicText(wrapped))
	}
	v := errkind.Visiblef(errBad, "limit must be 1..%d", 200)
	if errkind.Of(v) != errkind.Invalid || errkind.Code(v) != "invalid" || errkind.PublicText(v) != "limit must be 1..200" ||
		!errors.Is(v, errBad) || v.Error() != "records: invalid input: limit must be 1..200" {
		t.Errorf("visible: %v %q %q %q", errkind.Of(v), errkind.Code(v), errkind.PublicText(v), v.Error())
	}
	// An error's own message is never public.
	plain := fmt.Errorf("query failed for patient Jane Doe")
	if errkind.Of(plain) != errkind.Internal || errkind.PublicText(plain) != "" || errkind.Code(plain) != "internal" {
		t.Errorf("plain error: %v %q", errkind.Of(plain), errkind.PublicText(plain))
	}
	if errkind.Of(nil) != errkind.Internal {
		t.Error("nil is not classified")
	}
	if errkind.Kind(200).String() != "internal" {
		t.Error("unknown kind name")
	}
}
