package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The audit page never says verified when it is not. A checkpoint row
// whose size is not its signed note's makes the proof fail: the banner is
// red and no event is shown as in the checkpoint. And the instance's key
// signs every org's log, so another org's signed note planted in this
// org's checkpoints (by whoever can write the database, the party the log
// is kept against) verifies by its signature alone: the page must name it
// as not this org's log, on a page with no event to prove as on any other.
func TestConsoleAuditCheckpointNotThisLog(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Ledger Clinic")
	w.populate(o, "ldg")
	other := w.createOrg("Other Ledger Clinic")
	w.populate(other, "oldg")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	w.do("GET", "/v1/me", other.Admin.Token, nil, http.StatusOK, nil)
	w.integrate()
	if resp, body := w.consolePage("GET", "/audit", adm, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="checkpoint-ok"`) {
		t.Fatalf("audit page before: %d %s", resp.StatusCode, body)
	}
	plant := func(from uuid.UUID, grow int64) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(context.Background(),
			`insert into audit.checkpoints (org_id, size, root_hash, note)
			 select $1, c.size + $3, c.root_hash, c.note from audit.checkpoints c where c.org_id = $2 order by c.size desc limit 1`,
			o.ID, from, grow); err != nil {
			t.Fatal(err)
		}
	}
	unverified := func(path string) {
		t.Helper()
		resp, body := w.consolePage("GET", path, adm, nil)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="checkpoint-ok"`) || !strings.Contains(body, `id="checkpoint-bad"`) ||
			strings.Contains(body, "<td>yes</td>") {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	plant(o.ID, 1000000) // this org's own note, under a size it does not sign
	unverified("/audit")
	plant(other.ID, 2000000) // another org's note
	unverified("/audit")
	unverified("/audit?after=900000")
}
