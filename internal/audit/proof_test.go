package audit_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
)

// Proofs from Ward's code equal the reference tree's (transparency-dev's
// testonly, an independent implementation) and verify; tampered ones do not.
func TestProofsAgainstReference(t *testing.T) {
	inputs := testonly.LeafInputs()
	ref := testonly.New(rfc6962.DefaultHasher)
	var leaves []audit.Hash
	for _, in := range inputs {
		ref.AppendData(in)
		var h audit.Hash
		copy(h[:], rfc6962.DefaultHasher.HashLeaf(in))
		leaves = append(leaves, h)
	}
	// And a longer tree of random leaves.
	for range 300 {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		ref.AppendData(b)
		var h audit.Hash
		copy(h[:], rfc6962.DefaultHasher.HashLeaf(b))
		leaves = append(leaves, h)
	}
	root := func(size uint64) audit.Hash {
		tr := audit.NewTree()
		for _, l := range leaves[:size] {
			tr.Append(l)
		}
		return tr.Root()
	}
	for _, size := range []uint64{1, 2, 3, 5, 7, 8, 9, 64, 100, 257, uint64(len(leaves))} {
		r := root(size)
		if want := ref.HashAt(size); !bytes.Equal(r[:], want) {
			t.Fatalf("root at %d differs from the reference", size)
		}
		for _, idx := range []uint64{0, size / 2, size - 1} {
			p, err := audit.InclusionProof(leaves, idx, size)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.InclusionProof(idx, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != len(want) {
				t.Fatalf("inclusion %d/%d: %d hashes, reference %d", idx, size, len(p), len(want))
			}
			for i := range p {
				if !bytes.Equal(p[i][:], want[i]) {
					t.Fatalf("inclusion %d/%d: hash %d differs", idx, size, i)
				}
			}
			if err := audit.VerifyInclusion(leaves[idx], idx, size, p, r); err != nil {
				t.Fatalf("inclusion %d/%d: %v", idx, size, err)
			}
			if size > 1 {
				bad := append([]audit.Hash(nil), p...)
				bad[0][0] ^= 1
				if err := audit.VerifyInclusion(leaves[idx], idx, size, bad, r); !errors.Is(err, audit.ErrBadProof) {
					t.Fatalf("a tampered inclusion proof verified: %v", err)
				}
			}
		}
		for _, from := range []uint64{1, size / 2, size} {
			if from == 0 {
				continue
			}
			p, err := audit.ConsistencyProof(leaves, from, size)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.ConsistencyProof(from, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != len(want) {
				t.Fatalf("consistency %d..%d: %d hashes, reference %d", from, size, len(p), len(want))
			}
			if err := audit.VerifyConsistency(from, size, p, root(from), r); err != nil {
				t.Fatalf("consistency %d..%d: %v", from, size, err)
			}
			if from < size {
				other := root(from)
				other[0] ^= 1
				if err := audit.VerifyConsistency(from, size, p, other, r); !errors.Is(err, audit.ErrBadProof) {
					t.Fatalf("consistency with a wrong old root verified: %v", err)
				}
			}
		}
	}
}

// Checkpoints are C2SP signed notes: they verify with the key, not with
// another, and an edited size or root breaks the signature.
func TestCheckpointNotes(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	root := audit.LeafHash([]byte("x"))
	cp, err := audit.SignCheckpoint(signer, "ward/audit/org-1", 42, root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cp.Note, "ward/audit/org-1\n42\n") || !strings.Contains(cp.Note, "\n\n— ward-audit ") {
		t.Fatalf("not a C2SP checkpoint note:\n%s", cp.Note)
	}
	got, err := audit.OpenCheckpoint(cp.Note, vkey)
	if err != nil || got.Size != 42 || got.Root != root || got.Origin != "ward/audit/org-1" {
		t.Fatalf("OpenCheckpoint = %+v, %v", got, err)
	}
	_, otherV, _ := note.GenerateKey(rand.Reader, "ward-audit")
	if _, err := audit.OpenCheckpoint(cp.Note, otherV); !errors.Is(err, audit.ErrBadCheckpoint) {
		t.Errorf("verified under another key: %v", err)
	}
	if _, err := audit.OpenCheckpoint(strings.Replace(cp.Note, "\n42\n", "\n43\n", 1), vkey); !errors.Is(err, audit.ErrBadCheckpoint) {
		t.Errorf("an edited size verified: %v", err)
	}
}
