package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// DeviceTTL is how long a browser stays known after a sign-in
// (app.remember_device keeps a device for 30 days; the cookie lasts as long).
const DeviceTTL = 30 * 24 * time.Hour

// RememberDevice records that the browser holding the returned device token
// completed a sign-in as the member whose new session token is sessToken.
// Presented with a later link request for that member's address
// (LinkRequest.Device), it lifts the per-address limit that anyone can fill
// (migration 00144). The database accepts it in the session's first minute
// only; ok is false afterwards. Only the token's hash is stored.
func (s *Service) RememberDevice(ctx context.Context, sessToken string) (device string, ok bool, err error) {
	device, hash := newSecret()
	cred := postgres.Credential{Hash: identity.HashToken(sessToken), Request: requestID(ctx)}
	err = s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select app.remember_device($1)`, hash).Scan(&ok)
	})
	if err != nil {
		return "", false, fmt.Errorf("auth: remember device: %w", err)
	}
	if !ok {
		return "", false, nil
	}
	return device, true, nil
}
