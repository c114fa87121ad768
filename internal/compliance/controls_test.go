package compliance

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The controls whose marks turn on times and states the database test
// cannot set without breaking the log (an event hours old, a sink that
// never delivered): each from facts as app.ops_compliance_facts() returns
// them.

var now = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *time.Time {
	t := now.Add(-d)
	return &t
}

func liveOrg() orgFacts {
	return orgFacts{ID: uuid.New(), Exists: true, Members: 3}
}

func expectMark(t *testing.T, c Control, want Status, evidence string) {
	t.Helper()
	joined := strings.Join(c.Evidence, "\n")
	if c.Status != want || !strings.Contains(joined, evidence) {
		t.Errorf("%s: %s, want %s with %q in its evidence:\n%s", c.ID, c.Status, want, evidence, joined)
	}
}

// TestActivityReviewSinks: a sink counts only while it delivers.
func TestActivityReviewSinks(t *testing.T) {
	for _, c := range []struct {
		name     string
		sinks    []sinkFacts
		want     Status
		evidence string
	}{
		{"none", nil, Partial, "stream their log to no enabled audit sink"},
		{"caught up", []sinkFacts{{LastSuccessAt: ago(time.Minute)}}, Pass, "audit sink that is delivering"},
		{"a few minutes behind", []sinkFacts{{LastSuccessAt: ago(time.Minute), UndeliveredSince: ago(5 * time.Minute)}}, Pass, "delivering"},
		{"failing", []sinkFacts{{Failing: true, LastSuccessAt: ago(3 * time.Hour)}}, Partial, "last delivered 2026-12-04T09:00:00Z"},
		{"never delivered", []sinkFacts{{UndeliveredSince: ago(2 * time.Hour)}}, Partial, "never delivered"},
		{"stalled", []sinkFacts{{LastSuccessAt: ago(5 * time.Hour), UndeliveredSince: ago(2 * time.Hour)}}, Partial, "more than 1h0m0s behind"},
		{"one of two delivering", []sinkFacts{{Failing: true}, {UndeliveredSince: ago(time.Minute)}}, Pass, "delivering"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := liveOrg()
			o.Sinks = c.sinks
			expectMark(t, activityReview(facts{Now: now, Orgs: []orgFacts{o}}), c.want, c.evidence)
		})
	}
}

// TestAuditControlsUnsigned: events no checkpoint covers are a finding
// only once the oldest is over an hour old.
func TestAuditControlsUnsigned(t *testing.T) {
	size := int64(10)
	for _, c := range []struct {
		name     string
		tree     int64
		oldest   *time.Time
		want     Status
		evidence string
	}{
		{"covered", 10, nil, Pass, "newest signed checkpoint at 10"},
		{"signer a few seconds behind", 12, ago(5 * time.Second), Pass, "newest signed checkpoint at 10"},
		{"quiet log, one new event", 11, ago(time.Second), Pass, "newest signed checkpoint at 10"},
		{"signer stopped", 40, ago(2 * time.Hour), Partial, "30 events after it, the oldest written 2026-12-04T10:00:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := liveOrg()
			o.TreeSize, o.CheckpointSize, o.CheckpointAt, o.FirstUnsignedAt = c.tree, &size, ago(3*time.Hour), c.oldest
			logs := []logResult{{Org: o}}
			logs[0].Report.Size = c.tree
			expectMark(t, auditControls(facts{Now: now}, logs, true, false), c.want, c.evidence)
		})
	}
}

// TestEmergencyAccessUsable: a designation counts only when it could be
// used now.
func TestEmergencyAccessUsable(t *testing.T) {
	a, b := liveOrg(), liveOrg()
	a.BreakGlassUsers, a.BreakGlassUsable = 2, 0
	expectMark(t, emergencyAccess(facts{Orgs: []orgFacts{a}}), Gap, "2 designations, none with a live clinical or admin membership and two passkeys")
	b.BreakGlassUsers, b.BreakGlassUsable = 1, 1
	expectMark(t, emergencyAccess(facts{Orgs: []orgFacts{a, b}}), Partial, "1 of 2 orgs have no break-glass user who could activate now")
	expectMark(t, emergencyAccess(facts{Orgs: []orgFacts{b}}), Pass, "could activate now")
}

// TestRetentionLocks: a retention date binds only under a COMPLIANCE lock.
func TestRetentionLocks(t *testing.T) {
	days := 2555
	for _, c := range []struct {
		name     string
		unlocked int
		modes    []string
		want     Status
		evidence string
	}{
		{"compliance", 0, []string{"COMPLIANCE"}, Pass, "under COMPLIANCE-mode locks"},
		{"unlocked", 2, []string{"COMPLIANCE"}, Partial, "2 without a lock (deletable at any time): their retention"},
		{"governance", 0, []string{"COMPLIANCE", "GOVERNANCE"}, Partial, "but some in GOVERNANCE mode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := liveOrg()
			o.ArchiveObjects, o.ArchiveUnlocked, o.ArchiveModes, o.ArchiveMinDays = 5, c.unlocked, c.modes, &days
			expectMark(t, retention(facts{Orgs: []orgFacts{o}}, 2190), c.want, c.evidence)
		})
	}
}
