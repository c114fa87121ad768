package connlimit

import (
	"net"
	"net/netip"
	"testing"
)

// addrConn is a connection from a given address.
type addrConn struct {
	net.Conn
	from net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.from }

// An IPv6 client counts by its /64 (a host holds a whole /64), an IPv4 one
// by its address, an IPv4-mapped IPv6 one as the IPv4 address.
func TestRemoteAddrBuckets(t *testing.T) {
	at := func(s string) netip.Addr {
		return remoteAddr(addrConn{from: &net.TCPAddr{IP: net.ParseIP(s), Port: 40000}})
	}
	if a, b := at("2001:db8:5:7::1"), at("2001:db8:5:7:ffff:ffff:ffff:fffe"); a != b {
		t.Errorf("two addresses of one /64 count apart: %v, %v", a, b)
	}
	if a, b := at("2001:db8:5:7::1"), at("2001:db8:5:8::1"); a == b {
		t.Errorf("two /64s count together: %v", a)
	}
	if a := at("::ffff:192.0.2.7"); a != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("an IPv4-mapped address counts as %v", a)
	}
	if a, b := at("192.0.2.7"), at("192.0.2.8"); a == b {
		t.Errorf("two IPv4 addresses count together: %v", a)
	}

	// The cap holds per /64: the second connection of a /64 is over a cap of one.
	l := New(nil, Config{PerAddr: 1})
	if !l.admit(at("2001:db8:5:7::1")) || l.admit(at("2001:db8:5:7::2")) || !l.admit(at("2001:db8:5:8::1")) {
		t.Error("a cap of one per /64 does not hold")
	}
}
