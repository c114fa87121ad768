package audit

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// plainByte is plain8's rule for one byte.
func plainByte(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }

// plain8 is exact: every byte value in every lane among plain neighbours,
// and random words.
func TestPlain8(t *testing.T) {
	check := func(w [8]byte) {
		t.Helper()
		want := true
		for _, c := range w {
			want = want && plainByte(c)
		}
		var x uint64
		for i, c := range w {
			x |= uint64(c) << (8 * i)
		}
		if got := plain8(x); got != want {
			t.Fatalf("plain8(% x) = %v, want %v", w, got, want)
		}
	}
	for _, fill := range []byte{0x20, 'a', 0x7f, '#', '[', ']', '!'} {
		for lane := range 8 {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[lane] = byte(c)
				check(w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1_000_000 {
		var w [8]byte
		for i := range w {
			switch rng.IntN(4) {
			case 0:
				w[i] = byte(rng.IntN(256))
			default:
				w[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		check(w)
	}
}

// refAppendString is appendString without the eight-byte fast path.
func refAppendString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0x0f])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), utf8.ValidString(s)
}

// appendString equals the byte-at-a-time escaping for every length and
// every position of a special byte, as string and as []byte.
func TestAppendStringFastPath(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", "\n", "\t", "\x7f", "é", "😀", "\xff", "\xc3"}
	var inputs []string
	for n := range 40 {
		base := strings.Repeat("Mozilla/5.0 ", 4)[:n]
		inputs = append(inputs, base)
		for at := 0; at <= n; at++ {
			for _, sp := range specials {
				inputs = append(inputs, base[:at]+sp+base[at:])
			}
		}
	}
	for _, s := range inputs {
		want, ok := refAppendString([]byte("x"), s)
		for _, got := range []func() ([]byte, error){
			func() ([]byte, error) { return appendString([]byte("x"), s) },
			func() ([]byte, error) { return appendString([]byte("x"), []byte(s)) },
		} {
			b, err := got()
			if (err == nil) != ok {
				t.Fatalf("appendString(%q): err %v, valid UTF-8 %v", s, err, ok)
			}
			if ok && !bytes.Equal(b, want) {
				t.Fatalf("appendString(%q) = %q, want %q", s, b, want)
			}
		}
	}
}

// appendTime equals time.Format over the whole range it formats itself,
// its edges, and beyond them (where it falls back to time.Format), in any
// location.
func TestAppendTime(t *testing.T) {
	const layout = "2006-01-02T15:04:05.000000Z"
	zones := []*time.Location{time.UTC, time.FixedZone("east", 14*3600), time.FixedZone("west", -12*3600-1800)}
	check := func(tm time.Time) {
		t.Helper()
		tm = tm.In(zones[int(uint64(tm.Unix())%3)])
		if got, want := string(appendTime(nil, tm)), tm.UTC().Format(layout); got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, sec := range []int64{minTimeSec - 1, minTimeSec, minTimeSec + 1, minTimeSec + 59*86400, minTimeSec + 60*86400 - 1,
		minTimeSec + 60*86400, minTimeSec + 366*86400, -1, 0, 1, 951782400, 951868800, 4107542400,
		maxTimeSec - 1, maxTimeSec, maxTimeSec + 86400, -1 << 40, 1 << 40} {
		for _, ns := range []int{0, 999, 1000, 999_999_999} {
			check(time.Unix(sec, int64(ns)))
		}
	}
	// Every day of years 0..9999 at a random second, then random instants.
	rng := rand.New(rand.NewPCG(7, 8))
	for sec := int64(minTimeSec); sec < maxTimeSec; sec += 86400 {
		check(time.Unix(sec+rng.Int64N(86400), rng.Int64N(1e9)))
	}
	for range 200_000 {
		check(time.Unix(minTimeSec-1e10+rng.Int64N(maxTimeSec-minTimeSec+2e10), rng.Int64N(1e9)))
	}
}

// The arena-backed tree keeps every hash it handed out intact across
// chunks: roots equal the reference tree's at every size up to 2,000, and
// a tree continued from a frontier (TreeFrom) agrees with it.
func TestTreeArena(t *testing.T) {
	ref := testonly.New(rfc6962.DefaultHasher)
	tr := NewTree()
	var leaves []Hash
	for i := range 2000 {
		in := []byte{byte(i), byte(i >> 8), 'x'}
		ref.AppendData(in)
		leaves = append(leaves, LeafHash(in))
		tr.Append(leaves[i])
		if got, want := tr.Root(), ref.Hash(); !bytes.Equal(got[:], want) {
			t.Fatalf("root(%d) = %s, want %x", i+1, got, want)
		}
		if n := i + 1; n == 333 || n == 1024 || n == 1500 {
			from, err := TreeFrom(int64(n), tr.Frontier())
			if err != nil {
				t.Fatal(err)
			}
			for j := n; j < 2000; j++ {
				from.Append(LeafHash([]byte{byte(j), byte(j >> 8), 'x'}))
			}
			whole := testonly.New(rfc6962.DefaultHasher)
			for j := range 2000 {
				whole.AppendData([]byte{byte(j), byte(j >> 8), 'x'})
			}
			if got, want := from.Root(), whole.Hash(); !bytes.Equal(got[:], want) {
				t.Fatalf("tree from %d: root(2000) = %s, want %x", n, got, want)
			}
		}
	}
	for i, h := range NewTree().Frontier() {
		t.Fatalf("empty tree frontier[%d] = %s", i, h)
	}
}
