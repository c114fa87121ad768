package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLicensesListed: every module linked into ward is named in
// LICENSES/README.md, and the project licence is there.
func TestLicensesListed(t *testing.T) {
	if _, err := os.Stat("../../LICENSE"); err != nil {
		t.Fatalf("no LICENSE at the top of the repository: %v", err)
	}
	readme, err := os.ReadFile("../../LICENSES/README.md")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{.Module.Path}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, m := range strings.Fields(string(out)) {
		if m == "github.com/wardhq/ward" || seen[m] {
			continue
		}
		seen[m] = true
		if !strings.Contains(string(readme), "| "+m+" |") {
			t.Errorf("module %s is linked into ward but not listed in LICENSES/README.md", m)
		}
	}
}
