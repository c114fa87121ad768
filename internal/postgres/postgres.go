// Package postgres is Ward's shared database plumbing: the embedded cluster,
// connection pools, embedded migrations, the callback transaction helpers that
// bind every transaction to the caller's credential, and error mapping.
//
// Rules:
//   - The server's pool logs in as ward_app; CheckAppRole refuses a role that
//     is superuser, BYPASSRLS or CREATEROLE, is a member of another role, or
//     owns anything.
//   - Every tenant transaction starts with one statement that sets
//     ward.credential (the SHA-256 of the presented token, hex), ward.org (a
//     hint) and ward.request, transaction-local. The database resolves the
//     credential itself; see migrations/00002_create_tenancy.sql.
//   - Transactions are callbacks: InTx / InTenantTx commit when the callback
//     returns nil and roll back on error or panic. InTenantBatch is the one
//     exception, for a transaction whose statements are all known before it
//     starts (a lone audit event): it sends them, bound, in one round trip.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the embedded migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

// DB is a pool of connections as one database role.
type DB struct {
	Pool *pgxpool.Pool
}

// An Option adjusts a pool before Open connects it.
type Option func(*pgxpool.Config)

// MaxConns sizes the pool at n connections, whatever the URL says.
func MaxConns(n int32) Option { return func(c *pgxpool.Config) { c.MaxConns = n } }

// DefaultMaxConns is the pool size when the URL does not set one
// (pool_max_conns): max(8, 4 × CPUs). pgxpool's own default, max(4, CPUs),
// is 4 on a small machine, which a few slow requests can all hold.
func DefaultMaxConns() int32 { return int32(max(8, 4*runtime.NumCPU())) }

// poolConfig parses url: the pool size is the URL's pool_max_conns, else
// DefaultMaxConns; then opts.
func poolConfig(url string, opts []Option) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad database URL: %w", badURL(url))
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns()
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "ward"
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	for _, o := range opts {
		o(cfg)
	}
	return cfg, nil
}

// Open connects a pool to url and pings it. The pool holds the URL's
// pool_max_conns connections at most, else DefaultMaxConns. It returns an
// error naming the problem, never the URL's password.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// OpenAs is Open with every connection switched to role (SET ROLE) before
// use: for an operator login that is a member of a narrower role, such as
// ward_audit_reader.
func OpenAs(ctx context.Context, url, role string, opts ...Option) (*DB, error) {
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		_, err := c.Exec(ctx, "set role "+pgx.Identifier{role}.Sanitize())
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect as %s: %w", role, err)
	}
	return &DB{Pool: pool}, nil
}

func redact(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse the connection string")
	}
	return err
}

// badURL says which part of a connection string that did not parse is
// wrong, without repeating it (it may hold a password).
func badURL(raw string) error {
	scheme, rest, ok := strings.Cut(raw, "://")
	switch {
	case !ok && strings.Contains(raw, "="):
		return errors.New("cannot parse the key=value connection string (check quoting and the port)")
	case !ok:
		return errors.New("not a connection string: use postgres://USER:PASSWORD@HOST:PORT/DATABASE")
	case scheme != "postgres" && scheme != "postgresql":
		return fmt.Errorf("scheme %q: use postgres:// or postgresql://", scheme)
	}
	authority, _, _ := strings.Cut(rest, "/")
	authority, _, _ = strings.Cut(authority, "?")
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		authority = authority[i+1:]
	}
	for _, hostport := range strings.Split(authority, ",") {
		if i := strings.LastIndex(hostport, ":"); i >= 0 && !strings.HasSuffix(hostport, "]") {
			port := hostport[i+1:]
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("port %q is not a number 1..65535", port)
			}
		}
	}
	if _, q, ok := strings.Cut(rest, "?"); ok {
		if v, err := url.ParseQuery(q); err != nil {
			return errors.New("the parameters after ? do not parse")
		} else if m := v.Get("sslmode"); m != "" && !slices.Contains([]string{"disable", "allow", "prefer", "require",
			"verify-ca", "verify-full"}, m) {
			return fmt.Errorf("sslmode %q: use disable, allow, prefer, require, verify-ca or verify-full", m)
		}
	}
	return errors.New("cannot parse the connection string (percent-encode @, : and / in the user name and password)")
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Credential identifies who is asking, for the database to resolve: Hash is
// the hex SHA-256 of the presented session token or API key (empty for an
// anonymous request), Org an optional org hint, Request the request id,
// DPoP the thumbprint of the key whose proof the server verified for this
// request (empty without one; a session bound to a key resolves only with
// it).
type Credential struct {
	Hash    string
	Org     string
	Request string
	// DPoP is the device binding the server verified for this request
	// (ward.dpop): a DPoP key's thumbprint, BrowserBinding, or empty.
	DPoP string
}

