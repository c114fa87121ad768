package s3test

import (
	"net/url"
	"strconv"
	"testing"
)

// A second Start handed the port of a first one's running server (as when
// another test took the port its probe found free) does not take that
// server for its own: its own exits on the taken port, and Start runs it
// again on another.
func TestStartIgnoresAnotherServerOnItsPort(t *testing.T) {
	first := Start(t)
	u, err := url.Parse(first.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	taken, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	handed := false
	pickPort = func() (int, error) {
		if !handed {
			handed = true
			return taken, nil
		}
		return freePort()
	}
	defer func() { pickPort = freePort }()
	second := Start(t)
	if !handed {
		t.Fatal("Start did not try the taken port")
	}
	if second.Endpoint() == first.Endpoint() {
		t.Fatalf("the second Start took the first's server at %s for its own", first.Endpoint())
	}
	if !second.ready() || !first.ready() {
		t.Fatal("a server is not ready")
	}
}
