package auth

import (
	"context"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// The package's one hand-written SQL: everything else goes through the
// generated queries (queries/auth.sql).
//
// app.whoami is `returns setof record` with OUT parameters, which sqlc
// cannot type: it sees one column of type record (`select * from
// app.whoami()` even becomes `select whoami from app.whoami()`, a single
// composite value), and naming the OUT columns fails with `column "kind"
// does not exist`. The call also shares one round trip with the
// set_config that binds the credential, in a pgx.Batch, which a generated
// method (it runs its statement at once) cannot join.

// whoami binds the credential (hash, org hint, request id and device
// binding, transaction-local in the implicit transaction of the batch) and
// resolves it to a principal in one round trip, pending or not
// (Principal.Pending). With a DPoP key's thumbprint in dpop, proof is the
// verified proof: the hex SHA-256 of its jti (ward.dpop_jti) and its iat
// (ward.dpop_iat) go in one set_config; app.whoami records the jti once
// the credential resolved (migrations 00100, 00112) and refuses, with a
// unique violation on dpop_proofs_pkey in the same round trip, a jti seen
// before for that key or a proof not newer than the start of its jti
// memory (which a crash or a failover resets). For an API key (key: the token
// has the sk_live_ prefix) the same round trip reads its scopes and
// touches its last use (app.api_key_scopes), under the same binding. It
// returns pgx.ErrNoRows when no live credential matches.
func whoami(ctx context.Context, pool *pgxpool.Pool, credHash, orgHint, requestID, dpop string, proof DPoPProof, key bool) (identity.Principal, error) {
	p := identity.Principal{CredentialHash: credHash, DPoP: dpop}
	b := &pgx.Batch{}
	postgres.QueueBind(b, postgres.Credential{Hash: credHash, Org: orgHint, Request: requestID, DPoP: dpop})
	if proof.JTI != "" {
		var iat string // none: the database counts the proof as the oldest accepted
		if proof.IAT != 0 {
			iat = strconv.FormatInt(proof.IAT, 10)
		}
		b.Queue(`select set_config('ward.dpop_jti', $1, true), set_config('ward.dpop_iat', $2, true)`, jtiHash(proof.JTI), iat)
	}
	var role, kind string
	var sessionID uuid.NullUUID
	var pending *string
	b.Queue(`select kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, amr, pending, break_glass
		from app.whoami()`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&kind, &p.CredentialID, &p.UserID, &p.OrgID, &role, &sessionID, &p.AAL, &p.AuthTime,
			&p.AMR, &pending, &p.BreakGlass)
	})
	if key {
		// Under the same binding; for a credential that is no live key it
		// returns '{}' and changes nothing.
		b.Queue(`select app.api_key_scopes()`).QueryRow(func(row pgx.Row) error {
			return row.Scan(&p.Scopes)
		})
	}
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		return identity.Principal{}, err
	}
	p.Role = identity.Role(role)
	p.Kind = identity.CredentialKind(kind)
	p.SessionID = sessionID.UUID
	if pending != nil {
		p.Pending = *pending
	}
	return p, nil
}

// credentialStatus asks app.credential_status why the credential whose hash
// is credHash no longer resolves: "revoked", "expired", "idle", "live" (it
// does, e.g. the org hint was wrong) or "" (no such credential).
func credentialStatus(ctx context.Context, db *postgres.DB, credHash string) (string, error) {
	var status *string
	err := db.InTenantTx(ctx, postgres.Credential{Hash: credHash, Request: identity.RequestFrom(ctx).ID},
		func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select app.credential_status()`).Scan(&status)
		})
	if err != nil || status == nil {
		return "", err
	}
	return *status, nil
}
