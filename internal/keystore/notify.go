package keystore

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// KeysChannel is the channel on which the database announces that an
// org's keysets changed: replaced (rotation, a root rewrap) or destroyed
// (`ward org shred`). The payload is the org's id (migration 00268).
const KeysChannel = "ward_keys"

// Forgetter drops cached unwrapped keys: *envelope.Keyring.
type Forgetter interface {
	Forget(org uuid.UUID)
	ForgetAll()
}

// ListenForget listens on KeysChannel over a connection of its own, made
// with cfg, and makes f forget an org's keys whenever the database
// announces a change to them, until ctx ends. Every node runs it, so a
// shred reaches every node's memory at once instead of within the cache's
// lifetime. A notice sent while the connection was down is lost, so after
// each reconnection f forgets every org (the next request unwraps again).
// ready, if not nil, is called each time the listener is in place.
func ListenForget(ctx context.Context, cfg *pgx.ConnConfig, f Forgetter, log *slog.Logger, ready func()) {
	backoff := time.Second
	for first := true; ctx.Err() == nil; first = false {
		err := listenOnce(ctx, cfg, f, !first, ready)
		if ctx.Err() != nil {
			return
		}
		log.Warn("key change notices: listening failed; retrying", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, f Forgetter, again bool, ready func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "listen "+KeysChannel); err != nil {
		return err
	}
	if again {
		f.ForgetAll()
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if org, err := uuid.Parse(n.Payload); err == nil {
			f.Forget(org)
		}
	}
}
