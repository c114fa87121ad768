package keystore_test

import (
	"context"
	"testing"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// BenchmarkRewrapDataKeys: one rotation of an org with 20,000 document data
// keys (a new primary, then every data key opened and sealed again and
// stored page by page as ward_ops), beside two baselines on the same keys:
// the crypto alone (Open + Seal, no database) and the database alone (the
// same rows' data_key written from arrays by one plain UPDATE as the
// superuser, no function, no check). DESIGN's budget: ≥ 100k data keys
// rewrapped per second per core. Reported as keys/s.
func BenchmarkRewrapDataKeys(b *testing.B) {
	const n = 20000
	env := pgtest.New(b)
	ctx := context.Background()
	store := keystore.New(envelope.NewKeyring(newRoot(b), envelope.Config{}))
	org, cred := seedOrg(b, env, store.Keyring())
	ops, err := postgres.Open(ctx, env.URL("ward_ops"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ops.Close)
	keys, err := orgKeys(env, store, cred, org)
	if err != nil {
		b.Fatal(err)
	}
	ids, wrapped := seedDataKeys(b, env, keys, org, n)

	b.Run("ward-keys-rotate", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.Rotate(ctx, ops, org); err != nil {
				b.Fatal(err)
			}
			got, err := store.RewrapDataKeys(ctx, ops, org)
			if err != nil || got != n {
				b.Fatalf("rewrapped %d, %v", got, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("baseline-open-seal", func(b *testing.B) {
		for b.Loop() {
			for i, ct := range wrapped {
				ad := keystore.DataKeyAD(org, ids[i])
				pt, err := keys.Open(ct, ad)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := keys.Seal(pt, ad); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("baseline-plain-update", func(b *testing.B) {
		for b.Loop() {
			for i := 0; i < n; i += keystore.DataKeyPage {
				j := min(i+keystore.DataKeyPage, n)
				tag, err := env.Super.Pool.Exec(ctx, `update app.document_versions v set data_key = r.dk
				    from unnest($2::uuid[], $3::bytea[]) as r(id, dk) where v.org_id = $1 and v.id = r.id`,
					org, ids[i:j], wrapped[i:j])
				if err != nil || tag.RowsAffected() != int64(j-i) {
					b.Fatalf("%v, %d rows", err, tag.RowsAffected())
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
}
