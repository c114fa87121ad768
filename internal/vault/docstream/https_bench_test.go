package docstream_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
)

// BenchmarkHTTPS64MiB: 64 MiB uploaded and downloaded over HTTPS
// (httptest's TLS server, loopback, one client), through encryption into
// and out of the directory store, beside the same bytes through the same
// TLS server into and out of a plain file (io.Copy; on upload through a
// 1 MiB bufio.Writer, and fsync).
// The budget: the encrypted paths reach at least half the plain
// ones.
func BenchmarkHTTPS64MiB(b *testing.B) {
	plain := randomBytes(4, benchSize)
	dir := b.TempDir()
	d, err := blob.NewDir(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	f := newFixture(b)
	aad := []byte("bench")
	plainFile := filepath.Join(dir, "plain")
	if err := os.WriteFile(plainFile, plain, 0o600); err != nil {
		b.Fatal(err)
	}
	encKey := blob.ObjectKey(f.keys.OrgID(), uuid.New())
	if _, err := f.key.Put(b.Context(), d, encKey, aad, bytes.NewReader(plain)); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /plain", func(w http.ResponseWriter, r *http.Request) {
		out, err := os.CreateTemp(dir, "up-*")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer os.Remove(out.Name())
		defer out.Close()
		// Batched into 1 MiB writes, as the encrypting writer batches its
		// segments: otherwise every TLS record (16 KiB) would be its own
		// write system call, and the baseline would lose for that alone.
		bw := bufio.NewWriterSize(struct{ io.Writer }{out}, 1<<20) // hide os.File.ReadFrom
		if _, err := io.Copy(bw, r.Body); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if err := bw.Flush(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if err := out.Sync(); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("PUT /enc", func(w http.ResponseWriter, r *http.Request) {
		key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
		if _, err := f.key.Put(r.Context(), d, key, aad, r.Body); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = d.Delete(r.Context(), key)
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		in, err := os.Open(plainFile)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer in.Close()
		_, _ = io.Copy(w, struct{ io.Reader }{in}) // no sendfile: TLS
	})
	mux.HandleFunc("GET /enc", func(w http.ResponseWriter, r *http.Request) {
		rc, err := f.key.Decrypt(r.Context(), d, encKey, aad, benchSize, 0, -1)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rc.Close()
		_, _ = io.Copy(w, rc)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS13
	buf := make([]byte, 256<<10)
	upload := func(b *testing.B, path string) {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodPut, srv.URL+"/"+path, bytes.NewReader(plain))
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	download := func(b *testing.B, path string) {
		resp, err := client.Get(srv.URL + "/" + path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(sink{}, resp.Body, buf)
		resp.Body.Close()
		if err != nil || n != benchSize {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
	for _, c := range []struct {
		name string
		do   func(*testing.B, string)
	}{{"upload", upload}, {"download", download}} {
		// Plain and encrypted alternate within one loop, so that both see
		// the same load on a shared machine; the ratio is the figure.
		b.Run(c.name, func(b *testing.B) {
			var plainT, encT time.Duration
			for b.Loop() {
				t0 := time.Now()
				c.do(b, "plain")
				t1 := time.Now()
				c.do(b, "enc")
				plainT += t1.Sub(t0)
				encT += time.Since(t1)
			}
			mbs := func(d time.Duration) float64 { return float64(b.N) * benchSize / d.Seconds() / 1e6 }
			b.ReportMetric(mbs(plainT), "plain-MB/s")
			b.ReportMetric(mbs(encT), "enc-MB/s")
			b.ReportMetric(plainT.Seconds()/encT.Seconds(), "enc/plain")
		})
	}
}
