package wireproblem

import (
	"strings"
	"testing"
)

// BenchmarkRewriteMiss is what the first write of a handler's answer pays
// to be told apart from net/http's own: a 4 KiB head and body.
func BenchmarkRewriteMiss(b *testing.B) {
	p := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Sun, 06 Dec 2026 14:00:00 GMT\r\n\r\n" +
		strings.Repeat("x", 4<<10))
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if rewrite(p) != nil {
			b.Fatal("rewritten")
		}
	}
}
