package export

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
)

// An evidence bundle is a tar holding, in this order:
//
//	MANIFEST.note    the manifest, a C2SP signed note by the log's key
//	checkpoint.note  the signed checkpoint the range proof is against
//	proof.json       {"left": [hex…], "right": [hex…]}: the compact ranges of
//	                 the tree's leaves before and after the bundle's range
//	leaves.txt       the leaf hash (hex) of every position of the range, one a line
//	events.jsonl     the JSON Lines export of the events the filter selects
//	export.<ext>     the same events in another format, when one was asked for
//
// The manifest's text:
//
//	ward audit evidence bundle v1
//	origin ward/audit/<org>
//	range <first> <last>
//	checkpoint <size>
//	complete yes|no
//	filter <JSON of the filter>
//	events <count>
//	sha256 <hex> <file>        one line per other file, in tar order

// Bundle file names.
const (
	fileManifest   = "MANIFEST.note"
	fileCheckpoint = "checkpoint.note"
	fileProof      = "proof.json"
	fileLeaves     = "leaves.txt"
	fileEvents     = "events.jsonl"
	manifestHeader = "ward audit evidence bundle v1"
)

// ErrEmpty means the range holds no event covered by a signed checkpoint.
var ErrEmpty = errkind.New(errkind.NotFound, "empty_export", "export: no events").
	WithPublic("no events in this range are covered by a signed checkpoint yet (checkpoints follow new events within seconds)")

// ErrBadBundle means an evidence bundle that does not verify. The message
// says what failed and where.
var ErrBadBundle = errors.New("export: bundle does not verify")

// BundleSummary describes a written bundle.
type BundleSummary struct {
	Origin     string
	First      int64
	Last       int64
	Checkpoint int64
	Events     int64
	Complete   bool
	Bytes      int64
}

type rangeProof struct {
	Left  []string `json:"left"`
	Right []string `json:"right"`
}

