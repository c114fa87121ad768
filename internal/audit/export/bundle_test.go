package export_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

type tarFile struct {
	name string
	data []byte
}

func untar(t *testing.T, b []byte) []tarFile {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []tarFile
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		d, _ := io.ReadAll(tr)
		out = append(out, tarFile{h.Name, d})
	}
}

func retar(t *testing.T, files []tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o444, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	tw.Close()
	return buf.Bytes()
}

// edit returns the bundle with fn applied to one file's bytes.
func edit(t *testing.T, b []byte, name string, fn func([]byte) []byte) []byte {
	t.Helper()
	files := untar(t, b)
	found := false
	for i := range files {
		if files[i].name == name {
			files[i].data = fn(bytes.Clone(files[i].data))
			found = true
		}
	}
	if !found {
		t.Fatalf("no %s in the bundle", name)
	}
	return retar(t, files)
}

// An evidence bundle verifies offline with only the verifier key, and
// every kind of tampering is refused with a message that names it.
func TestBundle(t *testing.T) {
	env := pgtest.New(t)
	s := seed(t, env.Super)
	signer, vkey := checkpoint(t, env.Super, s.org)
	ctx := context.Background()
	var buf bytes.Buffer
	sum, err := export.WriteBundle(ctx, export.Direct(env.Super.Pool), s.org, export.Filter{}, export.FHIRNDJSON,
		export.Options{Site: "ward-test"}, signer, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.First != 1 || sum.Last != int64(s.events) || sum.Events != int64(s.events) || !sum.Complete {
		t.Fatalf("summary %+v", sum)
	}
	good := bytes.Clone(buf.Bytes())
	v, err := export.VerifyBundle(bytes.NewReader(good), vkey, s.org)
	if err != nil {
		t.Fatalf("a fresh bundle does not verify: %v", err)
	}
	if v.Events != int64(s.events) || !strings.Contains(v.String(), "nothing is omitted") {
		t.Fatalf("verified %+v: %s", v, v)
	}
	if len(v.Files) != 5 {
		t.Fatalf("files checked: %v", v.Files)
	}

	// Events after the checkpoint are not in a bundle until one covers them.
	appendAs(t, env.Super, s.org, rawEvent{action: "audit.read", outcome: "success", actor: some(s.actors[0])})
	integrate(t, env.Super, s.org)
	buf.Reset()
	if sum, err := export.WriteBundle(ctx, export.Direct(env.Super.Pool), s.org, export.Filter{}, export.JSONL, export.Options{},
		signer, &buf); err != nil || sum.Last != int64(s.events) {
		t.Fatalf("bundle past the checkpoint: %+v %v", sum, err)
	}

	joinLines := func(ls [][]byte) []byte { return append(bytes.Join(ls, []byte("\n")), '\n') }
	_, otherKey, err := note.GenerateKey(rand.Reader, "ward-audit") // another server's key
	if err != nil {
		t.Fatal(err)
	}
	other := seed(t, env.Super)
	otherSigner, otherVkey := checkpoint(t, env.Super, other.org)
	var otherBuf bytes.Buffer
	if _, err := export.WriteBundle(ctx, export.Direct(env.Super.Pool), other.org, export.Filter{}, export.JSONL, export.Options{},
		otherSigner, &otherBuf); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		bundle []byte
		key    string
		org    uuid.UUID
		want   string
	}{
		{"changed byte in an event", edit(t, good, "events.jsonl", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"outcome":"denied"`), []byte(`"outcome":"dented"`), 1)
		}), vkey, s.org, "line 2: the event at seq 2 does not hash to its leaf in the log: it was altered"},
		{"removed event", edit(t, good, "events.jsonl", func(b []byte) []byte {
			ls := lines(b)
			return joinLines(append(ls[:4:4], ls[5:]...))
		}), vkey, s.org, "seq 5 is missing before line 5 (the bundle claims every event of 1.."},
		{"removed last event", edit(t, good, "events.jsonl", func(b []byte) []byte {
			ls := lines(b)
			return joinLines(ls[:len(ls)-1])
		}), vkey, s.org, "seq 16..16 are missing at the end (the bundle claims every event of 1..16)"},
		{"reordered pair", edit(t, good, "events.jsonl", func(b []byte) []byte {
			ls := lines(b)
			ls[6], ls[7] = ls[7], ls[6]
			return joinLines(ls)
		}), vkey, s.org, "line 8: seq 7 follows seq 8: the events are out of order"},
		{"changed leaf", edit(t, good, "leaves.txt", func(b []byte) []byte {
			// Another hex digit: still a hash, not the leaf.
			if b[0] == '0' {
				b[0] = '1'
			} else {
				b[0] = '0'
			}
			return b
		}), vkey, s.org, "range proof: the leaves of seq 1.."},
		{"malformed leaf", edit(t, good, "leaves.txt", func(b []byte) []byte {
			b[0] = 'x'
			return b
		}), vkey, s.org, "leaves.txt: line 1 is not a leaf hash"},
		{"changed derived export", edit(t, good, "export.fhir.ndjson", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"outcome":"0"`), []byte(`"outcome":"8"`), 1)
		}), vkey, s.org, "export.fhir.ndjson: its SHA-256"},
		{"changed manifest", edit(t, good, "MANIFEST.note", func(b []byte) []byte {
			return bytes.Replace(b, []byte("complete yes"), []byte("complete no!"), 1)
		}), vkey, s.org, "the manifest's signature does not verify"},
		{"another server's key", good, otherKey, s.org, "the manifest's signature does not verify under key"},
		{"another org's bundle", otherBuf.Bytes(), otherVkey, s.org, "the bundle is of ward/audit/" + other.org.String() + ", not of org " + s.org.String()},
		{"truncated", good[:len(good)/2], vkey, s.org, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := export.VerifyBundle(bytes.NewReader(c.bundle), c.key, c.org)
			if !errors.Is(err, export.ErrBadBundle) {
				t.Fatalf("a tampered bundle was not refused: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
}

// A filtered bundle proves its events' positions, says it is filtered, and
// carries the other positions as leaf hashes only; dropping one of its
// events is caught by the manifest's count.
func TestBundleFiltered(t *testing.T) {
	env := pgtest.New(t)
	s := seed(t, env.Super)
	signer, vkey := checkpoint(t, env.Super, s.org)
	var buf bytes.Buffer
	sum, err := export.WriteBundle(context.Background(), export.Direct(env.Super.Pool), s.org,
		export.Filter{Patient: some(s.patients[0])}, export.OCSF, export.Options{}, signer, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Complete || sum.Events == 0 || sum.Events >= int64(s.events) {
		t.Fatalf("summary %+v", sum)
	}
	v, err := export.VerifyBundle(bytes.NewReader(buf.Bytes()), vkey, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v.String(), "filtered export") {
		t.Fatalf("%s", v)
	}
	dropped := edit(t, buf.Bytes(), "events.jsonl", func(b []byte) []byte {
		ls := lines(b)
		return append(bytes.Join(ls[1:], []byte("\n")), '\n')
	})
	if _, err := export.VerifyBundle(bytes.NewReader(dropped), vkey, uuid.Nil); err == nil ||
		!strings.Contains(err.Error(), "the manifest says") {
		t.Fatalf("a filtered bundle missing an event: %v", err)
	}
}
