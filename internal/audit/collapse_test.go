package audit_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
)

func TestCollapser(t *testing.T) {
	c := audit.NewCollapser(3, 10, time.Minute)
	cred, other := uuid.New(), uuid.New()
	now := time.Now()
	recorded, counted := 0, 0
	for range 45 {
		if ok, n := c.Admit(cred, now); ok {
			recorded++
			counted += n
		}
	}
	// 3 one by one, then 42 more in batches of 10: 4 events for 40.
	if recorded != 7 || counted != 43 {
		t.Fatalf("45 refusals: %d events counting %d, want 7 counting 43", recorded, counted)
	}
	// Another credential is not affected.
	if ok, n := c.Admit(other, now); !ok || n != 1 {
		t.Fatalf("another credential: %v %d", ok, n)
	}
	// The next window's first event carries the 2 still pending.
	if ok, n := c.Admit(cred, now.Add(time.Minute)); !ok || n != 3 {
		t.Fatalf("next window: %v %d, want an event counting 3", ok, n)
	}
	if ok, n := c.Admit(cred, now.Add(time.Minute+time.Second)); !ok || n != 1 {
		t.Fatalf("second of the next window: %v %d", ok, n)
	}
}
