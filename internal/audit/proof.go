package audit

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// ErrBadProof means a proof that does not verify.
var ErrBadProof = errors.New("audit: proof does not verify")

// The proofs are RFC 9162's, built and checked with
// github.com/transparency-dev/merkle/proof: that library decides which
// nodes a proof holds and verifies it; Ward only supplies node hashes,
// each the root of a complete subtree of leaves.

// InclusionProof returns the inclusion proof of the leaf at index (seq-1)
// in the tree of the first size leaves. leaves must hold at least size.
func InclusionProof(leaves []Hash, index, size uint64) ([]Hash, error) {
	if size > uint64(len(leaves)) || index >= size {
		return nil, fmt.Errorf("audit: inclusion proof of %d in %d with %d leaves", index, size, len(leaves))
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("audit: inclusion proof: %w", err)
	}
	return rehash(nodes, leaves)
}

// ConsistencyProof returns the proof that the tree of the first size1
// leaves is a prefix of the tree of the first size2.
func ConsistencyProof(leaves []Hash, size1, size2 uint64) ([]Hash, error) {
	if size2 > uint64(len(leaves)) || size1 > size2 {
		return nil, fmt.Errorf("audit: consistency proof %d..%d with %d leaves", size1, size2, len(leaves))
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("audit: consistency proof: %w", err)
	}
	return rehash(nodes, leaves)
}

func rehash(nodes proof.Nodes, leaves []Hash) ([]Hash, error) {
	hs := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		lo := id.Index << id.Level
		hi := (id.Index + 1) << id.Level
		if hi > uint64(len(leaves)) {
			return nil, fmt.Errorf("audit: proof node %d/%d beyond the leaves", id.Level, id.Index)
		}
		r := subtreeRoot(leaves[lo:hi])
		hs[i] = r[:]
	}
	out, err := nodes.Rehash(hs, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, fmt.Errorf("audit: proof: %w", err)
	}
	p := make([]Hash, len(out))
	for i, h := range out {
		copy(p[i][:], h)
	}
	return p, nil
}

// subtreeRoot is the root of a complete subtree (a power-of-two number of
// leaves).
func subtreeRoot(leaves []Hash) Hash {
	level := append([]Hash(nil), leaves...)
	for len(level) > 1 {
		next := level[:len(level)/2]
		for i := range next {
			copy(next[i][:], nodeHash(level[2*i][:], level[2*i+1][:]))
		}
		level = next
	}
	return level[0]
}

// VerifyInclusion checks that leaf is at index in the tree of size whose
// root is root. Errors wrap ErrBadProof.
func VerifyInclusion(leaf Hash, index, size uint64, p []Hash, root Hash) error {
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leaf[:], raw(p), root[:]); err != nil {
		return badProof(err, "the leaf and the proof give", map[Hash]string{root: "the root"})
	}
	return nil
}

// VerifyConsistency checks that the tree of size1 with root1 is a prefix of
// the tree of size2 with root2. Errors wrap ErrBadProof.
func VerifyConsistency(size1, size2 uint64, p []Hash, root1, root2 Hash) error {
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, raw(p), root1[:], root2[:]); err != nil {
		return badProof(err, "the proof gives", map[Hash]string{root2: "the root at size " + strconv.FormatUint(size2, 10),
			root1: "the root at size " + strconv.FormatUint(size1, 10)})
	}
	return nil
}

// badProof wraps a failed verification in ErrBadProof, on one line: the
// library's root mismatch prints both roots as byte lists over several
// lines; this names the root the proof missed (names: root → what it
// is), in hex. what is the subject and its verb ("the proof gives").
func badProof(err error, what string, names map[Hash]string) error {
	var m proof.RootMismatchError
	if !errors.As(err, &m) {
		return fmt.Errorf("%w: %v", ErrBadProof, err)
	}
	want, _ := hashFrom(m.ExpectedRoot)
	got, _ := hashFrom(m.CalculatedRoot)
	name, ok := names[want]
	if !ok {
		name = "the expected root"
	}
	return fmt.Errorf("%w: %s %s, not %s %s", ErrBadProof, what, got, name, want)
}

func raw(p []Hash) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}
