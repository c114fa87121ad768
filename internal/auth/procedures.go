package auth

import (
	"context"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
// has the sk_live_ prefix) app.whoami also returns its scopes and touches
// its last use (migration 00115; app.api_key_scopes before). It returns
// pgx.ErrNoRows when no live credential matches.
//
// With open, the batch begins a transaction that stays open after the
// check (postgres.RequestTx): the principal is sealed in it (migration
// 00134), and the request's first tenant transaction continues it instead
// of resolving the credential again. No RequestTx comes back with an
// error; what the check wrote (a token-reuse revocation) is committed.
func whoami(ctx context.Context, db *postgres.DB, cred postgres.Credential, proof DPoPProof, key, open bool) (identity.Principal, *postgres.RequestTx, error) {
	p := identity.Principal{CredentialHash: cred.Hash, DPoP: cred.DPoP}
	b := &pgx.Batch{}
	// keep: what makes the proof's jti stand when the request's
	// transaction is lost before it commits (app.dpop_jti_keep, 00135).
	var keep *pgx.Batch
	if proof.JTI != "" {
		var iat string // none: the database counts the proof as the oldest accepted
		if proof.IAT != 0 {
			iat = strconv.FormatInt(proof.IAT, 10)
		}
		const proofSQL = `select set_config('ward.dpop_jti', $1, true), set_config('ward.dpop_iat', $2, true)`
		b.Queue(proofSQL, jtiHash(proof.JTI), iat)
		keep = &pgx.Batch{}
		keep.Queue(proofSQL, jtiHash(proof.JTI), iat)
		keep.Queue(`select app.dpop_jti_keep()`)
	}
	var role, kind string
	var sessionID uuid.NullUUID
	var pending *string
	var scopes []string
	b.Queue(`select kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, amr, pending, break_glass,
		scopes from app.whoami()`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&kind, &p.CredentialID, &p.UserID, &p.OrgID, &role, &sessionID, &p.AAL, &p.AuthTime,
			&p.AMR, &pending, &p.BreakGlass, &scopes)
	})
	var rt *postgres.RequestTx
	var err error
	if open {
		// A proof's jti stands whatever the request's transaction does:
		// recorded before a savepoint, and again on its own (keep) when
		// the transaction is lost before it commits.
		rt, err = db.OpenRequestTx(ctx, cred, b, keep)
	} else {
		err = db.InTenantBatch(ctx, cred, b)
	}
	if err != nil {
		return identity.Principal{}, nil, err
	}
	if key {
		// '{}' for a credential that is no API key.
		p.Scopes = scopes
	}
	p.Role = identity.Role(role)
	p.Kind = identity.CredentialKind(kind)
	p.SessionID = sessionID.UUID
	if pending != nil {
		p.Pending = *pending
	}
	rt.Resolved(p.OrgID.String())
	return p, rt, nil
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
