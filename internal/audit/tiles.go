package audit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/wardhq/ward/internal/postgres"
)

// Proofs from stored nodes. The integrator keeps the root of every
// complete subtree at levels 4, 8, 12 … (audit.tree_nodes, migration
// 00091); any complete subtree a proof needs is folded from at most
// 2^(level mod 4) = 8 stored hashes of the level below it that is a
// multiple of 4 (leaves below level 4). A proof of a log of n events thus
// reads O(log n) hashes, where reading every leaf was O(n).

// nodeStride is the distance between stored levels.
const nodeStride = 4

// storedParts returns the stored level and index range [from, to) whose
// hashes fold into the subtree root id.
func storedParts(id compact.NodeID) (level uint, from, to uint64) {
	level = id.Level / nodeStride * nodeStride
	shift := id.Level - level
	return level, id.Index << shift, (id.Index + 1) << shift
}

// storedNodes reads and folds the subtree roots ids of org's tree of size
// leaves from audit.proof_hashes (the caller's own org only). ok is false
// when a stored hash is missing (a log pruned before its nodes were kept):
// the caller falls back to the leaves.
func storedNodes(ctx context.Context, q Querier, org uuid.UUID, size int64, ids []compact.NodeID) (map[compact.NodeID]Hash, bool, error) {
	type key struct {
		level uint
		index uint64
	}
	want := map[key]bool{}
	var levels []int32
	var idx []int64
	for _, id := range ids {
		l, from, to := storedParts(id)
		for i := from; i < to; i++ {
			if k := (key{l, i}); !want[k] {
				want[k] = true
				levels, idx = append(levels, int32(l)), append(idx, int64(i))
			}
		}
	}
	got := make(map[key]Hash, len(levels))
	for start := 0; start < len(levels); start += 4096 {
		end := min(start+4096, len(levels))
		rows, err := q.Query(ctx, `select level, idx, hash from audit.proof_hashes($1, $2, $3, $4)`, org, size,
			levels[start:end], idx[start:end])
		if err != nil {
			return nil, false, fmt.Errorf("audit: proof hashes of org %s: %w", org, err)
		}
		for rows.Next() {
			var l int32
			var i int64
			var b []byte
			if err := rows.Scan(&l, &i, &b); err != nil {
				rows.Close()
				return nil, false, fmt.Errorf("audit: proof hashes of org %s: %w", org, err)
			}
			h, ok := hashFrom(b)
			if !ok {
				rows.Close()
				return nil, false, fmt.Errorf("audit: proof hashes of org %s: a hash of %d bytes", org, len(b))
			}
			got[key{uint(l), uint64(i)}] = h
		}
		if err := rows.Err(); err != nil {
			return nil, false, mapProofErr(org, err)
		}
	}
	if len(got) != len(want) {
		return nil, false, nil
	}
	out := make(map[compact.NodeID]Hash, len(ids))
	for _, id := range ids {
		l, from, to := storedParts(id)
		level := make([]Hash, 0, to-from)
		for i := from; i < to; i++ {
			level = append(level, got[key{l, i}])
		}
		out[id] = subtreeRoot(level)
	}
	return out, true, nil
}

// StoredInclusionProof is InclusionProof of the event at index (seq-1) in
// org's tree of size leaves, with its leaf hash, from the stored nodes
// (falling back to every leaf of a pruned log). q must carry a credential
// of a live member of org.
func StoredInclusionProof(ctx context.Context, q Querier, org uuid.UUID, index, size uint64) (Hash, []Hash, error) {
	out, err := storedInclusions(ctx, q, org, []uint64{index}, size)
	if err != nil {
		return Hash{}, nil, err
	}
	return out[0].leaf, out[0].proof, nil
}

type inclusion struct {
	leaf  Hash
	proof []Hash
}

