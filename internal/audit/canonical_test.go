package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/gowebpki/jcs"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The Go canonicaliser must produce exactly audit.jcs's bytes, and refuse
// exactly what it refuses; where both accept, gowebpki/jcs agrees too.
func TestCanonicalJSONMatchesSQL(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	tests := []struct {
		name, in string
		reject   bool
		dupKeys  bool // jsonb keeps the last; JCS refuses duplicates
	}{
		{name: "empty object", in: `{}`},
		{name: "empty array", in: `[]`},
		{name: "key order", in: `{"b":1,"a":2,"ab":3,"long key name":4,"B":5}`},
		{name: "nested", in: `{"a":{"z":[1,2,{"y":true,"x":null}],"b":"s"},"c":[[],{}],"d":false}`},
		{name: "escapes", in: `{"s":"quote \" backslash \\ slash \/ nl \n tab \t cr \r bs \b ff \f ctl \u0001 \u001f del \u007f"}`},
		{name: "non-ASCII", in: `{"e":"\u00e9 é 日本 😀 \ud83d\ude00 \u2028 \u2029 \ufeff"}`},
		{name: "HTML characters", in: `{"h":"<script>&amp;</script>"}`},
		{name: "integers", in: `{"n":[0,-0,1,-1,1.0,1e3,1E+2,-5.00,9007199254740992,-9007199254740992,123456789012345,10.000]}`},
		{name: "punctuation keys", in: `{" ":1,"~":2,"A":3,"a":4,"_":5,"\"":6,"\\":7,"":8,"!":9}`},
		{name: "empty strings", in: `{"":"","x":[""]}`},
		{name: "whitespace", in: " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : { } } "},
		{name: "top-level string", in: `"top"`},
		{name: "top-level number", in: `42`},
		{name: "top-level literal", in: `true`},
		{name: "null", in: `null`},
		{name: "many keys", in: `{"k9":9,"k8":8,"k7":7,"k6":6,"k5":5,"k4":4,"k3":3,"k2":2,"k1":1,"k10":10,"k11":11}`},
		{name: "duplicate keys", in: `{"a":1,"a":2}`, dupKeys: true},
		{name: "fraction", in: `{"f":1.5}`, reject: true},
		{name: "small fraction", in: `{"f":0.1}`, reject: true},
		{name: "beyond 2^53", in: `{"big":9007199254740993}`, reject: true},
		{name: "below -2^53", in: `{"big":-9007199254740993}`, reject: true},
		{name: "huge exponent", in: `{"x":1e300}`, reject: true},
		{name: "negative exponent", in: `{"x":5e-1}`, reject: true},
		{name: "non-ASCII key", in: `{"é":1}`, reject: true},
		{name: "control character key", in: `{"a\u0001":1}`, reject: true},
		{name: "DEL key", in: `{"a\u007f":1}`, reject: true},
		{name: "nested non-ASCII key", in: `{"a":[{"ü":1}]}`, reject: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sqlOut, jsonbText string
			sqlErr := env.Super.Pool.QueryRow(ctx, `select audit.jcs($1::jsonb), $1::jsonb::text`, tc.in).Scan(&sqlOut, &jsonbText)
			goOut, goErr := audit.CanonicalJSON([]byte(tc.in))
			if tc.reject {
				if !postgres.IsCode(sqlErr, postgres.CodeInvalidParameter) {
					t.Errorf("audit.jcs(%s): err = %v, want SQLSTATE 22023", tc.in, sqlErr)
				}
				if !errors.Is(goErr, audit.ErrInvalidEvent) {
					t.Errorf("CanonicalJSON(%s) = %q, %v; want ErrInvalidEvent", tc.in, goOut, goErr)
				}
				return
			}
			if sqlErr != nil {
				t.Fatalf("audit.jcs(%s): %v", tc.in, sqlErr)
			}
			// What the verifier sees is jsonb's own text rendering.
			fromJSONB, err := audit.CanonicalJSON([]byte(jsonbText))
			if err != nil {
				t.Fatalf("CanonicalJSON(jsonb text %s): %v", jsonbText, err)
			}
			if diff := cmp.Diff(sqlOut, string(fromJSONB)); diff != "" {
				t.Errorf("Go vs audit.jcs, from jsonb text (-sql +go):\n%s", diff)
			}
			if tc.dupKeys {
				if !errors.Is(goErr, audit.ErrInvalidEvent) {
					t.Errorf("CanonicalJSON(%s) with duplicate keys: err = %v, want ErrInvalidEvent", tc.in, goErr)
				}
				return
			}
			if goErr != nil {
				t.Fatalf("CanonicalJSON(%s): %v", tc.in, goErr)
			}
			if diff := cmp.Diff(sqlOut, string(goOut)); diff != "" {
				t.Errorf("Go vs audit.jcs (-sql +go):\n%s", diff)
			}
			lib, err := jcs.Transform([]byte(tc.in))
			if err != nil {
				t.Fatalf("jcs.Transform: %v", err)
			}
			if diff := cmp.Diff(string(lib), string(goOut)); diff != "" {
				t.Errorf("Go vs gowebpki/jcs (-jcs +go):\n%s", diff)
			}
		})
	}
}

