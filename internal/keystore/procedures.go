package keystore

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// The package's SQL, all of it hand-written: the key store is read and
// written only through app.org_keyset, app.instance_keyset and
// app.ensure_instance_keyset (migrations/00004, 00006), and each is
// `returns setof record` with OUT parameters, which sqlc cannot type. It
// sees one column of type record: `select * from app.org_keyset($1)`
// becomes `select org_keyset from app.org_keyset($1)`, a single composite
// value scanned into interface{}; naming the OUT columns fails with
// `column "purpose" does not exist`; an alias list (`as k(purpose,
// wrapped)`) types both columns as interface{}. Casting each column would
// only restate the types by hand. There are no table queries to generate.

// querier is what the key-store functions run on: a pgx.Tx, *pgx.Conn or
// *pgxpool.Pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// orgKeysetSQL is app.org_keyset's call, for orgKeyset and Store.QueueOrg.
const orgKeysetSQL = `select purpose, wrapped from app.org_keyset($1)`

// orgKeyset calls app.org_keyset(org).
func orgKeyset(ctx context.Context, q querier, org uuid.UUID) (envelope.Wrapped, error) {
	rows, err := q.Query(ctx, orgKeysetSQL, org)
	return scanWrapped(rows, err)
}

// instanceKeyset calls app.instance_keyset().
func instanceKeyset(ctx context.Context, q querier) (envelope.Wrapped, error) {
	rows, err := q.Query(ctx, `select purpose, wrapped from app.instance_keyset()`)
	return scanWrapped(rows, err)
}

// ensureInstanceKeyset calls app.ensure_instance_keyset with fresh keysets
// and returns the stored ones.
func ensureInstanceKeyset(ctx context.Context, q querier, fresh envelope.Wrapped) (envelope.Wrapped, error) {
	rows, err := q.Query(ctx, `select purpose, wrapped from app.ensure_instance_keyset($1, $2)`, fresh.AEAD, fresh.PRF)
	return scanWrapped(rows, err)
}

// scanWrapped reads (purpose, wrapped) rows from a query that returned
// rows and qerr. A missing keyset is ErrNoKeys; database errors come back as
// they are, for the caller to wrap.
func scanWrapped(rows pgx.Rows, qerr error) (envelope.Wrapped, error) {
	var w envelope.Wrapped
	if qerr != nil {
		return w, qerr
	}
	defer rows.Close()
	for rows.Next() {
		var purpose string
		var blob []byte
		if err := rows.Scan(&purpose, &blob); err != nil {
			return envelope.Wrapped{}, err
		}
		switch purpose {
		case "aead":
			w.AEAD = blob
		case "prf":
			w.PRF = blob
		}
	}
	if err := rows.Err(); err != nil {
		return envelope.Wrapped{}, err
	}
	if w.AEAD == nil || w.PRF == nil {
		return envelope.Wrapped{}, ErrNoKeys
	}
	return w, nil
}