// storedInclusions builds the inclusion proofs of several indexes of one
// tree with one read of the hashes they need.
func storedInclusions(ctx context.Context, q Querier, org uuid.UUID, indexes []uint64, size uint64) ([]inclusion, error) {
	plans := make([]proof.Nodes, len(indexes))
	var ids []compact.NodeID
	for i, index := range indexes {
		if index >= size {
			return nil, fmt.Errorf("audit: inclusion proof of %d in %d", index, size)
		}
		nodes, err := proof.Inclusion(index, size)
		if err != nil {
			return nil, fmt.Errorf("audit: inclusion proof: %w", err)
		}
		plans[i] = nodes
		ids = append(ids, nodes.IDs...)
		ids = append(ids, compact.NewNodeID(0, index))
	}
	hs, ok, err := storedNodes(ctx, q, org, int64(size), ids)
	if err != nil {
		return nil, err
	}
	if !ok {
		leaves, err := leafHashes(ctx, q, org, int64(size))
		if err != nil {
			return nil, err
		}
		out := make([]inclusion, len(indexes))
		for i, index := range indexes {
			p, err := InclusionProof(leaves, index, size)
			if err != nil {
				return nil, err
			}
			out[i] = inclusion{leaf: leaves[index], proof: p}
		}
		return out, nil
	}
	out := make([]inclusion, len(indexes))
	for i, nodes := range plans {
		p, err := rehashStored(nodes, hs)
		if err != nil {
			return nil, err
		}
		out[i] = inclusion{leaf: hs[compact.NewNodeID(0, indexes[i])], proof: p}
	}
	return out, nil
}

// StoredConsistencyProof is ConsistencyProof between org's trees of from
// and size leaves, with the root of the smaller, from the stored nodes.
func StoredConsistencyProof(ctx context.Context, q Querier, org uuid.UUID, from, size uint64) (Hash, []Hash, error) {
	if from < 1 || from > size {
		return Hash{}, nil, fmt.Errorf("audit: consistency proof %d..%d", from, size)
	}
	nodes, err := proof.Consistency(from, size)
	if err != nil {
		return Hash{}, nil, fmt.Errorf("audit: consistency proof: %w", err)
	}
	// The complete subtrees that make up the first from leaves, largest
	// first: the compact range TreeFrom folds into their root.
	prefix := compact.RangeNodes(0, from, nil)
	hs, ok, err := storedNodes(ctx, q, org, int64(size), append(append([]compact.NodeID(nil), nodes.IDs...), prefix...))
	if err != nil {
		return Hash{}, nil, err
	}
	if !ok {
		leaves, err := leafHashes(ctx, q, org, int64(size))
		if err != nil {
			return Hash{}, nil, err
		}
		p, err := ConsistencyProof(leaves, from, size)
		if err != nil {
			return Hash{}, nil, err
		}
		t := NewTree()
		for _, l := range leaves[:from] {
			t.Append(l)
		}
		return t.Root(), p, nil
	}
	p, err := rehashStored(nodes, hs)
	if err != nil {
		return Hash{}, nil, err
	}
	frontier := make([]Hash, len(prefix))
	for i, id := range prefix {
		frontier[i] = hs[id]
	}
	t, err := TreeFrom(int64(from), frontier)
	if err != nil {
		return Hash{}, nil, err
	}
	return t.Root(), p, nil
}

func rehashStored(nodes proof.Nodes, hs map[compact.NodeID]Hash) ([]Hash, error) {
	raw := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, ok := hs[id]
		if !ok {
			return nil, fmt.Errorf("audit: proof node %d/%d not read", id.Level, id.Index)
		}
		raw[i] = h[:]
	}
	out, err := nodes.Rehash(raw, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, fmt.Errorf("audit: proof: %w", err)
	}
	p := make([]Hash, len(out))
	for i, h := range out {
		copy(p[i][:], h)
	}
	return p, nil
}

func mapProofErr(org uuid.UUID, err error) error {
	if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		return fmt.Errorf("%w: proof hashes of org %s", ErrForbidden, org)
	}
	return fmt.Errorf("audit: proof hashes of org %s: %w", org, err)
}
