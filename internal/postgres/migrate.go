package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// ErrUnknownSchema means the database's schema version is not one this
// binary knows: older (run `ward migrate`) or newer (upgrade Ward).
var ErrUnknownSchema = errors.New("postgres: database schema version is not the one this ward knows")

func newProvider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations())
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies the embedded migrations to the database at url, which must
// be a role that may create roles and schemas (a superuser, or the operator's
// migration login). It returns the resulting version.
func Migrate(ctx context.Context, url string) (int64, error) {
	if _, err := pgx.ParseConfig(url); err != nil {
		return 0, fmt.Errorf("postgres: migrate: bad database URL: %w", badURL(url))
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", redact(err))
	}
	defer db.Close()
	p, err := newProvider(db)
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := db.ExecContext(ctx, ReassertPrivileges); err != nil {
		return 0, fmt.Errorf("postgres: migrate: reassert privileges: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// ReassertPrivileges puts back the privileges of migration 00165 that a
// logical dump does not carry: pg_dump (and so pg_upgrade) writes no ACL
// for the language sql, so a restored database gives PUBLIC — ward_app —
// USAGE on it again, and with it a temporary SQL function that changes
// ward.credential inside a statement. Migrate runs it after every Up
// (idempotent); CheckAppRole refuses to serve while it is needed.
const ReassertPrivileges = `
revoke execute on function pg_catalog.set_config(text, text, boolean) from public;
grant execute on function pg_catalog.set_config(text, text, boolean) to ward_owner, ward_definer, ward_rls;
revoke usage on language sql from public;
revoke usage on language plpgsql from public;
grant usage on language sql to ward_owner;
grant usage on language plpgsql to ward_owner`

// CheckSchema returns ErrUnknownSchema unless the database's schema version
// equals the newest embedded migration.
func (db *DB) CheckSchema(ctx context.Context) error {
	sqldb := stdlib.OpenDBFromPool(db.Pool)
	defer sqldb.Close()
	p, err := newProvider(sqldb)
	if err != nil {
		return err
	}
	srcs := p.ListSources()
	want := srcs[len(srcs)-1].Version
	var got int64
	err = db.Pool.QueryRow(ctx, `select coalesce(max(version_id), 0) from public.goose_db_version where is_applied`).Scan(&got)
	if err != nil {
		return fmt.Errorf("%w: no migration table (run `ward migrate`)", ErrUnknownSchema)
	}
	if got != want {
		return fmt.Errorf("%w: database at version %d, this ward expects %d", ErrUnknownSchema, got, want)
	}
	return nil
}