// CredentialOf is the credential of principal p for request: its hash, its
// device binding and its org as the hint, so that the database resolves
// exactly the principal the server authenticated.
func CredentialOf(p identity.Principal, request string) Credential {
	return Credential{Hash: p.CredentialHash, DPoP: p.DPoP, Org: p.OrgID.String(), Request: request}
}

// BrowserBinding is the ward.dpop of a request whose session came in the
// browser's session cookie (Secure, HttpOnly, SameSite=Strict) through the
// same-origin checks: such a session counts as bound to that browser for
// an org's device_binding_required_for (migration 00062).
const BrowserBinding = "browser"

// BrowserCredential binds a transaction to the session a browser presented
// in its session cookie (none when session is ""), as the server's check of
// a cookie does: for pages that read a token without spending it (a
// sign-in link's or an invitation's landing) and ask who is signed in.
func BrowserCredential(session, request string) Credential {
	cred := Credential{Request: request}
	if session != "" {
		cred.Hash, cred.DPoP = identity.HashToken(session), BrowserBinding
	}
	return cred
}

type txKey struct{}

// ErrNestedTx is returned when a transaction helper is called inside another.
var ErrNestedTx = errors.New("postgres: nested transaction")

// InTx runs fn in a transaction and commits when it returns nil. It rolls
// back on error or panic (re-panicking). Nested calls return ErrNestedTx.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) (err error) {
	return db.inTx(ctx, pgx.TxOptions{}, fn)
}

func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) (err error) {
	if ctx.Value(txKey{}) != nil {
		return ErrNestedTx
	}
	// A deferred check no transaction of this kind can take over runs
	// first, on its own: nothing runs on a principal found stale, and a
	// request served again writes once (confirmBefore).
	if err := confirmBefore(ctx); err != nil {
		return err
	}
	EndRequestTx(ctx)
	tx, err := db.Pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{}, true), tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// InTenantTx runs fn in a transaction bound to cred and to ctx's client:
// the transaction starts with `begin; select app.bind('…', '…', '…', '…',
// '…', '…')` in one round trip, so the settings hold for this transaction
// only. The values are embedded as literals only when the credential's
// are strictly hex, a UUID and token characters and the client's address
// and User-Agent hold no quote, backslash or NUL (literalSafe: the
// literal is then exactly what format's %L writes); anything else is
// bound as parameters in a second statement. When ctx carries a
// request transaction (RequestTx) that cred may continue, fn runs in it
// instead, and its commit ends it.
func (db *DB) InTenantTx(ctx context.Context, cred Credential, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if ctx.Value(txKey{}) != nil {
		return ErrNestedTx
	}
	conn, durable, confirm, err := continued(ctx, cred)
	switch {
	case err != nil:
		return err
	case conn != nil:
		return txOn(ctx, conn, durable, fn)
	case confirm != nil:
		return db.confirmedTx(ctx, cred, confirm, fn)
	}
	ip, ua := clientOf(ctx)
	if !cred.valid() || !literalSafe(ip) || !literalSafe(ua) {
		return db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, bindSQL, BindArgs(ctx, cred)...); err != nil {
				return fmt.Errorf("postgres: bind credential: %w", err)
			}
			return fn(ctx, tx)
		})
	}
	begin := fmt.Sprintf("begin; select app.bind('%s', '%s', '%s', '%s', '%s', '%s')",
		cred.Hash, cred.Org, cred.Request, cred.DPoP, ip, ua)
	return db.inTx(ctx, pgx.TxOptions{BeginQuery: begin}, fn)
}

// bindSQL binds a credential, transaction-local, as parameters. app.bind
// binds only as a statement of its own, this text or the literal form
// InTenantTx begins with (migration 00165): a credential never changes
// inside a statement. With the credential it binds the request's client
// address and User-Agent (00270), which every audit event of the
// transaction records unless its writer names others.
const bindSQL = `select app.bind($1, $2, $3, $4, $5, $6)`

// BindSQL is bindSQL for a caller that binds in a transaction of its own,
// with BindArgs as its parameters.
const BindSQL = bindSQL

// BindArgs are BindSQL's parameters for cred in a request's ctx: the
// credential hash, org hint, request id and device key, then the client
// address and User-Agent of ctx's identity.Request ("" outside a request).
func BindArgs(ctx context.Context, cred Credential) []any {
	ip, ua := clientOf(ctx)
	return []any{cred.Hash, cred.Org, cred.Request, cred.DPoP, ip, ua}
}

