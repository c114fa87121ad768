package records

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestExportPath: a stored file's name never leaves its folder in an
// export archive, nor carries anything but letters, digits, dot, dash and
// underscore.
func TestExportPath(t *testing.T) {
	kase, doc := uuid.MustParse("11111111-1111-4111-8111-111111111111"), uuid.MustParse("22222222-2222-4222-8222-222222222222")
	prefix := "documents/" + kase.String() + "/" + doc.String() + "/"
	for name, want := range map[string]string{
		"Lab results (May).pdf":  "v3-Lab_results__May_.pdf",
		"../../etc/passwd":       "v3-etc_passwd",
		"..":                     "v3-file",
		"":                       "v3-file",
		".hidden":                "v3-hidden",
		"Résumé.txt":             "v3-R_sum_.txt",
		"a\x00b\nc.txt":          "v3-a_b_c.txt",
		`C:\Users\x.doc`:         "v3-C__Users_x.doc",
		strings.Repeat("a", 300): "v3-" + strings.Repeat("a", 100),
	} {
		got := ExportPath(kase, doc, 3, name)
		if got != prefix+want {
			t.Errorf("ExportPath(%q) = %q, want %q", name, got, prefix+want)
		}
		if rest := strings.TrimPrefix(got, prefix); strings.ContainsAny(rest, "/\\") || strings.Contains(rest, "..") {
			t.Errorf("ExportPath(%q) = %q leaves its folder", name, got)
		}
	}
}
