package audit

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// ReadRows returns org's stored rows, for tests.
func ReadRows(ctx context.Context, q Querier, org uuid.UUID) ([]Row, error) {
	var out []Row
	err := eachRow(ctx, q, org, func(r *Row, _ string) error {
		c := *r
		c.Results = slices.Clone(r.Results)
		out = append(out, c)
		return nil
	})
	return out, err
}

// CanonicalJSON is the details canonicaliser, for tests.
func CanonicalJSON(src []byte) ([]byte, error) { return appendJCS(nil, src) }

// NodeHash is the tree's interior node hash, for tests.
var NodeHash = nodeHash

// AppendCanonical is Canonical into a reused buffer, for benchmarks.
func AppendCanonical(b []byte, r *Row) ([]byte, error) { return appendCanonical(b, r) }

// LeafProof is the inclusion proof the server built before the stored
// nodes: from every leaf hash of the log, for the benchmark's baseline.
func LeafProof(ctx context.Context, q Querier, org uuid.UUID, index, size uint64) ([]Hash, error) {
	leaves, err := leafHashes(ctx, q, org, int64(size))
	if err != nil {
		return nil, err
	}
	return InclusionProof(leaves, index, size)
}

// IncidentQuery is ScanIncident's query and arguments, for tests.
func IncidentQuery(org uuid.UUID, in Incident) (string, []any) { return incidentQuery(org, in) }

// ChangeRuleNamed reports whether a rule of the changes' table names
// action, for tests.
func ChangeRuleNamed(action string) bool {
	_, ok := changeRuleFor(action)
	return ok
}

// ChangeRulePatterns lists the changes' table's patterns, for tests.
func ChangeRulePatterns() []string {
	var out []string
	for _, r := range changeRules {
		out = append(out, r.pattern)
	}
	return out
}

// ChangeRuleMatches reports whether pattern names action, for tests.
func ChangeRuleMatches(pattern, action string) bool {
	return changeRule{pattern: pattern}.match(action)
}
