package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// JTIRotateInterval is how often `ward serve` asks the database to expire
// the DPoP jti memory's stale ring (RunDPoPJTIRotation): at least three
// calls per node fall in the two minutes of each ten-minute slot in which
// the ring may go.
const JTIRotateInterval = 30 * time.Second

// RotateDPoPJTIs truncates the DPoP jti memory's stale ring if it is due
// (app.dpop_jti_rotate, migration 00236), in a transaction of its own, so
// that no request's transaction holds the ring's lock. The database
// decides from its own clock whether a ring is due and which one; it does
// so at most once a slot and never waits for a lock, so every node may
// call it at any time. It reports whether this call truncated the ring.
func (s *Service) RotateDPoPJTIs(ctx context.Context) (bool, error) {
	var rotated bool
	err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		rotated, err = dbsqlc.New(tx).RotateDPoPJTIs(ctx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("auth: rotate DPoP jti memory: %w", err)
	}
	return rotated, nil
}

// RunDPoPJTIRotation calls RotateDPoPJTIs at once and then every interval
// until ctx ends; a failure is logged and the next call tries again.
func (s *Service) RunDPoPJTIRotation(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rotated, err := s.RotateDPoPJTIs(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.WarnContext(ctx, "expiring the DPoP jti memory's stale ring failed; retrying", "err", err)
		case rotated:
			s.log.DebugContext(ctx, "expired the DPoP jti memory's stale ring")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
