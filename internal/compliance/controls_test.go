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
		// The integrator stopped: the tree stays at the checkpoint's
		// size while events wait in the queue (00311).
		{"integrator stopped", 10, ago(2 * time.Hour), Partial, "events not yet sequenced into the log (is its integrator running?), the oldest written 2026-12-04T10:00:00Z"},
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
			expectMark(t, retention(facts{Orgs: []orgFacts{o}}, 2190, nil), c.want, c.evidence)
		})
	}
}

// TestComplianceDisposalMarks: the disposal control's marks from the
// facts, at the bounds the database test cannot set exactly (a day past
// retention) and for a log without the purge action.
func TestComplianceDisposalMarks(t *testing.T) {
	all := []string{"breach.revoke", "breach.scope", "document.purge"}
	for _, c := range []struct {
		name     string
		actions  []string
		org      func(*orgFacts)
		want     Status
		evidence string
	}{
		{"no policy", all, func(o *orgFacts) {}, Partial, "have no document retention policy"},
		{"policy, nothing due", all, func(o *orgFacts) { o.RetentionTypes = 2 }, Pass, "2 document types (no document purged yet)"},
		{"an hour past retention", all, func(o *orgFacts) {
			o.RetentionTypes, o.DocumentsOverdue, o.DocumentsOverdueSince = 1, 1, ago(time.Hour)
		}, Pass, "due at the purge's next pass"},
		{"just over a day past retention", all, func(o *orgFacts) {
			o.RetentionTypes, o.DocumentsOverdue, o.DocumentsOverdueSince = 1, 3, ago(25*time.Hour)
		}, Partial, "3 documents, the oldest past retention since 2026-12-03T11:00:00Z"},
		{"held only", all, func(o *orgFacts) { o.RetentionTypes, o.DocumentsHeld = 1, 4 }, Pass, "kept by an active legal hold"},
		{"unshredded", all, func(o *orgFacts) { o.RetentionTypes, o.DocumentsUnshredded = 1, 1 }, Gap, "not crypto-shredded"},
		{"purged", all, func(o *orgFacts) { o.RetentionTypes, o.LastPurgeAt, o.PurgedYear = 1, ago(time.Minute), 7 }, Pass,
			"last document.purge 2026-12-04T11:59:00Z, 7 in the last 365 days"},
		{"patients shredded", all, func(o *orgFacts) {
			o.RetentionTypes, o.PatientsShredded, o.LastPatientShredAt = 1, 2, ago(36*time.Hour)
		}, Pass, ": 2, the newest on 2026-12-03"},
		{"purge not installed", all[:2], func(o *orgFacts) { o.RetentionTypes = 1 }, Gap, "retention purge is not installed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := liveOrg()
			c.org(&o)
			expectMark(t, disposal(facts{Now: now, BreachActions: c.actions, Orgs: []orgFacts{o}}), c.want, c.evidence)
		})
	}
	if got := disposal(facts{Now: now, BreachActions: all}); got.Status != NA {
		t.Errorf("no live org: %s", got.Status)
	}
}

// TestEncryptionPatientKeys: the encryption control counts the patients
// sealed under keysets of their own across live orgs and names the orgs
// whose patients are still under the org's keys; a shredded org counts
// none.
func TestEncryptionPatientKeys(t *testing.T) {
	key := func(o orgFacts) orgFacts {
		o.KeysetCreatedAt, o.HasPRF = ago(24*time.Hour), true
		return o
	}
	a, b, gone := key(liveOrg()), key(liveOrg()), key(liveOrg())
	a.PatientsKeyed, b.PatientsKeyed, b.PatientsOrgSealed = 3, 2, 4
	gone.PatientsKeyed, gone.ShreddedAt = 9, ago(time.Hour)
	c := encryption(facts{Now: now, Orgs: []orgFacts{a, b, gone}}, 365*24*time.Hour)
	expectMark(t, c, Pass, "5 patients' records sealed under keysets of their own")
	expectMark(t, c, Pass, "still sealed under their org's keys (created before the per-patient tier, migration 00275): "+
		"they are crypto-shredded with their org, not alone, until `ward patient key` gives them keysets of their own: "+b.ID.String()+": 4")
	if joined := strings.Join(c.Evidence, "\n"); strings.Contains(joined, a.ID.String()+": ") {
		t.Errorf("an org with every patient keyed is named:\n%s", joined)
	}
	a.PatientsKeyed = 1
	expectMark(t, encryption(facts{Now: now, Orgs: []orgFacts{a}}, 365*24*time.Hour), Pass, "1 patient's record sealed under a keyset of their own")
}

// TestComplianceIncidentMarks: incident procedures are PARTIAL whatever the
// tools' use (the procedure is the organization's), GAP without the tools.
func TestComplianceIncidentMarks(t *testing.T) {
	o := liveOrg()
	o.BreachScopesYear, o.BreakGlassUnreviewed, o.BreakGlassUnreviewedSince = 2, 1, ago(48*time.Hour)
	f := facts{Now: now, BreachActions: []string{"breach.revoke", "breach.scope"}, Orgs: []orgFacts{o}}
	expectMark(t, incidentProcedures(f), Partial, "2 scopes, 0 revocations")
	expectMark(t, incidentProcedures(f), Partial, "1 activation, the oldest activated 2026-12-02T12:00:00Z")
	f.BreachActions = []string{"breach.scope"}
	expectMark(t, incidentProcedures(f), Gap, "no action breach.revoke")
}