// Malformed JSON never canonicalises.
func TestCanonicalJSONRejectsMalformed(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":}`, `[1,]`, `{"a":1,}`, `01`, `1.`, `-`, `"\x"`, `"\ud800"`,
		`"\udc00\ud800"`, `"abc`, "\"\x01\"", `"\u0000"`, `tru`, `{} {}`, `{1:2}`, `"\xff"`, "\"\xff\""} {
		if out, err := audit.CanonicalJSON([]byte(in)); !errors.Is(err, audit.ErrInvalidEvent) {
			t.Errorf("CanonicalJSON(%q) = %q, %v; want ErrInvalidEvent", in, out, err)
		}
	}
}

// The fixed-order event writer agrees with gowebpki/jcs over a plain JSON
// encoding of the same object.
func TestCanonicalMatchesJCSLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		r := randomRow(rng, uuid.New())
		got, err := audit.Canonical(r)
		if err != nil {
			t.Fatalf("Canonical: %v", err)
		}
		obj := map[string]any{
			"v": r.V, "org": r.Org, "at": r.At.UTC().Format("2006-01-02T15:04:05.000000Z"), "action": r.Action,
			"outcome": r.Outcome, "actor": nullable(r.Actor), "actor_kind": r.ActorKind, "session": nullable(r.Session),
			"object_type": r.ObjectType, "object_id": nullable(r.ObjectID), "patient": nullable(r.Patient),
			"results": r.Results, "request": r.Request, "ip": r.IP, "ua": r.UserAgent, "details": r.Details,
		}
		if r.V == 2 {
			var disclosure any
			if r.Disclosure != nil {
				disclosure = r.Disclosure
			}
			obj["credential_kind"], obj["credential"], obj["device"] = r.CredentialKind, nullable(r.Credential), r.Device
			obj["case"], obj["disclosure"], obj["break_glass"] = nullable(r.Case), disclosure, r.BreakGlass
		}
		if r.Results == nil {
			obj["results"] = []uuid.UUID{}
		}
		js, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		want, err := jcs.Transform(js)
		if err != nil {
			t.Fatalf("jcs.Transform: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("row %d: Canonical differs from jcs.Transform:\n got %s\nwant %s", i, got, want)
		}
	}
}

func nullable(id uuid.NullUUID) any {
	if !id.Valid {
		return nil
	}
	return id.UUID
}

var tricky = []string{"", "plain", `quote"s`, `back\slash`, "ctl\x01\x1f\x7f", "tab\tnl\nCR\r\b\f", "emoji 😀👍🏽",
	"日本語 é ñ ß", "<script>&amp;</script>", "\u2028\u2029\ufeff", "/slash/", strings.Repeat("long ", 60)}

var trickyDetails = []string{`{}`, `{"count":3,"by_mrn":false,"by_email":true}`, `{"reason":"not_found"}`,
	`{"nested":{"list":[1,-2,9007199254740992,{"deep":[true,false,null,"s\"q"]}],"b":"é😀"},"a":0}`,
	`{"s":"ctl \u0001 \u001f tab\t quote\" back\\"}`, `{"":"", " ":[], "~":{}}`, `{"n":-9007199254740992,"m":1.0}`}