// WriteBundle writes an evidence bundle of org's events that filter
// selects, up to org's newest signed checkpoint, to w, reading through rd,
// signing the manifest with signer (the key that signs the org's
// checkpoints). With f other than JSONL the bundle also holds the export
// in f. It reads the range twice (hashing, then writing) instead of
// holding it: memory is independent of its size.
//
// The checkpoint and the range it covers are read together, in one
// transaction; everything after, page by page in transactions of their
// own (see Write), each committed before its bytes reach w. The range is
// bounded by the checkpoint's size and the log below it never changes, so
// every page reads what that first snapshot would have read (the second
// pass checks it byte for byte against the first).
//
// Errors: ErrInvalid, audit.ErrNoCheckpoint, ErrEmpty, a database error,
// w's error.
func WriteBundle(ctx context.Context, rd Reader, org uuid.UUID, filter Filter, f Format, o Options,
	signer note.Signer, w io.Writer) (BundleSummary, error) {
	if err := filter.Validate(); err != nil {
		return BundleSummary{}, err
	}
	var (
		cp          audit.Checkpoint
		first, last int64
	)
	err := rd(ctx, func(ctx context.Context, q audit.Querier) error {
		var ok bool
		var err error
		if cp, ok, err = audit.LatestCheckpoint(ctx, q, org); err != nil {
			return err
		}
		if !ok {
			return audit.ErrNoCheckpoint
		}
		first, last, err = audit.SeqRange(ctx, q, org, filter.From, filter.To, cp.Size)
		return err
	})
	if err != nil {
		return BundleSummary{}, err
	}
	if first == 0 {
		return BundleSummary{}, ErrEmpty
	}
	if o.Now.IsZero() {
		o.Now = time.Now() // one time for both passes
	}
	sel := filter.Selection()
	sel.MinSeq, sel.MaxSeq = first, last
	sum := BundleSummary{Origin: audit.Origin(org), First: first, Last: last, Checkpoint: cp.Size,
		Complete: !sel.Filtered()}

	// The range proof: compact ranges of [0, first-1) and [last, size).
	left, right, err := rangeProofOf(ctx, rd, org, first, last, cp.Size)
	if err != nil {
		return sum, err
	}
	proof, _ := json.Marshal(rangeProof{Left: hexAll(left.Hashes()), Right: hexAll(right.Hashes())})
	proof = append(proof, '\n')

	// The generated files, each written by a function run twice: once
	// into a hash (for the manifest and the tar header's size), once into
	// the tar.
	type part struct {
		name  string
		write func(w io.Writer) error
		size  int64
		sum   []byte
	}
	parts := []*part{
		{name: fileCheckpoint, write: func(w io.Writer) error { _, err := io.WriteString(w, cp.Note); return err }},
		{name: fileProof, write: func(w io.Writer) error { _, err := w.Write(proof); return err }},
		{name: fileLeaves, write: func(w io.Writer) error {
			bw := bufio.NewWriter(w)
			err := leafPages(ctx, rd, org, first, last, func(_ int64, leaf audit.Hash) error {
				bw.WriteString(leaf.String())
				return bw.WriteByte('\n')
			})
			if err != nil {
				return err
			}
			return bw.Flush()
		}},
		{name: fileEvents, write: func(w io.Writer) error {
			s, err := Write(ctx, rd, org, sel, JSONL, o, w)
			sum.Events = s.Events
			return err
		}},
	}
	if f != JSONL {
		parts = append(parts, &part{name: "export" + f.Ext(), write: func(w io.Writer) error {
			_, err := Write(ctx, rd, org, sel, f, o, w)
			return err
		}})
	}
	for _, p := range parts {
		h := &sizedHash{h: sha256.New()}
		if err := p.write(h); err != nil {
			return sum, err
		}
		p.size, p.sum = h.n, h.h.Sum(nil)
	}
	fj, _ := json.Marshal(filter.Details())
	var m strings.Builder
	fmt.Fprintf(&m, "%s\norigin %s\nrange %d %d\ncheckpoint %d\ncomplete %s\nfilter %s\nevents %d\n", manifestHeader,
		sum.Origin, first, last, cp.Size, yesNo(sum.Complete), fj, sum.Events)
	for _, p := range parts {
		fmt.Fprintf(&m, "sha256 %x %s\n", p.sum, p.name)
	}
	signed, err := note.Sign(&note.Note{Text: m.String()}, signer)
	if err != nil {
		return sum, fmt.Errorf("export: sign manifest: %w", err)
	}

	cw := &countWriter{w: w}
	tw := tar.NewWriter(cw)
	mod := o.Now.UTC().Truncate(time.Second)
	header := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: size, ModTime: mod, Typeflag: tar.TypeReg,
			Format: tar.FormatPAX})
	}
	if err := header(fileManifest, int64(len(signed))); err != nil {
		return sum, err
	}
	if _, err := tw.Write(signed); err != nil {
		return sum, err
	}
	for _, p := range parts {
		if err := header(p.name, p.size); err != nil {
			return sum, err
		}
		h := &sizedHash{h: sha256.New()}
		if err := p.write(io.MultiWriter(tw, h)); err != nil {
			return sum, err
		}
		if h.n != p.size || string(h.h.Sum(nil)) != string(p.sum) {
			return sum, fmt.Errorf("export: %s changed between the passes of the bundle of org %s", p.name, org)
		}
	}
	if err := tw.Close(); err != nil {
		return sum, err
	}
	sum.Bytes = cw.n
	return sum, nil
}

