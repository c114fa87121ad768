package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
)

// testLog is an org's log of synthetic leaves, signed by one key.
type testLog struct {
	t      *testing.T
	origin string
	leaves []audit.Hash
	signer note.Signer
}

func newTestLog(t *testing.T, org uuid.UUID, signer note.Signer, n int) *testLog {
	l := &testLog{t: t, origin: audit.Origin(org), signer: signer}
	for i := range n {
		l.leaves = append(l.leaves, audit.LeafHash(fmt.Appendf(nil, `{"org":%q,"seq":%d}`, org, i+1)))
	}
	return l
}

// root is the RFC 9162 root of the first size leaves.
func (l *testLog) root(size int) audit.Hash {
	tr := audit.NewTree()
	for _, h := range l.leaves[:size] {
		tr.Append(h)
	}
	return tr.Root()
}

func (l *testLog) checkpoint(size int) audit.Checkpoint {
	cp, err := audit.SignCheckpoint(l.signer, l.origin, int64(size), l.root(size))
	if err != nil {
		l.t.Fatal(err)
	}
	return cp
}

// consistency is the bundle GET /v1/audit/proof/consistency?from= answers
// when the newest checkpoint has size to.
func (l *testLog) consistency(from, to int) audit.Consistency {
	p, err := audit.ConsistencyProof(l.leaves, uint64(from), uint64(to))
	if err != nil {
		l.t.Fatal(err)
	}
	return audit.Consistency{Checkpoint: l.checkpoint(to), FromSize: int64(from), FromRoot: l.root(from), Proof: p}
}

