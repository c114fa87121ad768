package scim

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The two procedures that return sets, which sqlc cannot type.

// scimMe returns the presented token's org and id (pgx.ErrNoRows when the
// credential is no live SCIM token).
func scimMe(ctx context.Context, tx pgx.Tx) (org, token uuid.UUID, err error) {
	err = tx.QueryRow(ctx, `select org_id, token_id from app.scim_me()`).Scan(&org, &token)
	return org, token, err
}

// userRow is one row of app.scim_users.
type userRow struct {
	UserID     uuid.UUID
	Role       string
	Active     bool
	EmailEnc   []byte
	ExternalID *string
	AttrsEnc   []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int32
}

// userQuery narrows app.scim_users; nil fields do not.
type userQuery struct {
	id         *uuid.UUID
	emailBidx  []byte
	externalID *string
	offset     int
	limit      int
}

// scimUsers returns one page of the token's org's Users and the number of
// matches.
func scimUsers(ctx context.Context, tx pgx.Tx, q userQuery, request string) ([]userRow, int, error) {
	rows, err := tx.Query(ctx, `select user_id, role, active, email_enc, external_id, attrs_enc, created_at, updated_at,
		  version, total from app.scim_users($1, $2, $3, $4, $5, $6)`,
		q.id, q.emailBidx, q.externalID, q.offset, q.limit, nullText(request))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []userRow
	total := 0
	for rows.Next() {
		var (
			id              *uuid.UUID
			role            *string
			active          *bool
			created, update *time.Time
			version         *int32
			n               int64
			r               userRow
		)
		if err := rows.Scan(&id, &role, &active, &r.EmailEnc, &r.ExternalID, &r.AttrsEnc, &created, &update, &version, &n); err != nil {
			return nil, 0, err
		}
		total = int(n)
		if id == nil {
			continue // a page past the end: the count only
		}
		r.UserID, r.Role, r.Active, r.CreatedAt, r.UpdatedAt, r.Version = *id, *role, *active, *created, *update, *version
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// groupRow is one row of app.scim_groups.
type groupRow struct {
	ID          uuid.UUID
	DisplayName string
	ExternalID  *string
	Role        *string
	Members     []uuid.UUID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int32
}

// groupQuery narrows app.scim_groups; nil fields do not.
type groupQuery struct {
	id          *uuid.UUID
	displayName *string
	externalID  *string
	offset      int
	limit       int
}

// scimGroups returns one page of the token's org's Groups and the number
// of matches.
func scimGroups(ctx context.Context, tx pgx.Tx, q groupQuery, request string) ([]groupRow, int, error) {
	rows, err := tx.Query(ctx, `select id, display_name, external_id, role, members, created_at, updated_at, version, total
		from app.scim_groups($1, $2, $3, $4, $5, $6)`, q.id, q.displayName, q.externalID, q.offset, q.limit, nullText(request))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []groupRow
	total := 0
	for rows.Next() {
		var (
			id              *uuid.UUID
			name            *string
			created, update *time.Time
			version         *int32
			n               int64
			r               groupRow
		)
		if err := rows.Scan(&id, &name, &r.ExternalID, &r.Role, &r.Members, &created, &update, &version, &n); err != nil {
			return nil, 0, err
		}
		total = int(n)
		if id == nil {
			continue
		}
		r.ID, r.DisplayName, r.CreatedAt, r.UpdatedAt, r.Version = *id, *name, *created, *update, *version
		out = append(out, r)
	}
	return out, total, rows.Err()
}
