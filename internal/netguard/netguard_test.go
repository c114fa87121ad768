package netguard_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wardhq/ward/internal/netguard"
)

func TestCheck(t *testing.T) {
	refused := []string{"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "169.254.169.254",
		"::ffff:169.254.169.254", "fe80::1", "0.0.0.0", "0.1.2.3", "::", "255.255.255.255", "224.0.0.1", "ff02::1",
		"ff01::1", "fd00:ec2::254", "100.100.100.200",
		// IPv4 carried in IPv6: SIIT, IPv4-compatible, 6to4, a local NAT64
		"::ffff:0:7f00:1", "::ffff:0:a9fe:a9fe", "::a9fe:a9fe", "::7f00:1", "2002:a9fe:a9fe::1", "2002:7f00:1::",
		"64:ff9b:1::a9fe:a9fe", "64:ff9b:1:a00:0:100::"}
	private := []string{"10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd12::1", "::ffff:10.0.0.1",
		"::ffff:0:a00:1", "2002:a00:1::1"}
	public := []string{"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"}
	for _, refusePrivate := range []bool{false, true} {
		c := netguard.Config{RefusePrivate: refusePrivate, Hint: "ask"}
		for _, s := range refused {
			err := c.Check(netip.MustParseAddr(s))
			if !errors.Is(err, netguard.ErrRefused) || !strings.HasSuffix(err.Error(), "; ask") {
				t.Errorf("%s (refusePrivate %v): %v", s, refusePrivate, err)
			}
		}
		for _, s := range private {
			if err := c.Check(netip.MustParseAddr(s)); (err != nil) != refusePrivate {
				t.Errorf("private %s (refusePrivate %v): %v", s, refusePrivate, err)
			}
		}
		for _, s := range public {
			if err := c.Check(netip.MustParseAddr(s)); err != nil {
				t.Errorf("public %s: %v", s, err)
			}
		}
	}
	// the host's own interface addresses, private or public, are refused
	// (a service bound to 0.0.0.0 answers there as on loopback)
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	own := 0
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || ip.Unmap().IsLoopback() || ip.Unmap().IsLinkLocalUnicast() {
			continue
		}
		own++
		var re *netguard.RefusedError
		if err := (netguard.Config{}).Check(ip); !errors.As(err, &re) || re.Class != "this host" {
			t.Errorf("own address %s: %v", ip, err)
		}
	}
	t.Logf("%d own non-loopback addresses checked", own)
	c := netguard.Config{RefusePrivate: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("10.1.0.0/16")}}
	for s, ok := range map[string]bool{"127.0.0.1": true, "::ffff:127.0.0.1": true, "127.0.0.2": false, "::1": false,
		"10.1.2.3": true, "10.2.0.1": false, "169.254.169.254": false} {
		if err := c.Check(netip.MustParseAddr(s)); (err == nil) != ok {
			t.Errorf("allow-listed %s: %v", s, err)
		}
	}
}

// TestClient: a refused address is never connected to; redirects are
// returned, not followed; proxy variables are ignored; http is refused
// when https only; bodies are capped.
func TestClient(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 2000)))
		case "/chunked":
			for range 4 {
				_, _ = w.Write([]byte(strings.Repeat("y", 600)))
				w.(http.Flusher).Flush()
			}
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	refusing := netguard.Config{RootCAs: roots}.Client()
	if _, err := refusing.Get(srv.URL); !errors.Is(err, netguard.ErrRefused) {
		t.Fatalf("loopback: %v", err)
	}
	if conns.Load() != 0 || hits.Load() != 0 {
		t.Fatal("the refused server was connected to")
	}

	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the proxy was used for %s", r.URL)
	}))
	defer proxy.Close()
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("HTTP_PROXY", proxy.URL)

	c := netguard.Config{RootCAs: roots, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		HTTPSOnly: true, MaxBody: 1000}.Client()
	resp, err := c.Get(srv.URL + "/redirect")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("redirect: %v %v", resp, err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("the redirect was followed (%d requests)", hits.Load())
	}
	if _, err := c.Get("http://" + strings.TrimPrefix(srv.URL, "https://")); !errors.Is(err, netguard.ErrNotHTTPS) {
		t.Fatalf("http: %v", err)
	}
	if _, err := c.Get(srv.URL + "/big"); !errors.Is(err, netguard.ErrTooLarge) {
		t.Fatalf("big: %v", err)
	}
	resp, err = c.Get(srv.URL + "/chunked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, netguard.ErrTooLarge) {
		t.Fatalf("chunked: %v", err)
	}
	resp.Body.Close()
	resp, err = c.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "ok" {
		t.Fatalf("ok: %q %v", b, err)
	}
	resp.Body.Close()
}