// QueueBind queues on b, which must be empty, the statement that binds cred
// and ctx's client (as parameters, whatever their form) for the implicit
// transaction of the batch: a batch sent outside a transaction runs as one
// transaction, so the binding holds for the statements queued after it and
// ends with the batch.
func QueueBind(ctx context.Context, b *pgx.Batch, cred Credential) {
	b.Queue(bindSQL, BindArgs(ctx, cred)...)
}

// clientOf is the client address (without a zone) and cleaned User-Agent
// of ctx's request.
func clientOf(ctx context.Context) (ip, ua string) {
	r := identity.RequestFrom(ctx)
	if r.IP.IsValid() {
		ip = r.IP.WithZone("").String()
	}
	return ip, r.UserAgent
}

// literalSafe reports whether s may stand between single quotes in the
// literal binding as format's %L writes it: no quote or backslash (which
// %L would double; a backslash makes it an escape-string literal), no NUL,
// valid UTF-8. Anything else is bound as a parameter.
func literalSafe(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, "'\\\x00")
}

// InTenantBatch runs b's queued statements as one transaction bound to
// cred, sent with the binding in one round trip (InTenantTx takes three for
// a single statement: begin and bind, the statement, commit). The
// transaction commits when every statement succeeds; when one fails, none
// of them takes effect and its error comes back (each queued statement's
// callback sees its own result first). A statement the connection has not
// prepared yet costs one more round trip, once per connection. Called inside
// another transaction helper's callback it returns ErrNestedTx. When ctx
// carries a request transaction (RequestTx) that cred may continue, b's
// statements and the commit run in it, in one round trip.
func (db *DB) InTenantBatch(ctx context.Context, cred Credential, b *pgx.Batch) error {
	if ctx.Value(txKey{}) != nil {
		return ErrNestedTx
	}
	conn, durable, confirm, err := continued(ctx, cred)
	switch {
	case err != nil:
		return err
	case conn != nil:
		return batchOn(ctx, conn, durable, b)
	case confirm != nil && (confirm.Keep != nil || confirm.Wait != nil):
		return db.confirmedBatch(ctx, cred, confirm, b)
	}
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 2+b.Len())}
	QueueBind(ctx, all, cred)
	if confirm != nil {
		confirm.Queue(all)
	}
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	if confirm == nil {
		return db.Pool.SendBatch(ctx, all).Close()
	}
	conn, err = db.Pool.Acquire(ctx)
	if err != nil {
		untakeConfirm(ctx, confirm) // never ran
		return fmt.Errorf("postgres: acquire: %w", err)
	}
	defer conn.Release()
	err = conn.SendBatch(ctx, all).Close()
	if err != nil && pgconn.SafeToRetry(err) {
		untakeConfirm(ctx, confirm) // nothing was sent: the check never ran
	}
	return confirm.ran(err) // a check with Keep or Wait went to confirmedBatch
}