// TestProofVerifyConsistency: `ward audit proof verify` checks a
// consistency bundle offline with the verifier key alone (the checkpoint's
// signature, then the RFC 9162 proof from from_size/from_root to the
// checkpoint), telling it from an inclusion bundle by its fields, and with
// --previous that a checkpoint kept from before is of the same log and
// consistent with it. A bundle that does not verify exits non-zero naming
// what failed. Before, the command read every bundle as an inclusion one.
func TestProofVerifyConsistency(t *testing.T) {
	dir := t.TempDir()
	skey, vkey, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any) string {
		t.Helper()
		var b []byte
		if s, ok := v.(string); ok {
			b = []byte(s)
		} else if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	keyFile, otherKeyFile := write("audit.vkey", vkey+"\n"), write("other.vkey", otherKey+"\n")
	orgA, orgB := uuid.New(), uuid.New()
	a, b := newTestLog(t, orgA, signer, 23), newTestLog(t, orgB, signer, 23)
	good := a.consistency(9, 23)
	goodFile := write("good.json", good)
	// Yesterday's checkpoint, kept as the signed note GET
	// /v1/audit/checkpoint's note field and the archive hold.
	yesterday := write("yesterday.note", a.checkpoint(9).Note)

	out, err := ward(t, "audit", "proof", "verify", "--key", keyFile, goodFile)
	if err != nil || !strings.Contains(out, fmt.Sprintf("verified: %s at size 9", a.origin)) ||
		!strings.Contains(out, "prefix of the log at size 23") {
		t.Fatalf("a good consistency bundle: %q, %v", out, err)
	}
	out, err = ward(t, "audit", "proof", "verify", "--key", keyFile, "--org", orgA.String(), "--previous", yesterday, goodFile)
	if err != nil || !strings.Contains(out, "the previous checkpoint (size 9") {
		t.Fatalf("a good bundle from yesterday's checkpoint: %q, %v", out, err)
	}
	// Today's checkpoint as the previous one (same size) is consistent too.
	if _, err := ward(t, "audit", "proof", "verify", "--key", keyFile, "--previous", write("today.note", a.checkpoint(23).Note),
		goodFile); err != nil {
		t.Fatalf("the bundle's own checkpoint as --previous: %v", err)
	}

	// Each case: a bundle (or flags) that must fail, and what the message
	// must name.
	tamperedRoot := good
	tamperedRoot.FromRoot = a.root(8)
	beyond := a.consistency(9, 23)
	beyond.FromSize = 24
	// Another org's proof under this org's checkpoint: the proof is sound
	// for its own log, not this one.
	spliced := b.consistency(9, 23)
	spliced.Checkpoint = good.Checkpoint
	// The checkpoint's note with its root line rewritten (the unsigned
	// root field is never trusted).
	forged := good
	forged.Checkpoint.Note = strings.Replace(good.Checkpoint.Note, "\n23\n", "\n22\n", 1)
	// A checkpoint of this log's name at size 9 whose root is not the one
	// the log had then: the log was rewritten after it was kept.
	rewritten, err := audit.SignCheckpoint(signer, a.origin, 9, b.root(9))
	if err != nil {
		t.Fatal(err)
	}
	otherRoot := rewritten.Note
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"tampered from_root", []string{"--key", keyFile, write("root.json", tamperedRoot)},
			"the consistency proof does not verify against the bundle's checkpoint: audit: proof does not verify: " +
				"the proof gives " + a.root(9).String() + ", not the root at size 9 " + a.root(8).String()},
		{"wrong key", []string{"--key", otherKeyFile, goodFile}, "checkpoint does not verify under --key"},
		{"forged checkpoint", []string{"--key", keyFile, write("forged.json", forged)}, "checkpoint does not verify under --key"},
		{"from_size beyond the size", []string{"--key", keyFile, write("beyond.json", beyond)},
			"from_size 24 is not in 1..23"},
		{"another org's proof", []string{"--key", keyFile, write("spliced.json", spliced)},
			"the proof gives " + b.root(23).String() + ", not the root at size 23 " + a.root(23).String()},
		{"another org's log, --org", []string{"--key", keyFile, "--org", orgA.String(), write("b.json", b.consistency(9, 23))},
			"is of log " + b.origin + ", not of org " + orgA.String()},
		{"another org's log, --previous", []string{"--key", keyFile, "--previous", yesterday, write("b.json", b.consistency(9, 23))},
			"the previous checkpoint of " + a.origin},
		{"previous of another size", []string{"--key", keyFile, "--previous", write("other-size.note", a.checkpoint(5).Note), goodFile},
			"consistency?from=5"},
		{"previous ahead of the bundle", []string{"--key", keyFile, "--previous", write("ahead.note", a.checkpoint(23).Note),
			write("older.json", a.consistency(9, 20))}, "more than the bundle's 20"},
		{"previous not on the log", []string{"--key", keyFile, "--previous", write("rewritten.note", otherRoot), goodFile},
			"the log was rewritten since"},
		{"neither kind", []string{"--key", keyFile, write("neither.json", map[string]any{"checkpoint": good.Checkpoint})},
			"neither an inclusion bundle"},
	} {
		_, err := ward(t, append([]string{"audit", "proof", "verify"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a failure naming %q", c.name, err, c.want)
		}
	}

	// An inclusion bundle is still read as one.
	p, err := audit.InclusionProof(a.leaves, 4, 23)
	if err != nil {
		t.Fatal(err)
	}
	incl := write("inclusion.json", audit.Inclusion{Checkpoint: a.checkpoint(23), Seq: 5, LeafHash: a.leaves[4], Proof: p})
	if out := mustWard(t, "audit", "proof", "verify", "--key", keyFile, incl); !strings.Contains(out, "verified: seq 5") {
		t.Fatalf("an inclusion bundle: %q", out)
	}
	// It proves nothing about a kept checkpoint of another size.
	if _, err := ward(t, "audit", "proof", "verify", "--key", keyFile, "--previous", yesterday, incl); err == nil ||
		!strings.Contains(err.Error(), "--previous needs a consistency bundle (GET /v1/audit/proof/consistency?from=9)") {
		t.Fatalf("an inclusion bundle with --previous: %v", err)
	}
}
