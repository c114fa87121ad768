package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps imports pointing down (STYLE.md): nothing imports cmd
// or httpapi; domain packages do not import net/http (storage adapters and
// test servers such as s3archive and mailtest may, and the gateway, a proxy);
// only subsystems
// import postgres; identity imports nothing of Ward's.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "github.com/wardhq/ward/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/wardhq/ward/"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		pkg := strings.TrimPrefix(p.ImportPath, mod)
		for _, imp := range p.Imports {
			dep := strings.TrimPrefix(imp, mod)
			switch {
			case dep == "cmd/ward":
				t.Errorf("%s imports cmd/ward", pkg)
			case dep == "internal/httpapi" && pkg != "cmd/ward":
				t.Errorf("%s imports httpapi", pkg)
			case imp == "net/http" && !strings.HasPrefix(pkg, "internal/httpapi") && !strings.HasPrefix(pkg, "cmd/") &&
				!strings.HasPrefix(pkg, "internal/mail/mailtest") && pkg != "internal/audit/s3archive" &&
				pkg != "internal/audit/s3test" && pkg != "internal/gateway" && pkg != "internal/cases" &&
				pkg != "internal/audit/sink" && pkg != "internal/sso" && pkg != "internal/netguard":
				// the gateway is an HTTP client of its upstreams and relays
				// their replies; its engine (gateway/phi) stays pure; cases
				// sniffs uploads with http.DetectContentType (WHATWG MIME
				// sniffing), and nothing else of net/http; the audit sinks
				// are HTTP clients of the SIEMs (webhooks, HEC); sso is an
				// HTTP client of identity providers; netguard builds the
				// guarded client both use
				t.Errorf("domain package %s imports net/http", pkg)
			case strings.HasPrefix(pkg, "internal/identity") && strings.HasPrefix(imp, mod):
				t.Errorf("identity (a leaf) imports %s", dep)
			case strings.HasPrefix(pkg, "internal/gateway/phi") && strings.HasPrefix(imp, mod) &&
				!strings.HasPrefix(dep, "internal/gateway/phi"):
				t.Errorf("phi (pure) imports %s", dep)
			case dep == "internal/postgres" && (pkg == "internal/httpapi" || strings.HasPrefix(pkg, "internal/vault/envelope") ||
				strings.HasPrefix(pkg, "internal/gateway/phi") || pkg == "internal/identity"):
				t.Errorf("%s imports postgres", pkg)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("listed only %d packages", seen)
	}
}