func (c Credential) valid() bool {
	if c.Hash != "" && (len(c.Hash) != 64 || strings.Trim(c.Hash, "0123456789abcdef") != "") {
		return false
	}
	if c.Org != "" {
		if _, err := uuid.Parse(c.Org); err != nil || len(c.Org) != 36 {
			return false
		}
	}
	if len(c.Request) > 64 || strings.Trim(c.Request, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") != "" {
		return false
	}
	if c.DPoP != "" && c.DPoP != BrowserBinding && (len(c.DPoP) != 43 ||
		strings.Trim(c.DPoP, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != "") {
		return false
	}
	return true
}

// CheckAppRole returns an error unless the pool's role is neither superuser
// nor BYPASSRLS nor CREATEROLE, is a member of no other role (whose
// privileges it could use or SET ROLE to), owns no schema, table or
// function, may call no set_config and create no function (USAGE on no
// trusted language): either would let it change its credential inside a
// statement (migration 00165). The error names the role and the reason.
func (db *DB) CheckAppRole(ctx context.Context) error {
	var role string
	var super, bypass, createrole bool
	var owned int
	var memberOf, langs []string
	var setConfig bool
	err := db.Pool.QueryRow(ctx, `
		select r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole,
		  (select count(*) from pg_class c where c.relowner = r.oid and c.relnamespace not in
		     (select oid from pg_namespace where nspname in ('pg_catalog', 'information_schema') or nspname like 'pg_toast%'))
		  + (select count(*) from pg_namespace n where n.nspowner = r.oid and n.nspname <> 'public')
		  + (select count(*) from pg_proc p where p.proowner = r.oid and p.pronamespace not in
		     (select oid from pg_namespace where nspname in ('pg_catalog', 'information_schema'))),
		  array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
		         where m.member = r.oid order by 1),
		  array(select l.lanname::text from pg_language l
		         where l.lanpltrusted and has_language_privilege(r.oid, l.oid, 'USAGE') order by 1),
		  has_function_privilege(r.oid, 'pg_catalog.set_config(text, text, boolean)', 'EXECUTE')
		from pg_roles r where r.rolname = current_user`).Scan(&role, &super, &bypass, &createrole, &owned, &memberOf, &langs, &setConfig)
	if err != nil {
		return fmt.Errorf("postgres: check role: %w", err)
	}
	switch {
	case super:
		return fmt.Errorf("postgres: refusing to serve as %q: it is a superuser (connect as ward_app)", role)
	case bypass:
		return fmt.Errorf("postgres: refusing to serve as %q: it has BYPASSRLS (connect as ward_app)", role)
	case createrole:
		return fmt.Errorf("postgres: refusing to serve as %q: it has CREATEROLE and could grant itself other roles (connect as ward_app)", role)
	case len(memberOf) > 0:
		return fmt.Errorf("postgres: refusing to serve as %q: it is a member of %s, whose privileges it could use (connect as ward_app, which belongs to no role)",
			role, strings.Join(memberOf, ", "))
	case owned > 0:
		return fmt.Errorf("postgres: refusing to serve as %q: it owns %d database objects (connect as ward_app)", role, owned)
	case setConfig:
		return fmt.Errorf("postgres: refusing to serve as %q: it may call set_config and so change its credential inside a statement (run `ward migrate`, which revokes it from PUBLIC)", role)
	case len(langs) > 0:
		return fmt.Errorf("postgres: refusing to serve as %q: it may create functions in %s and so change its credential inside a statement (run `ward migrate`, which revokes USAGE from PUBLIC; a restored dump does not keep that)",
			role, strings.Join(langs, ", "))
	}
	return nil
}

// IsCode reports whether err is a PostgreSQL error with the given SQLSTATE.
func IsCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// The refusals a procedure names in its hint (SQLSTATE 42501), each one
// errkind sentinel whichever service called the procedure: Refusal returns
// them.
var (
	// ErrStepUpRequired: the session did not present a second factor
	// within the last 10 minutes.
	ErrStepUpRequired = errkind.New(errkind.Forbidden, "step_up_required", "postgres: step-up required").
				WithPublic("present a second factor again (TOTP or a passkey), then retry within 10 minutes")
	// ErrPasskeyStepUpRequired: the action needs one of the member's
	// passkeys presented first (a TOTP code does not vouch for a new
	// passkey).
	ErrPasskeyStepUpRequired = errkind.New(errkind.Forbidden, "passkey_step_up_required", "postgres: passkey step-up required").
					WithPublic("present one of your passkeys first, then retry within 10 minutes")
	// ErrBreakGlassNotAllowed: a break-glass session asked to change
	// configuration or credentials; emergency access only reads records.
	ErrBreakGlassNotAllowed = errkind.New(errkind.Forbidden, "break_glass_not_allowed", "postgres: not from break-glass").
				WithPublic("emergency access reads records; it changes no configuration or credential")
)

// Hint returns the hint of a PostgreSQL error with SQLSTATE code (a
// procedure's reason for a refusal, such as patient_shredded), "" for any
// other error.
func Hint(err error, code string) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == code {
		return pe.Hint
	}
	return ""
}

// Refusal returns the sentinel of a procedure's refusal that names its
// reason in the hint (SQLSTATE 42501, hint step_up_required,
// passkey_step_up_required or break_glass_not_allowed), or nil for any
// other error: a service maps it before its other 42501 errors, so each
// refusal reaches the client with its own code.
func Refusal(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != CodeInsufficientPrivilege {
		return nil
	}
	switch pe.Hint {
	case "step_up_required":
		return ErrStepUpRequired
	case "passkey_step_up_required":
		return ErrPasskeyStepUpRequired
	case "break_glass_not_allowed":
		return ErrBreakGlassNotAllowed
	}
	return nil
}

// SQLSTATEs the subsystems map to their own errors.
const (
	CodeInsufficientPrivilege = "42501" // also: RLS WITH CHECK violation
	CodeUniqueViolation       = "23505"
	CodeForeignKeyViolation   = "23503"
	CodeCheckViolation        = "23514"
	CodeNoDataFound           = "P0002"
	CodeInvalidParameter      = "22023"
	CodeInvalidTextRep        = "22P02"
)
