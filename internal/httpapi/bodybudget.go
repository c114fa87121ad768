package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/wardhq/ward/internal/errkind"
)

// bodyBudget bounds the bytes of request bodies a node holds at once on
// the routes that read a whole body into memory before they can start (the
// LLM gateway: a body of up to 32 MiB, which the de-identification copies).
// The per-caller cap (maxStreams) bounds one caller; this bounds all of
// them, so that callers together cannot run the node out of memory.
type bodyBudget struct {
	sem   *semaphore.Weighted // nil: no budget
	limit int64               // the route's body limit (413 past it)
}

// newBodyBudget is a budget of n bytes for bodies of at most limit bytes.
func newBodyBudget(n, limit int64) *bodyBudget {
	if n <= 0 {
		return &bodyBudget{limit: limit}
	}
	return &bodyBudget{sem: semaphore.NewWeighted(n), limit: limit}
}

// errGatewayBusy refuses a body that does not fit the node's budget now.
var errGatewayBusy = errkind.New(errkind.Unavailable, "gateway_busy",
	"the gateway holds as many request bodies as it may at once; try again shortly")

// read reads r's whole body within the budget. A body that declares its
// length takes it from the budget before a byte is read; one that does not
// takes what each read returns. Either way, one that does not fit is
// refused with errGatewayBusy (retry after a second) and what it took is
// given back; release gives back the rest and must be called once the
// body is no longer held (it may be called on any path).
func (b *bodyBudget) read(r *http.Request) (body []byte, release func(), err error) {
	if b.sem == nil {
		body, err = io.ReadAll(r.Body)
		if err != nil {
			return nil, func() {}, bodyError(err)
		}
		return body, func() {}, nil
	}
	br := &budgetReader{r: r.Body, sem: b.sem}
	release = func() {
		if br.held > 0 {
			b.sem.Release(br.held)
			br.held = 0
		}
	}
	if n := r.ContentLength; n > 0 {
		// Past the route's body limit the read below fails with 413 at
		// the limit: take no more than the limit and a byte.
		n = min(n, b.limit+1)
		if !b.sem.TryAcquire(n) {
			return nil, release, errkind.WithRetry(errGatewayBusy, time.Second)
		}
		br.held = n
	}
	// Room for what was taken ahead and the read that finds the end, so a
	// body of its declared length is read without growing the buffer.
	buf := bytes.NewBuffer(make([]byte, 0, br.held+bytes.MinRead))
	_, err = buf.ReadFrom(br)
	switch {
	case errors.Is(err, errGatewayBusy):
		return nil, release, errkind.WithRetry(errGatewayBusy, time.Second)
	case err != nil:
		return nil, release, bodyError(err)
	}
	return buf.Bytes(), release, nil
}

// budgetReader takes from the budget what each read returns beyond what
// was taken ahead, from the declared length.
type budgetReader struct {
	r    io.Reader
	sem  *semaphore.Weighted
	held int64 // taken from the budget
	read int64
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	br.read += int64(n)
	if extra := br.read - br.held; extra > 0 {
		if !br.sem.TryAcquire(extra) {
			return n, errGatewayBusy
		}
		br.held += extra
	}
	return n, err
}