// rangeProofOf streams org's leaves 1..size and returns the compact
// ranges of positions [0, first-1) and [last, size).
func rangeProofOf(ctx context.Context, rd Reader, org uuid.UUID, first, last, size int64) (*compact.Range, *compact.Range, error) {
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	left, right := rf.NewEmptyRange(0), rf.NewEmptyRange(uint64(last))
	err := leafPages(ctx, rd, org, 1, size, func(seq int64, leaf audit.Hash) error {
		switch {
		case seq < first:
			return left.Append(leaf[:], nil)
		case seq > last:
			return right.Append(leaf[:], nil)
		}
		return nil
	})
	return left, right, err
}

// leafPages streams org's leaf hashes first..last into fn as
// audit.LeafRange does, reading them leafPage at a time through rd, each
// page's transaction over before fn sees any of it.
func leafPages(ctx context.Context, rd Reader, org uuid.UUID, first, last int64, fn func(seq int64, leaf audit.Hash) error) error {
	page := make([]audit.Hash, 0, min(leafPage, max(last-first+1, 0)))
	for lo := first; lo <= last; lo += leafPage {
		hi := min(lo+leafPage-1, last)
		page = page[:0]
		err := rd(ctx, func(ctx context.Context, q audit.Querier) error {
			return audit.LeafRange(ctx, q, org, lo, hi, func(_ int64, leaf audit.Hash) error {
				page = append(page, leaf)
				return nil
			})
		})
		if err != nil {
			return err
		}
		for i, leaf := range page {
			if err := fn(lo+int64(i), leaf); err != nil {
				return err
			}
		}
	}
	return nil
}

// VerifiedBundle is what a bundle proved.
type VerifiedBundle struct {
	Origin     string
	First      int64
	Last       int64
	Events     int64
	Complete   bool
	Filter     string
	Checkpoint audit.Checkpoint
	Files      []string
}

// String says exactly what the bundle proves.
func (v VerifiedBundle) String() string {
	s := fmt.Sprintf("verified: %d events of %s, seq %d..%d, are in the log that the checkpoint at size %d "+
		"(root %s) signs, unaltered, at these positions and in this order", v.Events, v.Origin, v.First, v.Last,
		v.Checkpoint.Size, v.Checkpoint.Root)
	if v.Complete {
		s += fmt.Sprintf("; nothing is omitted: the bundle holds every event of seq %d..%d", v.First, v.Last)
	} else {
		s += fmt.Sprintf("; filtered export (%s): the other %d positions of the range are present only as leaf hashes",
			v.Filter, v.Last-v.First+1-v.Events)
	}
	return s
}

