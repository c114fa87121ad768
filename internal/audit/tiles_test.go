package audit_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Proofs from the stored nodes equal the proofs built from every leaf, at
// sizes around the stored levels (15, 16, 17, 255, 256, 257 …) and for
// every index, inclusion and consistency; with the nodes gone (a log
// pruned before they were kept) the proofs fall back to the leaves and
// are still the same.
func TestStoredProofs(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	f := newFixture(t, env)
	fill(t, env.Super, f.org, 300)
	var raw [][]byte
	rows, err := env.Super.Pool.Query(ctx, `select leaf_hash from audit.log where org_id = $1 order by seq`, f.org)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	if rows.Err() != nil || len(raw) != 300 {
		t.Fatalf("%d leaves: %v", len(raw), rows.Err())
	}
	leaves := make([]audit.Hash, len(raw))
	for i, b := range raw {
		copy(leaves[i][:], b)
	}
	var stored int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.tree_nodes where org_id = $1`, f.org).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 300/16+300/256 {
		t.Fatalf("%d stored nodes, want %d", stored, 300/16+300/256)
	}
	check := func(label string) {
		t.Helper()
		err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
			for _, size := range []uint64{1, 2, 3, 15, 16, 17, 31, 32, 33, 255, 256, 257, 299, 300} {
				for index := uint64(0); index < size; index += 1 + size/40 {
					leaf, p, err := audit.StoredInclusionProof(ctx, tx, f.org, index, size)
					if err != nil {
						t.Fatalf("%s: inclusion %d/%d: %v", label, index, size, err)
					}
					want, _ := audit.InclusionProof(leaves, index, size)
					if leaf != leaves[index] || !slices.Equal(p, want) {
						t.Fatalf("%s: inclusion %d/%d differs from the proof from every leaf", label, index, size)
					}
				}
				for from := uint64(1); from <= size; from += 1 + size/30 {
					root, p, err := audit.StoredConsistencyProof(ctx, tx, f.org, from, size)
					if err != nil {
						t.Fatalf("%s: consistency %d..%d: %v", label, from, size, err)
					}
					want, _ := audit.ConsistencyProof(leaves, from, size)
					tr := audit.NewTree()
					for _, l := range leaves[:from] {
						tr.Append(l)
					}
					if root != tr.Root() || !slices.Equal(p, want) {
						t.Fatalf("%s: consistency %d..%d differs from the proof from every leaf", label, from, size)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("stored nodes")
	// Another org's member reads no hash of this one.
	err = env.App.InTenantTx(ctx, f.patientCred, func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := audit.StoredInclusionProof(ctx, tx, f.org, 0, 16)
		return err
	})
	if err != nil {
		t.Fatalf("a member of the org (a patient) reads the proof hashes: %v", err)
	}
	other := newFixture(t, env)
	err = env.App.InTenantTx(ctx, other.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := audit.StoredInclusionProof(ctx, tx, f.org, 0, 16)
		return err
	})
	if err == nil {
		t.Fatal("another org's admin read this org's proof hashes")
	}
	if _, err := env.Super.Pool.Exec(ctx, `delete from audit.tree_nodes where org_id = $1`, f.org); err != nil {
		t.Fatal(err)
	}
	check("fallback to the leaves")
}

// BenchmarkStoredProof: inclusion proofs per second from a log of 20,000
// events over the database, from the stored nodes beside the same proof
// from every leaf hash (what the server did before migration 00091).
func BenchmarkStoredProof(b *testing.B) {
	env := pgtest.New(b)
	ctx := context.Background()
	f := newFixture(b, env)
	const n = 20000
	fill(b, env.Super, f.org, n)
	for _, path := range []string{"stored-nodes", "every-leaf"} {
		b.Run(path, func(b *testing.B) {
			err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
				for i := 0; b.Loop(); i++ {
					index := uint64(i*7919) % n
					if path == "stored-nodes" {
						if _, _, err := audit.StoredInclusionProof(ctx, tx, f.org, index, n); err != nil {
							return err
						}
						continue
					}
					if _, err := audit.LeafProof(ctx, tx, f.org, index, n); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proofs/s")
		})
	}
}
