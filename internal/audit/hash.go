package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Hash is a SHA-256 value: a leaf, chain or tree hash. It prints and
// marshals as lower-case hex.
type Hash [32]byte

// String returns h as lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText encodes h as lower-case hex.
func (h Hash) MarshalText() ([]byte, error) {
	b := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(b, h[:])
	return b, nil
}

// UnmarshalText decodes 64 hex digits into h. It returns an error for any
// other input.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != hex.EncodedLen(len(h)) {
		return fmt.Errorf("audit: hash must be %d hex digits, got %d characters", hex.EncodedLen(len(h)), len(b))
	}
	if _, err := hex.Decode(h[:], b); err != nil {
		return fmt.Errorf("audit: hash is not hex: %w", err)
	}
	return nil
}

// ParseHash decodes 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	err := h.UnmarshalText([]byte(s))
	return h, err
}

// hashFrom copies b into a Hash, reporting whether b was 32 bytes long.
func hashFrom(b []byte) (Hash, bool) {
	var h Hash
	return h, copy(h[:], b) == len(h) && len(b) == len(h)
}

// Origin returns the name of org's log: the checkpoint origin and the input
// of the chain seed. It matches audit.origin() in SQL.
func Origin(org uuid.UUID) string { return "ward/audit/" + org.String() }

// LeafHash returns the RFC 6962 leaf hash of canonical event bytes:
// SHA-256(0x00 ‖ canonical).
func LeafHash(canonical []byte) Hash {
	d := sha256.New()
	d.Write([]byte{rfc6962.RFC6962LeafHashPrefix})
	d.Write(canonical)
	var h Hash
	d.Sum(h[:0])
	return h
}

// chainPrefix separates chain links from RFC 6962 leaves (0x00) and nodes
// (0x01).
const chainPrefix = 0x02

// ChainSeed returns chain_0 for a log: SHA-256("audit-chain/v1\n" ‖ origin).
func ChainSeed(origin string) Hash {
	return sha256.Sum256([]byte("audit-chain/v1\n" + origin))
}

// ChainNext returns the next link of the hash chain:
// SHA-256(0x02 ‖ prev ‖ leaf).
func ChainNext(prev, leaf Hash) Hash {
	var b [1 + 2*len(Hash{})]byte
	b[0] = chainPrefix
	copy(b[1:], prev[:])
	copy(b[1+len(prev):], leaf[:])
	return sha256.Sum256(b[:])
}

// EmptyRoot is the root of a tree with no leaves, SHA-256 of nothing.
func EmptyRoot() Hash { return sha256.Sum256(nil) }

// Tree is an RFC 6962 Merkle tree built leaf by leaf. It keeps only the
// compact range (one hash per set bit of the size), so memory is
// O(log size). Proof code is transparency-dev/merkle's, not ours.
//
// The compact range keeps the slices it is given, so every leaf and node
// hash needs 32 bytes of its own. They are carved from a small arena
// instead of allocated one by one: at a million leaves a second the two
// 32-byte allocations per leaf were a tenth of the verifier's time. A
// chunk lives while any hash in it is still in the range, so memory stays
// O(log size) chunks of arenaChunk bytes. A Tree is not safe for concurrent
// use, Root included (it hashes into the arena).
type Tree struct {
	f     *compact.RangeFactory
	r     *compact.Range
	arena []byte
}

// arenaChunk is the size of one arena chunk: 64 hashes.
const arenaChunk = 64 * sha256.Size

// newTree returns a tree whose range factory hashes nodes into its arena.
func newTree() *Tree {
	t := &Tree{}
	t.f = &compact.RangeFactory{Hash: t.nodeHash}
	return t
}

// NewTree returns an empty tree.
func NewTree() *Tree {
	t := newTree()
	t.r = t.f.NewEmptyRange(0)
	return t
}

// TreeFrom returns the tree of size leaves whose compact range is frontier
// (largest subtree first, as audit.heads stores it), to continue appending
// from there: how a pruned log is verified from a checkpoint onwards.
func TreeFrom(size int64, frontier []Hash) (*Tree, error) {
	t := newTree()
	hs := make([][]byte, len(frontier))
	for i := range frontier {
		h := frontier[i]
		hs[i] = h[:]
	}
	r, err := t.f.NewRange(0, uint64(size), hs)
	if err != nil {
		return nil, fmt.Errorf("audit: compact range of size %d: %w", size, err)
	}
	t.r = r
	return t, nil
}

// alloc returns 32 fresh bytes from the arena.
func (t *Tree) alloc() []byte {
	if len(t.arena) < sha256.Size {
		t.arena = make([]byte, arenaChunk)
	}
	h := t.arena[:sha256.Size:sha256.Size]
	t.arena = t.arena[sha256.Size:]
	return h
}

// Append adds the next leaf hash.
func (t *Tree) Append(leaf Hash) {
	l := t.alloc() // the range keeps the slice
	copy(l, leaf[:])
	if err := t.r.Append(l, nil); err != nil {
		// Append fails only for a range built from inconsistent hashes,
		// which a Tree never holds.
		panic("audit: compact range append: " + err.Error())
	}
}

// nodeHash is the RFC 6962 interior node hash, SHA-256(0x01 ‖ l ‖ r):
// rfc6962.DefaultHasher.HashChildren (the tests hold them equal) with one
// allocation instead of four.
func nodeHash(l, r []byte) []byte {
	h := nodeSum(l, r)
	return h[:]
}

// nodeHash is nodeHash into the tree's arena, allocating nothing.
func (t *Tree) nodeHash(l, r []byte) []byte {
	h := nodeSum(l, r)
	out := t.alloc()
	copy(out, h[:])
	return out
}

// nodeSum is SHA-256(0x01 ‖ l ‖ r).
func nodeSum(l, r []byte) [sha256.Size]byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(b[1:], l)
	copy(b[1+sha256.Size:], r)
	return sha256.Sum256(b[:])
}

// Size returns the number of leaves.
func (t *Tree) Size() int64 { return int64(t.r.End()) }

// Root returns the RFC 6962 root hash; EmptyRoot for an empty tree.
func (t *Tree) Root() Hash {
	r, err := t.r.GetRootHash(nil)
	if err != nil {
		panic("audit: compact range root: " + err.Error()) // begins at 0 by construction
	}
	if r == nil {
		return EmptyRoot()
	}
	h, _ := hashFrom(r)
	return h
}

// Frontier returns the compact range: the roots of the perfect subtrees
// covering the leaves, largest first, as audit.heads.frontier stores them.
func (t *Tree) Frontier() []Hash {
	hs := t.r.Hashes()
	out := make([]Hash, len(hs))
	for i, b := range hs {
		out[i], _ = hashFrom(b)
	}
	return out
}
