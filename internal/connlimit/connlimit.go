// Package connlimit caps the connections `ward serve` holds open: in all,
// and from any one address.
//
// Go's HTTP server accepts every connection it is offered and keeps each
// until its timeouts end it (ten seconds to send headers, two minutes idle
// between requests), so one client opening connections faster than they
// time out holds file descriptors and memory without bound, and a flood
// from one address takes the descriptors every other client needs. The
// Listener keeps two counts:
//
//   - all connections: at the cap, Accept waits until one closes, as
//     golang.org/x/net/netutil.LimitListener does; the next connections
//     wait in the kernel's backlog instead of failing;
//   - connections from one address (an IPv6 /64): one over its cap is closed at once,
//     before TLS or HTTP, so a single address cannot hold the whole
//     node. Addresses of trusted reverse proxies are exempt: every client
//     behind a proxy shares its address.
//
// Refusals are counted, never logged with their address (an address can
// identify a patient).
package connlimit

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Config sets the caps. Zero or less means no cap.
type Config struct {
	Max     int            // connections open at once, in all
	PerAddr int            // connections open at once from one address
	Exempt  []netip.Prefix // addresses without a per-address cap (trusted proxies)
}

// Listener wraps a net.Listener with the caps of a Config.
type Listener struct {
	net.Listener
	cfg   Config
	slots chan struct{} // one per open connection; nil without a total cap

	mu     sync.Mutex
	byAddr map[netip.Addr]int

	done      chan struct{}
	closeOnce sync.Once

	open    atomic.Int64
	refused atomic.Uint64 // over the per-address cap
	waited  atomic.Uint64 // accepts that waited for a slot
}

// New wraps ln.
func New(ln net.Listener, cfg Config) *Listener {
	l := &Listener{Listener: ln, cfg: cfg, byAddr: map[netip.Addr]int{}, done: make(chan struct{})}
	if cfg.Max > 0 {
		l.slots = make(chan struct{}, cfg.Max)
	}
	return l
}

// Accept waits for a slot when the total is at its cap, then accepts a
// connection; a connection over its address's cap is closed and the next
// one accepted.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		if err := l.acquire(); err != nil {
			return nil, err
		}
		c, err := l.Listener.Accept()
		if err != nil {
			l.release()
			return nil, err
		}
		addr := remoteAddr(c)
		if !l.admit(addr) {
			l.refused.Add(1)
			_ = c.Close()
			l.release()
			continue
		}
		l.open.Add(1)
		return &conn{Conn: c, l: l, addr: addr}, nil
	}
}

func (l *Listener) acquire() error {
	if l.slots == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	l.waited.Add(1)
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-l.done:
		// what http.Server.Serve reads as its listener closed
		return net.ErrClosed
	}
}

func (l *Listener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// admit counts a connection from addr, or says it is over the cap.
func (l *Listener) admit(addr netip.Addr) bool {
	if l.cfg.PerAddr <= 0 || !addr.IsValid() || l.exempt(addr) {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[addr] >= l.cfg.PerAddr {
		return false
	}
	l.byAddr[addr]++
	return true
}

func (l *Listener) exempt(addr netip.Addr) bool {
	for _, p := range l.cfg.Exempt {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func (l *Listener) closed(addr netip.Addr) {
	if l.cfg.PerAddr > 0 && addr.IsValid() && !l.exempt(addr) {
		l.mu.Lock()
		if n := l.byAddr[addr] - 1; n > 0 {
			l.byAddr[addr] = n
		} else {
			delete(l.byAddr, addr)
		}
		l.mu.Unlock()
	}
	l.open.Add(-1)
	l.release()
}

// Close closes the listener and wakes an Accept waiting for a slot.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// WriteMetrics writes the listener's figures in the Prometheus text format.
func (l *Listener) WriteMetrics(w io.Writer) {
	fmt.Fprintf(w, "# HELP ward_connections_open Client connections open on this node.\n# TYPE ward_connections_open gauge\nward_connections_open %d\n", l.open.Load())
	fmt.Fprintf(w, "# HELP ward_connections_refused_total Connections closed at once because their address had the most it may hold open.\n# TYPE ward_connections_refused_total counter\nward_connections_refused_total %d\n", l.refused.Load())
	fmt.Fprintf(w, "# HELP ward_connections_waited_total Connections that waited in the backlog because the node held the most it may.\n# TYPE ward_connections_waited_total counter\nward_connections_waited_total %d\n", l.waited.Load())
}

// Open is the number of connections open now.
func (l *Listener) Open() int { return int(l.open.Load()) }

// Refused is the number of connections closed over their address's cap.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

// remoteAddr is the address a connection counts against: an IPv4
// address, or the first address of an IPv6 one's /64 (a host holds a whole
// /64, and would otherwise have 2^64 caps), as Ward's per-address rate
// limits count.
func remoteAddr(c net.Conn) netip.Addr {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip, _ := netip.AddrFromSlice(a.IP)
	if ip = ip.Unmap(); ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// conn gives its slot back once, on its first Close.
type conn struct {
	net.Conn
	l    *Listener
	addr netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.closed(c.addr) })
	return err
}

// CloseWrite half-closes the connection when the one wrapped can (a TCP
// connection): net/http half-closes before it closes a connection it
// answered with an error (closeWriteAndWait), so the client reads the
// answer rather than a reset, and finds the method through this wrapper.
// A wrapped connection that cannot half-close is left as it is.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
