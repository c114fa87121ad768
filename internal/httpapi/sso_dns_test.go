package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/wardhq/ward/internal/sso"
)

// dnsServer is a DNS server on 127.0.0.1 answering TXT and A questions
// from tables the test fills (every other name: NXDOMAIN).
type dnsServer struct {
	conn net.PacketConn
	mu   sync.Mutex
	txt  map[string]string  // FQDN (lower-case, trailing dot) → value
	a    map[string][4]byte // FQDN → IPv4 address
	fail map[string]bool    // FQDN → answered SERVFAIL
}

func startDNS(t *testing.T) *dnsServer {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsServer{conn: pc, txt: map[string]string{}, a: map[string][4]byte{}, fail: map[string]bool{}}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			d.mu.Lock()
			v, ok := d.txt[strings.ToLower(q.Name.String())]
			ip, isA := d.a[strings.ToLower(q.Name.String())]
			fail := d.fail[strings.ToLower(q.Name.String())]
			d.mu.Unlock()
			rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeSuccess}
			switch {
			case fail:
				rh.RCode, ok, isA = dnsmessage.RCodeServerFailure, false, false
			case (!ok || q.Type != dnsmessage.TypeTXT) && !isA:
				rh.RCode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, rh)
			b.EnableCompression()
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if isA && q.Type == dnsmessage.TypeA {
				_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
					dnsmessage.AResource{A: ip})
			} else if ok && rh.RCode == dnsmessage.RCodeSuccess {
				_ = b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET, TTL: 60},
					dnsmessage.TXTResource{TXT: []string{v}})
			}
			msg, err := b.Finish()
			if err == nil {
				_, _ = pc.WriteTo(msg, addr)
			}
		}
	}()
	return d
}

func (d *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", d.conn.LocalAddr().String())
	}}
}

// setA makes name resolve to the IPv4 address ip (and to no IPv6 one).
func (d *dnsServer) setA(name string, ip [4]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[strings.ToLower(name)+"."] = ip
}

// setFail makes the server answer questions for name with SERVFAIL.
func (d *dnsServer) setFail(name string, fail bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail[strings.ToLower(name)+"."] = fail
}

func (d *dnsServer) set(name, value string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[strings.ToLower(name)+"."] = value
}

// TestSSODomainDNS verifies claimed domains by their TXT record, looked up
// from a DNS server the test runs: no record, a wrong value, then the
// right one; a domain another org verified first stays theirs; only an
// admin who stepped up may verify.
func TestSSODomainDNS(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a, b := w.createOrg("DNS A"), w.createOrg("DNS B")
	ca := w.createConnection(a, map[string]any{"name": "A", "issuer": "https://idp.a.example", "client_id": "c"})
	cb := w.createConnection(b, map[string]any{"name": "B", "issuer": "https://idp.b.example", "client_id": "c"})
	var da, db sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "clinic.example", "connection_id": ca.ID},
		http.StatusCreated, &da)
	w.do("POST", "/v1/sso/domains", b.Admin.Token, map[string]any{"domain": "clinic.example", "connection_id": cb.ID},
		http.StatusCreated, &db)
	if da.TXTName != "_ward-verification.clinic.example" || !strings.HasPrefix(da.TXTValue, "ward-verification=") ||
		da.TXTValue == db.TXTValue {
		t.Fatalf("claims %+v %+v", da, db)
	}
	verify := "/v1/sso/domains/clinic.example/verify"
	if _, body := w.request("POST", verify, a.Admin.Token, nil); problemCode(t, body) != "dns_record_missing" {
		t.Fatalf("no record: %s", body)
	}
	dns.set(da.TXTName, db.TXTValue) // org B's value under org A's check
	if _, body := w.request("POST", verify, a.Admin.Token, nil); problemCode(t, body) != "dns_record_missing" {
		t.Fatalf("another org's value: %s", body)
	}
	// A lookup that fails answers the same; the event says so.
	dns.setFail(da.TXTName, true)
	if _, body := w.request("POST", verify, a.Admin.Token, nil); problemCode(t, body) != "dns_record_missing" {
		t.Fatalf("a failed lookup: %s", body)
	}
	dns.setFail(da.TXTName, false)
	// Each failed attempt is audited (00180): sso.domain.verify, outcome
	// failure, on the claim's connection, with the domain and a reason
	// code, and nothing of the records or the claim's value.
	rows, err := w.env.Super.Pool.Query(t.Context(), `select object_type, object_id::text, details::text,
	    details->>'reason' from audit.events where org_id = $1 and action = 'sso.domain.verify' and outcome = 'failure'
	    order by at`, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for rows.Next() {
		var typ, obj, details, reason string
		if err := rows.Scan(&typ, &obj, &details, &reason); err != nil {
			t.Fatal(err)
		}
		if typ != "sso_connection" || obj != ca.ID.String() || !strings.Contains(details, `"clinic.example"`) ||
			strings.Contains(details, "ward-verification") {
			t.Fatalf("failed verification event: %s %s %s", typ, obj, details)
		}
		reasons = append(reasons, reason)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if want := []string{"dns_record_missing", "dns_record_missing", "dns_lookup_failed"}; !slices.Equal(reasons, want) {
		t.Fatalf("failed verifications audited with reasons %q, want %q", reasons, want)
	}
	lead := w.addMember(a, "dns-lead@example.test", "lead")
	w.do("POST", verify, lead.Token, nil, http.StatusForbidden, nil)
	dns.set(da.TXTName, da.TXTValue)
	var got sso.Domain
	w.do("POST", verify, a.Admin.Token, nil, http.StatusOK, &got)
	if got.VerifiedAt == nil || got.VerifiedBy != "dns" {
		t.Fatalf("verified %+v", got)
	}
	// The domain now routes to org A's connection; org B cannot take it.
	dns.set(db.TXTName, db.TXTValue)
	w.do("POST", verify, b.Admin.Token, nil, http.StatusConflict, nil)
	w.do("POST", "/v1/sso/domains/unclaimed.example/verify", b.Admin.Token, nil, http.StatusNotFound, nil)
	if n := w.auditCount(a.ID, "sso.domain.verify", "success"); n != 1 {
		t.Fatalf("%d verifications", n)
	}
	// Neither the lead's refusal, nor the verification, nor another org's
	// attempts are failures of org A's.
	if n := w.auditCount(a.ID, "sso.domain.verify", "failure"); n != 3 {
		t.Fatalf("%d failed verifications in org A, want 3", n)
	}
	if n := w.auditCount(b.ID, "sso.domain.verify", "failure"); n != 0 {
		t.Fatalf("%d failed verifications in org B, want 0", n)
	}
}
