package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wardhq/ward/internal/postgres"
)

// checkResult is a kept principal's check that answers err.
type checkResult struct{ err error }

func (c checkResult) Confirm(context.Context) error { return c.err }

// TestConfirmFirstFlush: a flush through http.ResponseController sends the
// status and headers, so on a request served with a kept principal it runs
// the deferred check first, as WriteHeader does; a stale principal's flush
// sends nothing (the request is served again). Before, the controller
// unwrapped past confirmFirst and flushed a 200 unchecked.
func TestConfirmFirstFlush(t *testing.T) {
	for _, c := range []struct {
		name    string
		check   error
		flushed bool
	}{
		{"stale", postgres.ErrStalePrincipal, false},
		{"live", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := checkResult{c.check}
			rec := httptest.NewRecorder()
			mark := new(staleMark)
			cw := &confirmFirst{ResponseWriter: rec, ctx: context.Background(), rt: rt, mark: mark,
				header: rec.Header().Clone()}
			if err := http.NewResponseController(cw).Flush(); err != nil {
				t.Fatal(err)
			}
			if rec.Flushed != c.flushed || mark.stale == c.flushed {
				t.Fatalf("flushed %v, stale %v; want flushed %v", rec.Flushed, mark.stale, c.flushed)
			}
		})
	}
}
