package envelope_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// Each benchmark runs the envelope operation beside its raw crypto baseline
// in the same process, so the figures in docs/benchmarks.md (section 2) compare
// like with like. Run with:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./internal/vault/envelope

const fieldSize = 256

// benchAD is a realistic AD; rawAD is the same bytes the envelope binds
// (tag, table, column, org, row, each length-prefixed), for the baseline.
func benchAD(org uuid.UUID) (envelope.AD, []byte) {
	ad := envelope.AD{Table: "patients", Column: "address", Org: org, Row: uuid.New()}
	raw := lengthPrefixed("ward/envelope/field/v1", []byte(ad.Table), []byte(ad.Column), ad.Org[:], ad.Row[:])
	return ad, raw
}

func lengthPrefixed(tag string, parts ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(tag)))
	b = append(b, tag...)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// rawGCM is a bare AES-256-GCM with a fresh random 96-bit nonce per seal,
// which is what Tink's AES-GCM key does minus the keyset wrapper and the
// 5-byte key-id prefix.
func rawGCM(b *testing.B) cipher.AEAD {
	b.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

func rawSeal(g cipher.AEAD, plaintext, ad []byte) []byte {
	out := make([]byte, g.NonceSize(), g.NonceSize()+len(plaintext)+g.Overhead())
	rand.Read(out)
	return g.Seal(out, out[:g.NonceSize()], plaintext, ad)
}

func BenchmarkSeal256(b *testing.B) {
	kr := envelope.NewKeyring(newRoot(b), envelope.Config{})
	org, _, keys := newOrg(b, kr)
	ad, raw := benchAD(org)
	plaintext := bytes.Repeat([]byte{'a'}, fieldSize)

	b.Run("envelope", func(b *testing.B) {
		b.SetBytes(fieldSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := keys.Seal(plaintext, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-aes-gcm", func(b *testing.B) {
		g := rawGCM(b)
		b.SetBytes(fieldSize)
		b.ReportAllocs()
		for b.Loop() {
			rawSeal(g, plaintext, raw)
		}
	})
}

func BenchmarkOpen256(b *testing.B) {
	kr := envelope.NewKeyring(newRoot(b), envelope.Config{})
	org, _, keys := newOrg(b, kr)
	ad, raw := benchAD(org)
	plaintext := bytes.Repeat([]byte{'a'}, fieldSize)

	b.Run("envelope", func(b *testing.B) {
		ct, err := keys.Seal(plaintext, ad)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(fieldSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := keys.Open(ct, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-aes-gcm", func(b *testing.B) {
		g := rawGCM(b)
		ct := rawSeal(g, plaintext, raw)
		n := g.NonceSize()
		b.SetBytes(fieldSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.Open(nil, ct[:n], ct[n:], raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBlindIndex(b *testing.B) {
	kr := envelope.NewKeyring(newRoot(b), envelope.Config{})
	_, _, keys := newOrg(b, kr)
	const field, value = "patients.email", "jane.q.patient@example.com"
	input := lengthPrefixed("ward/envelope/bidx/v1", []byte(field), []byte(value))

	b.Run("envelope", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			keys.BlindIndex(field, value)
		}
	})
	b.Run("envelope-with-normalize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			keys.BlindIndex(field, envelope.NormalizeEmail(" Jane.Q.Patient@Example.com "))
		}
	})
	b.Run("baseline-hmac-sha256", func(b *testing.B) {
		key := make([]byte, 32)
		rand.Read(key)
		b.ReportAllocs()
		for b.Loop() {
			m := hmac.New(sha256.New, key)
			m.Write(input)
			m.Sum(nil)
		}
	})
}

// BenchmarkOrg measures getting an org's keys: a cache hit (the common case)
// and a full unwrap of both keysets under a local root (a miss).
func BenchmarkOrg(b *testing.B) {
	root := newRoot(b)
	b.Run("cache-hit", func(b *testing.B) {
		kr := envelope.NewKeyring(root, envelope.Config{})
		org, w, _ := newOrg(b, kr)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kr.Org(org, w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unwrap", func(b *testing.B) {
		kr := envelope.NewKeyring(root, envelope.Config{CacheSize: -1})
		org, w, _ := newOrg(b, kr)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kr.Org(org, w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new-org-keys", func(b *testing.B) {
		kr := envelope.NewKeyring(root, envelope.Config{})
		org := uuid.New()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kr.NewOrgKeys(org); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rewrap-org", func(b *testing.B) {
		kr := envelope.NewKeyring(root, envelope.Config{})
		to := newRoot(b)
		org, w, _ := newOrg(b, kr)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kr.RewrapOrg(org, w, to); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPatientOpen is what the per-patient tier adds to opening a
// field: "org" opens a field under the org's keys (the tier's baseline, as
// before 00275); "patient" finds the patient's keyset in the OrgKeys' cache
// (hashing the wrapped bytes) and opens under it, as every read of a keyed
// patient does; "new" makes and wraps a patient's keyset (a new patient);
// "unwrap" unwraps a keyset the cache does not hold and seals under it (the
// first use of a patient after the org's keys were unwrapped).
func BenchmarkPatientOpen(b *testing.B) {
	kr := envelope.NewKeyring(newRoot(b), envelope.Config{})
	org, _, keys := newOrg(b, kr)
	patient := uuid.New()
	wrapped, pk, err := keys.NewPatientKeys(patient)
	if err != nil {
		b.Fatal(err)
	}
	ad, _ := benchAD(org)
	pt := bytes.Repeat([]byte("x"), fieldSize)
	orgCT, _ := keys.Seal(pt, ad)
	patCT, _ := pk.Seal(pt, ad)
	b.Run("org", func(b *testing.B) {
		for b.Loop() {
			if _, err := keys.Open(orgCT, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("patient", func(b *testing.B) {
		for b.Loop() {
			s, err := keys.Patient(patient, wrapped)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Open(patCT, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := keys.NewPatientKeys(patient); err != nil {
				b.Fatal(err)
			}
		}
	})
	// 10,000 patients cycled through a cache that starts again empty past
	// 8,192: each use is a miss, so each unwraps.
	const n = 10000
	ids, blobs := make([]uuid.UUID, n), make([][]byte, n)
	for i := range n {
		ids[i] = uuid.New()
		if blobs[i], _, err = keys.NewPatientKeys(ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("unwrap", func(b *testing.B) {
		i := 0
		for b.Loop() {
			s, err := keys.Patient(ids[i%n], blobs[i%n])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Seal(pt, ad); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