// VerifyBundle checks an evidence bundle read from r with only vkey, the
// verifier key of the log's checkpoints (`ward audit checkpoint key`,
// /.well-known/ward-audit-key). When org is not uuid.Nil the bundle must be
// of that org's log. It checks, in order: the manifest's signature; the
// checkpoint's signature and that it is the manifest's; that the leaves of
// the range fold with the range proof to the checkpoint's root; that every
// event hashes to the leaf at its seq, belongs to the org and comes in seq
// order (and, for an unfiltered export, that no seq of the range is
// missing); and every file's SHA-256 against the manifest. Memory is 32
// bytes per position of the range.
//
// Errors: wrapping ErrBadBundle with what failed and where.
func VerifyBundle(r io.Reader, vkey string, org uuid.UUID) (VerifiedBundle, error) {
	bad := func(format string, args ...any) (VerifiedBundle, error) {
		return VerifiedBundle{}, fmt.Errorf("%w: "+format, append([]any{ErrBadBundle}, args...)...)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return bad("the verifier key is malformed: %v", err)
	}
	tr := tar.NewReader(r)
	// next advances to the file that must come next.
	next := func(want string) error {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("%w: %s is missing", ErrBadBundle, want)
		}
		if err != nil {
			return fmt.Errorf("%w: not a tar archive: %v", ErrBadBundle, err)
		}
		if h.Name != want {
			return fmt.Errorf("%w: expected %s, found %s", ErrBadBundle, want, h.Name)
		}
		if h.Size > 1<<20 && want != fileEvents && want != fileLeaves {
			return fmt.Errorf("%w: %s is too large", ErrBadBundle, want)
		}
		return nil
	}
	// 1. The manifest.
	if err := next(fileManifest); err != nil {
		return VerifiedBundle{}, err
	}
	raw, err := io.ReadAll(io.LimitReader(tr, 1<<20))
	if err != nil {
		return bad("reading the manifest: %v", err)
	}
	n, err := note.Open(raw, note.VerifierList(verifier))
	if err != nil {
		return bad("the manifest's signature does not verify under key %q (a bundle of another log or "+
			"server, or an altered manifest): %v", verifier.Name(), err)
	}
	m, err := parseManifest(n.Text)
	if err != nil {
		return bad("manifest: %v", err)
	}
	if org != uuid.Nil && m.origin != audit.Origin(org) {
		return bad("the bundle is of %s, not of org %s", m.origin, org)
	}
	v := VerifiedBundle{Origin: m.origin, First: m.first, Last: m.last, Complete: m.complete, Filter: m.filter}
	hashOf := func(data io.Reader) (*sizedHash, error) {
		h := &sizedHash{h: sha256.New()}
		_, err := io.Copy(h, data)
		return h, err
	}
	matches := func(name string, h *sizedHash) error {
		want, ok := m.sums[name]
		if !ok {
			return fmt.Errorf("%w: %s is not in the manifest", ErrBadBundle, name)
		}
		if got := hex.EncodeToString(h.h.Sum(nil)); got != want {
			return fmt.Errorf("%w: %s: its SHA-256 %s differs from the manifest's %s", ErrBadBundle, name, got, want)
		}
		v.Files = append(v.Files, name)
		return nil
	}

	// 2. The checkpoint.
	if err := next(fileCheckpoint); err != nil {
		return VerifiedBundle{}, err
	}
	cpRaw, err := io.ReadAll(io.LimitReader(tr, 1<<20))
	if err != nil {
		return bad("reading the checkpoint: %v", err)
	}
	cp, err := audit.OpenCheckpoint(string(cpRaw), vkey)
	if err != nil {
		return bad("checkpoint.note: %v", err)
	}
	if cp.Origin != m.origin || cp.Size != m.checkpoint {
		return bad("checkpoint.note is of %s at size %d, the manifest names %s at %d", cp.Origin, cp.Size,
			m.origin, m.checkpoint)
	}
	if m.last > cp.Size {
		return bad("the range %d..%d is not covered by the checkpoint of size %d", m.first, m.last, cp.Size)
	}
	if err := matches(fileCheckpoint, sum(cpRaw)); err != nil {
		return VerifiedBundle{}, err
	}
	v.Checkpoint = cp

	// 3. The range proof and the leaves.
	if err := next(fileProof); err != nil {
		return VerifiedBundle{}, err
	}
	proofRaw, err := io.ReadAll(io.LimitReader(tr, 1<<20))
	if err != nil {
		return bad("reading proof.json: %v", err)
	}
	var rp rangeProof
	if err := json.Unmarshal(proofRaw, &rp); err != nil {
		return bad("proof.json is malformed: %v", err)
	}
	if err := next(fileLeaves); err != nil {
		return VerifiedBundle{}, err
	}
	lh := &sizedHash{h: sha256.New()}
	leaves, err := readLeaves(io.TeeReader(tr, lh), m.last-m.first+1)
	if err != nil {
		return bad("leaves.txt: %v", err)
	}
	if err := verifyRange(rp, leaves, m, cp); err != nil {
		return VerifiedBundle{}, err
	}
	if err := matches(fileProof, sum(proofRaw)); err != nil {
		return VerifiedBundle{}, err
	}
	if err := matches(fileLeaves, lh); err != nil {
		return VerifiedBundle{}, err
	}

	// 4. The events.
	if err := next(fileEvents); err != nil {
		return VerifiedBundle{}, err
	}
	eh := &sizedHash{h: sha256.New()}
	count, err := checkEvents(io.TeeReader(tr, eh), leaves, m)
	if err != nil {
		return VerifiedBundle{}, err
	}
	if err := matches(fileEvents, eh); err != nil {
		return VerifiedBundle{}, err
	}
	v.Events = count

	// 5. Any other export, and nothing unlisted.
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("not a tar archive: %v", err)
		}
		xh, err := hashOf(tr)
		if err != nil {
			return bad("reading %s: %v", h.Name, err)
		}
		if err := matches(h.Name, xh); err != nil {
			return VerifiedBundle{}, err
		}
	}
	for name := range m.sums {
		found := false
		for _, f := range v.Files {
			found = found || f == name
		}
		if !found {
			return bad("%s is in the manifest but not in the bundle", name)
		}
	}
	return v, nil
}

