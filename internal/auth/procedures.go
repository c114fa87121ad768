package auth

import (
	"context"
	"strconv"
	"time"

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
// app.bind that binds the credential, in a pgx.Batch, which a generated
// method (it runs its statement at once) cannot join.

// whoami binds the credential (hash, org hint, request id and device
// binding, transaction-local in the implicit transaction of the batch) and
// resolves it to a principal in one round trip, pending or not
// (Principal.Pending). With a DPoP key's thumbprint in dpop, proof is the
// verified proof: the hex SHA-256 of its jti (ward.dpop_jti) and its iat
// (ward.dpop_iat) go in one app.bind_proof; app.whoami records the jti once
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
func whoami(ctx context.Context, db *postgres.DB, cred postgres.Credential, proof DPoPProof, key, open bool) (identity.Principal, *postgres.RequestTx, whoamiRow, error) {
	p := identity.Principal{CredentialHash: cred.Hash, DPoP: cred.DPoP}
	b := &pgx.Batch{}
	// keep: what makes the proof's jti stand when the request's
	// transaction is lost before it commits (app.dpop_jti_keep, 00135).
	var keep *pgx.Batch
	if proof.JTI != "" {
		proof.queue(b)
		keep = proof.keep()
	}
	var w whoamiRow
	b.Queue(`select kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, amr, pending, break_glass,
		scopes from app.whoami()`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&w.kind, &w.credentialID, &w.userID, &w.orgID, &w.role, &w.sessionID, &w.aal, &w.authTime,
			&w.amr, &w.pending, &w.breakGlass, &w.scopes)
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
		return identity.Principal{}, nil, whoamiRow{}, err
	}
	p.Kind, p.CredentialID, p.UserID, p.OrgID = identity.CredentialKind(w.kind), w.credentialID.UUID, w.userID.UUID, w.orgID.UUID
	p.Role, p.SessionID, p.AAL, p.AMR, p.BreakGlass = identity.Role(deref(w.role)), w.sessionID.UUID, int(deref(w.aal)), w.amr, w.breakGlass
	p.AuthTime, p.Pending = deref(w.authTime), deref(w.pending)
	if key {
		// '{}' for a credential that is no API key.
		p.Scopes = w.scopes
	}
	rt.Resolved(p.OrgID.String())
	return p, rt, w, nil
}

// queue queues on b, after its binding, the proof's jti hash and iat for
// app.whoami to record (ward.dpop_jti, ward.dpop_iat; migrations 00100,
// 00112), in one app.bind_proof (00165).
func (p DPoPProof) queue(b *pgx.Batch) {
	var iat string // none: the database refuses the key (00227); complete refuses it first
	if p.IAT > 0 {
		iat = strconv.FormatInt(p.IAT, 10)
	}
	b.Queue(`select app.bind_proof($1, $2)`, jtiHash(p.JTI), iat)
}

// keep is what makes the proof's jti stand on its own, after a binding,
// when the transaction that recorded it is lost before it commits
// (app.dpop_jti_keep, 00135: it records only while the credential
// resolves with that key).
func (p DPoPProof) keep() *pgx.Batch {
	b := &pgx.Batch{}
	p.queue(b)
	b.Queue(`select app.dpop_jti_keep()`)
	return b
}

// whoamiRow is app.whoami()'s row as the database returned it, NULLs
// kept: what queueExpect compares a later resolution with.
type whoamiRow struct {
	kind                                   string
	credentialID, userID, orgID, sessionID uuid.NullUUID
	role, pending                          *string
	aal                                    *int32
	authTime                               *time.Time
	amr, scopes                            []string
	breakGlass                             bool
}

// queueExpect queues the statement that confirms, in a request's first
// tenant transaction, that the credential still resolves to exactly this
// principal (migration 00139): app.whoami() compared with w's values,
// app.stale_principal() raising CodeStalePrincipal when they differ or
// nothing resolves. Its columns are those of whoami's scan, absolute and
// idle expiry aside (a touch moves them; a lapsed session resolves to
// nothing).
func (w whoamiRow) queueExpect(b *pgx.Batch) {
	b.Queue(`select case when exists (select from app.whoami() w
		where w.kind = $1 and w.credential_id = $2 and w.org_id = $4
		  and w.user_id is not distinct from $3 and w.role is not distinct from $5
		  and w.session_id is not distinct from $6 and w.aal is not distinct from $7
		  and w.auth_time is not distinct from $8 and w.amr is not distinct from $9
		  and w.pending is not distinct from $10 and w.break_glass is not distinct from $11
		  and w.scopes is not distinct from $12) then null else app.stale_principal() end`, w.kind, w.credentialID,
		w.userID, w.orgID, w.role, w.sessionID, w.aal, w.authTime, w.amr, w.pending, w.breakGlass, w.scopes)
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
