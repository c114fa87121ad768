package audit_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
)

// BenchmarkCheckpoint: signing and opening a C2SP checkpoint note, beside
// a raw Ed25519 signature and verification of the same body (the
// baseline: what the note format adds is parsing and base64).
func BenchmarkCheckpoint(b *testing.B) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	root := audit.Hash(sha256.Sum256([]byte("root")))
	origin := "ward/audit/0b5c9a5e-3f51-4d2b-9a4e-2f1d7c6b8a90"
	b.Run("sign", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := audit.SignCheckpoint(signer, origin, int64(i+1), root); err != nil {
				b.Fatal(err)
			}
		}
	})
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	body := []byte(audit.CheckpointBody(origin, 123456, root))
	b.Run("baseline-ed25519-sign", func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(priv, body)
		}
	})
	cp, _ := audit.SignCheckpoint(signer, origin, 123456, root)
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			if _, err := audit.OpenCheckpoint(cp.Note, vkey); err != nil {
				b.Fatal(err)
			}
		}
	})
	sig := ed25519.Sign(priv, body)
	pub := priv.Public().(ed25519.PublicKey)
	b.Run("baseline-ed25519-verify", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, body, sig) {
				b.Fatal("bad signature")
			}
		}
	})
}

// BenchmarkInclusionProof: an inclusion proof built in memory from every
// leaf hash of a log (the path a log pruned before its stored nodes still
// takes; BenchmarkStoredProof has the database paths), at several log
// sizes, beside hashing the same leaves into the tree's root (the least
// work that touches every leaf). Both are linear in the log's size.
func BenchmarkInclusionProof(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 14, 1 << 17} {
		leaves := make([]audit.Hash, n)
		for i := range leaves {
			var x [8]byte
			binary.BigEndian.PutUint64(x[:], uint64(i))
			leaves[i] = audit.LeafHash(x[:])
		}
		b.Run(fmt.Sprintf("proof/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := audit.InclusionProof(leaves, uint64(i%n), uint64(n)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("baseline-root/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				t := audit.NewTree()
				for _, l := range leaves {
					t.Append(l)
				}
				_ = t.Root()
			}
		})
	}
}