type manifest struct {
	origin      string
	first, last int64
	checkpoint  int64
	complete    bool
	filter      string
	events      int64
	sums        map[string]string
}

func parseManifest(text string) (manifest, error) {
	m := manifest{sums: map[string]string{}}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 7 || lines[0] != manifestHeader {
		return m, errors.New("not a ward audit evidence bundle v1 manifest")
	}
	field := func(i int, key string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], key+" ")
		if !ok {
			return "", fmt.Errorf("line %d: expected %q", i+1, key)
		}
		return v, nil
	}
	var err error
	if m.origin, err = field(1, "origin"); err != nil {
		return m, err
	}
	rng, err := field(2, "range")
	if err != nil {
		return m, err
	}
	if _, err := fmt.Sscanf(rng, "%d %d", &m.first, &m.last); err != nil || m.first < 1 || m.last < m.first {
		return m, errors.New("malformed range")
	}
	c, err := field(3, "checkpoint")
	if err != nil {
		return m, err
	}
	if m.checkpoint, err = strconv.ParseInt(c, 10, 64); err != nil {
		return m, errors.New("malformed checkpoint size")
	}
	cm, err := field(4, "complete")
	if err != nil {
		return m, err
	}
	m.complete = cm == "yes"
	if m.filter, err = field(5, "filter"); err != nil {
		return m, err
	}
	ev, err := field(6, "events")
	if err != nil {
		return m, err
	}
	if m.events, err = strconv.ParseInt(ev, 10, 64); err != nil {
		return m, errors.New("malformed event count")
	}
	for i, l := range lines[7:] {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "sha256" || len(f[1]) != 64 {
			return m, fmt.Errorf("line %d: expected \"sha256 HEX FILE\"", i+8)
		}
		m.sums[f[2]] = f[1]
	}
	return m, nil
}

func readLeaves(r io.Reader, n int64) ([]audit.Hash, error) {
	sc := bufio.NewScanner(r)
	out := make([]audit.Hash, 0, min(n, 1<<20))
	for sc.Scan() {
		h, err := audit.ParseHash(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d is not a leaf hash", len(out)+1)
		}
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if int64(len(out)) != n {
		return nil, fmt.Errorf("holds %d leaves, the range has %d positions", len(out), n)
	}
	return out, nil
}

// verifyRange folds [0, first-1) ‖ leaves ‖ [last, size) and requires the
// checkpoint's root.
func verifyRange(rp rangeProof, leaves []audit.Hash, m manifest, cp audit.Checkpoint) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: range proof: "+format, append([]any{ErrBadBundle}, args...)...)
	}
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	lh, err := unhexAll(rp.Left)
	if err != nil {
		return fail("left: %v", err)
	}
	rh, err := unhexAll(rp.Right)
	if err != nil {
		return fail("right: %v", err)
	}
	left, err := rf.NewRange(0, uint64(m.first-1), lh)
	if err != nil {
		return fail("the left compact range does not fit positions 0..%d: %v", m.first-1, err)
	}
	for _, l := range leaves {
		if err := left.Append(l[:], nil); err != nil {
			return fail("%v", err)
		}
	}
	right, err := rf.NewRange(uint64(m.last), uint64(cp.Size), rh)
	if err != nil {
		return fail("the right compact range does not fit positions %d..%d: %v", m.last, cp.Size, err)
	}
	if err := left.AppendRange(right, nil); err != nil {
		return fail("%v", err)
	}
	root, err := left.GetRootHash(nil)
	if err != nil {
		return fail("%v", err)
	}
	if string(root) != string(cp.Root[:]) {
		return fail("the leaves of seq %d..%d do not fold to the checkpoint's root %s: a leaf of the range "+
			"was altered, added or removed", m.first, m.last, cp.Root)
	}
	return nil
}