// randomRow returns an event row with tricky values in every column.
func randomRow(rng *rand.Rand, org uuid.UUID) audit.Row {
	pick := func() string { return tricky[rng.IntN(len(tricky))] }
	maybe := func() *string {
		if rng.IntN(4) == 0 {
			return nil
		}
		return ptr(pick())
	}
	maybeID := func() uuid.NullUUID {
		if rng.IntN(3) == 0 {
			return uuid.NullUUID{}
		}
		return some(uuid.New())
	}
	var results []uuid.UUID
	switch rng.IntN(4) {
	case 1:
		results = []uuid.UUID{uuid.New()}
	case 2:
		for range 1 + rng.IntN(80) {
			results = append(results, uuid.New())
		}
	}
	r := audit.Row{
		V:         1 + rng.IntN(2),
		Org:       org,
		At:        time.Date(2026, 11, 24, rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1e6)*1000, time.UTC),
		Action:    []string{"patient.read", "audit.read", "session.list", "patient.list"}[rng.IntN(4)],
		Outcome:   []string{"success", "denied", "failure"}[rng.IntN(3)],
		Actor:     maybeID(),
		ActorKind: "system", Session: maybeID(), ObjectType: maybe(), ObjectID: maybeID(), Patient: maybeID(),
		Results: results, Request: maybe(), IP: maybe(), UserAgent: maybe(),
		Details: json.RawMessage(trickyDetails[rng.IntN(len(trickyDetails))]),
	}
	if r.V == 2 {
		if rng.IntN(2) == 0 {
			r.CredentialKind, r.Credential = ptr("session"), some(uuid.New())
		}
		r.Device, r.Case, r.BreakGlass = maybe(), maybeID(), rng.IntN(5) == 0
		if rng.IntN(3) == 0 {
			d, _ := json.Marshal(map[string]string{"recipient": pick(), "purpose": pick()})
			r.Disclosure = d
		}
	}
	return r
}

// The hash helpers are the RFC 6962 hasher's and the documented chain.
func TestHashes(t *testing.T) {
	canon := []byte(`{"v":1}`)
	if got, want := audit.LeafHash(canon), rfc6962.DefaultHasher.HashLeaf(canon); !bytes.Equal(got[:], want) {
		t.Errorf("LeafHash = %v, want %x", got, want)
	}
	org := uuid.MustParse("0190a3e1-7c1b-7000-8000-000000000001")
	if got, want := audit.Origin(org), "ward/audit/0190a3e1-7c1b-7000-8000-000000000001"; got != want {
		t.Errorf("Origin = %q, want %q", got, want)
	}
	seed := audit.ChainSeed(audit.Origin(org))
	if want := sha256.Sum256([]byte("audit-chain/v1\nward/audit/0190a3e1-7c1b-7000-8000-000000000001")); seed != want {
		t.Errorf("ChainSeed = %v, want %x", seed, want)
	}
	leaf := audit.LeafHash(canon)
	if got, want := audit.ChainNext(seed, leaf), sha256.Sum256(append(append([]byte{2}, seed[:]...), leaf[:]...)); got != want {
		t.Errorf("ChainNext = %v, want %x", got, want)
	}
	if got, want := audit.NodeHash(seed[:], leaf[:]), rfc6962.DefaultHasher.HashChildren(seed[:], leaf[:]); !bytes.Equal(got, want) {
		t.Errorf("node hash = %x, want %x", got, want)
	}
	h, err := audit.ParseHash(seed.String())
	if err != nil || h != seed {
		t.Errorf("ParseHash(String()) = %v, %v", h, err)
	}
	if _, err := audit.ParseHash("zz"); err == nil {
		t.Error("ParseHash(zz): no error")
	}
}

// Tree roots match the RFC 6962 vectors and transparency-dev's reference
// tree at every size up to 300.
func TestTree(t *testing.T) {
	tr := audit.NewTree()
	if got := tr.Root(); !bytes.Equal(got[:], testonly.EmptyRootHash()) {
		t.Errorf("empty root = %v", got)
	}
	for i, in := range testonly.LeafInputs() {
		tr.Append(audit.LeafHash(in))
		if got, want := tr.Root(), testonly.RootHashes()[i+1]; !bytes.Equal(got[:], want) {
			t.Errorf("root(%d) = %s, want %x", i+1, got, want)
		}
	}
	ref := testonly.New(rfc6962.DefaultHasher)
	tr = audit.NewTree()
	for i := range 300 {
		in := []byte(fmt.Sprintf("leaf %d", i))
		ref.AppendData(in)
		tr.Append(audit.LeafHash(in))
		if got, want := tr.Root(), ref.Hash(); !bytes.Equal(got[:], want) {
			t.Fatalf("root(%d) = %s, want %x", i+1, got, want)
		}
		if got, want := len(tr.Frontier()), bitsSet(i+1); got != want {
			t.Fatalf("frontier(%d) has %d hashes, want %d", i+1, got, want)
		}
	}
}

