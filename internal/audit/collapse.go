package audit

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// Collapser collapses a flood of refusals by one credential into counted
// events, so that a client looping over random ids cannot turn every probe
// into an audit write (and, while appends serialise per org, slow every
// other member of the org). Within each window a credential's first Limit
// refusals are recorded one by one; after that every Batch-th refusal is
// recorded with the number it stands for, and the remainder rides on the
// credential's first recorded refusal of a later window. Nothing is
// dropped from the count except, at most, the last Batch-1 refusals of a
// credential that never comes back. Its zero value is not usable: use
// NewCollapser. It is safe for concurrent use and bounded in memory.
type Collapser struct {
	limit, batch int
	window       time.Duration

	mu sync.Mutex
	m  map[uuid.UUID]*refusals
}

type refusals struct {
	start   time.Time
	n       int // refusals this window
	pending int // refusals not yet counted in any event
}

// maxTracked bounds the credentials a Collapser remembers; past it,
// credentials whose window has ended are forgotten.
const maxTracked = 50000

// NewCollapser returns a Collapser recording limit refusals per credential
// per window one by one, then one event per batch.
func NewCollapser(limit, batch int, window time.Duration) *Collapser {
	return &Collapser{limit: limit, batch: batch, window: window, m: map[uuid.UUID]*refusals{}}
}

// Admit is called for each refusal of credential. It reports whether to
// record an event, and how many refusals that event stands for (1, or more
// when it collapses several: record the number in the event's details).
func (c *Collapser) Admit(credential uuid.UUID, now time.Time) (record bool, count int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[credential]
	if r == nil {
		if len(c.m) >= maxTracked {
			for id, x := range c.m {
				if now.Sub(x.start) >= c.window {
					delete(c.m, id)
				}
			}
		}
		r = &refusals{start: now}
		c.m[credential] = r
	}
	if now.Sub(r.start) >= c.window {
		r.start, r.n = now, 0
	}
	r.n++
	if r.n <= c.limit {
		count, r.pending = r.pending+1, 0
		return true, count
	}
	r.pending++
	if r.pending >= c.batch {
		count, r.pending = r.pending, 0
		return true, count
	}
	return false, 0
}
