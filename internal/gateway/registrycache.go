package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// DefaultRegistryTTL is how long a node keeps a provider's registry entry
// (Config.RegistryTTL): a change an operator makes, such as withdrawing a
// BAA or the zero-retention attestation, or narrowing the models, takes
// effect on every node within this bound.
const DefaultRegistryTTL = 5 * time.Second

// registryCache keeps the one provider entry a Service reads, for at most
// ttl after it was read from the database. Only entries read successfully
// are kept: an unregistered provider or a database error is read again on
// the next call. The gate itself (BAA date against now, zero retention,
// model) is evaluated on every call against the kept entry.
type registryCache struct {
	ttl time.Duration // ≤ 0: read on every call

	mu     sync.Mutex
	entry  Provider
	readAt time.Time // zero: nothing kept
}

// get returns the entry for name, from memory when it was read less than
// ttl before now, else from q. Errors: ErrUnknownProvider, or a database
// error.
func (c *registryCache) get(ctx context.Context, q dbsqlc.DBTX, name string, now time.Time) (Provider, error) {
	if c.ttl > 0 {
		c.mu.Lock()
		p, at := c.entry, c.readAt
		c.mu.Unlock()
		// A clock that went backwards also forces a read.
		if !at.IsZero() && p.Name == name && !now.Before(at) && now.Sub(at) < c.ttl {
			return p, nil
		}
	}
	// The time of the read is taken before it: the entry is never kept
	// longer than ttl after the database answered.
	p, err := provider(ctx, q, name)
	if err != nil || c.ttl <= 0 {
		return p, err
	}
	c.mu.Lock()
	if now.After(c.readAt) || c.entry.Name != name {
		c.entry, c.readAt = p, now
	}
	c.mu.Unlock()
	return p, nil
}
