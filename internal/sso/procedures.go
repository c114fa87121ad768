package sso

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// begun is a row of app.sso_begin, which sqlc cannot type.
type begun struct {
	org, conn            uuid.UUID
	kind, issuer, client string
}

// ssoBegin records a sign-in state and returns the connection it goes to
// (pgx.ErrNoRows when nothing routes).
func ssoBegin(ctx context.Context, tx pgx.Tx, domain *string, org, conn *uuid.UUID, stateHash, binderHash []byte) (begun, error) {
	var b begun
	var issuer, client *string
	err := tx.QueryRow(ctx, `select org_id, connection_id, kind, issuer, client_id from app.sso_begin($1, $2, $3, $4, $5)`,
		domain, org, conn, stateHash, binderHash).Scan(&b.org, &b.conn, &b.kind, &issuer, &client)
	if issuer != nil {
		b.issuer = *issuer
	}
	if client != nil {
		b.client = *client
	}
	return b, err
}