func bitsSet(n int) int {
	c := 0
	for ; n > 0; n &= n - 1 {
		c++
	}
	return c
}

// Differential: events appended by audit.append, with tricky values in
// every column, are rebuilt byte for byte by Canonical, and the Go leaf,
// chain, frontier and root equal the SQL ones at every size from 1 to 300.
func TestDifferential(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	rng := rand.New(rand.NewPCG(3, 4))
	tree := audit.NewTree()
	chain := audit.ChainSeed(audit.Origin(org))
	const n = 300
	patients := seedPatients(t, env.Super, org, 5)
	for i := 1; i <= n; i++ {
		r := randomRow(rng, org)
		// audit.append refuses a patient outside the org, and a patient.read
		// success without one.
		if r.Patient.Valid || (r.Action == "patient.read" && r.Outcome == "success") {
			r.Patient = some(patients[rng.IntN(len(patients))])
		}
		e := rawEvent{Action: r.Action, Outcome: r.Outcome, ObjectType: r.ObjectType, ObjectID: r.ObjectID,
			Patient: r.Patient, Actor: r.Actor, Results: r.Results, Request: r.Request, IP: r.IP, UA: r.UserAgent,
			Details: string(r.Details)}
		if seq := appendSQL(t, env.Super.Pool, org, e); seq != int64(i) {
			t.Fatalf("append %d: seq %d", i, seq)
		}
		rows, err := audit.ReadRows(ctx, env.Super.Pool, org)
		if err != nil {
			t.Fatal(err)
		}
		got := rows[len(rows)-1]
		wantKind := "system"
		if !r.Actor.Valid {
			wantKind = "anonymous"
		}
		if got.ActorKind != wantKind || got.Actor != r.Actor {
			t.Fatalf("seq %d: actor %v kind %s, want %v %s", i, got.Actor, got.ActorKind, r.Actor, wantKind)
		}
		canon, err := audit.Canonical(got)
		if err != nil {
			t.Fatalf("seq %d: Canonical: %v", i, err)
		}
		if !bytes.Equal(canon, got.Canonical) {
			t.Fatalf("seq %d: canonical differs:\n  go %s\n sql %s", i, canon, got.Canonical)
		}
		leaf := audit.LeafHash(canon)
		if !bytes.Equal(leaf[:], got.LeafHash) {
			t.Fatalf("seq %d: leaf %v, sql %x", i, leaf, got.LeafHash)
		}
		chain = audit.ChainNext(chain, leaf)
		if !bytes.Equal(chain[:], got.ChainHash) {
			t.Fatalf("seq %d: chain %v, sql %x", i, chain, got.ChainHash)
		}
		tree.Append(leaf)
		var (
			size                  int64
			root, headChain, seed []byte
			frontier              [][]byte
			origin                string
		)
		if err := env.Super.Pool.QueryRow(ctx, `select tree_size, root_hash, chain_hash, frontier, origin,
			audit.chain_seed(origin) from audit.heads where org_id = $1`, org).
			Scan(&size, &root, &headChain, &frontier, &origin, &seed); err != nil {
			t.Fatal(err)
		}
		goRoot := tree.Root()
		if size != int64(i) || !bytes.Equal(root, goRoot[:]) || !bytes.Equal(headChain, chain[:]) {
			t.Fatalf("size %d: head (%d, %x, %x), go (%d, %v, %v)", i, size, root, headChain, i, goRoot, chain)
		}
		var goFrontier [][]byte
		for _, h := range tree.Frontier() {
			goFrontier = append(goFrontier, h[:])
		}
		if diff := cmp.Diff(frontier, goFrontier); diff != "" {
			t.Fatalf("size %d: frontier (-sql +go):\n%s", i, diff)
		}
		if s := audit.ChainSeed(audit.Origin(org)); origin != audit.Origin(org) || !bytes.Equal(seed, s[:]) {
			t.Fatalf("origin %q seed %x, want %q %v", origin, seed, audit.Origin(org), s)
		}
	}
	rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{})
	if err != nil || !rep.Verified || rep.Size != n || rep.Root != tree.Root() {
		t.Fatalf("Verify = %v, %v", rep, err)
	}
}
