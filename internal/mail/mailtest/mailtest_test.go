package mailtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A server that holds the ports Start found free and answers the
// readiness check is not taken for Start's Mailpit: Start sees that its
// own Mailpit could not bind, and starts it again on other ports.
func TestStartIgnoresAnotherServerOnItsPorts(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"Database": "/elsewhere/mailpit.db"}`))
	}))
	defer other.Close()
	smtp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	go func() {
		for {
			c, err := smtp.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	taken := func() (int, int, error) {
		return smtp.Addr().(*net.TCPAddr).Port, other.Listener.Addr().(*net.TCPAddr).Port, nil
	}
	first := true
	pickPorts = func() (int, int, error) {
		if first {
			first = false
			return taken()
		}
		return freePorts()
	}
	defer func() { pickPorts = freePorts }()

	s := Start(t)
	if s.APIURL() == other.URL || s.SMTPAddr() == smtp.Addr().String() {
		t.Fatalf("Start took the other server (%s, %s) for its Mailpit", s.APIURL(), s.SMTPAddr())
	}
	resp, err := http.Get(s.APIURL() + "/api/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(s.APIURL(), "http://127.0.0.1:") {
		t.Fatalf("Start's Mailpit: %d at %s", resp.StatusCode, s.APIURL())
	}
}
