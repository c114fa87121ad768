package httpapi

import (
	"io"
	"testing"
)

// TestConsoleTemplatesRecords: every page of console_records.go parses and
// renders with empty data, signed out and as an admin (TestConsoleTemplates
// does the same for console.go's pages).
func TestConsoleTemplatesRecords(t *testing.T) {
	data := map[string]any{"recordedit": recordEditPage{}, "careteam": careTeamPage{}, "amendments": amendmentsPage{},
		"docrequest": docRequestPage{}}
	pages := consoleRecordPages()
	if len(pages) != len(data) {
		t.Fatalf("%d pages, %d with test data", len(pages), len(data))
	}
	for name, tpl := range pages {
		for _, me := range []*consoleMe{nil, {Role: "admin", Admin: true, AAL: 2}} {
			if err := tpl.ExecuteTemplate(io.Discard, "layout", consolePage{Title: name, Me: me, Data: data[name]}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