type jsonlRecord struct {
	ChainHash string          `json:"chain_hash"`
	Event     json.RawMessage `json:"event"`
	LeafHash  string          `json:"leaf_hash"`
	Seq       int64           `json:"seq"`
}

// checkEvents reads events.jsonl and checks every event against the
// leaves.
func checkEvents(r io.Reader, leaves []audit.Hash, m manifest) (int64, error) {
	fail := func(format string, args ...any) (int64, error) {
		return 0, fmt.Errorf("%w: events.jsonl: "+format, append([]any{ErrBadBundle}, args...)...)
	}
	org := strings.TrimPrefix(m.origin, "ward/audit/")
	br := bufio.NewReaderSize(r, 64<<10)
	var prev, count int64
	prev = m.first - 1
	// A gap is reported at the end: a later, smaller seq makes it a
	// reordering rather than a removal.
	gap := ""
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF && len(b) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return fail("%v", err)
		}
		var rec jsonlRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fail("line %d is not a record: %v", line, err)
		}
		switch {
		case rec.Seq < m.first || rec.Seq > m.last:
			return fail("line %d: seq %d is outside the range %d..%d", line, rec.Seq, m.first, m.last)
		case rec.Seq <= prev:
			return fail("line %d: seq %d follows seq %d: the events are out of order", line, rec.Seq, prev)
		case m.complete && rec.Seq != prev+1 && gap == "":
			gap = fmt.Sprintf("seq %d is missing before line %d (the bundle claims every event of %d..%d)",
				prev+1, line, m.first, m.last)
		}
		leaf := audit.LeafHash(rec.Event)
		if leaf != leaves[rec.Seq-m.first] {
			return fail("line %d: the event at seq %d does not hash to its leaf in the log: it was altered",
				line, rec.Seq)
		}
		if rec.LeafHash != leaf.String() {
			return fail("line %d: leaf_hash of seq %d is not the event's hash", line, rec.Seq)
		}
		var ev struct {
			Org string `json:"org"`
		}
		if err := json.Unmarshal(rec.Event, &ev); err != nil || ev.Org != org {
			return fail("line %d: the event at seq %d is not of org %s", line, rec.Seq, org)
		}
		prev = rec.Seq
		count++
	}
	if gap != "" {
		return fail("%s", gap)
	}
	if m.complete && prev != m.last {
		return fail("seq %d..%d are missing at the end (the bundle claims every event of %d..%d)", prev+1, m.last,
			m.first, m.last)
	}
	if count != m.events {
		return fail("holds %d events, the manifest says %d", count, m.events)
	}
	return count, nil
}

type sizedHash struct {
	h hash.Hash
	n int64
}

func (s *sizedHash) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	return s.h.Write(p)
}

func sum(b []byte) *sizedHash {
	h := &sizedHash{h: sha256.New()}
	h.Write(b)
	return h
}

func hexAll(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h)
	}
	return out
}

func unhexAll(hs []string) ([][]byte, error) {
	out := make([][]byte, len(hs))
	for i, s := range hs {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("hash %d is malformed", i)
		}
		out[i] = b
	}
	return out, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
