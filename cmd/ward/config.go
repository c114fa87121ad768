package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// common holds the flags every database command takes.
type common struct {
	DataDir     string
	DatabaseURL string
	RootKey     string
	// madeRoot is the root key file keyring created because there was
	// none ("" when it loaded one): see foreignRoot.
	madeRoot string
}

// addCommon registers --data-dir, --database-url and --root-key, with
// defaults from WARD_DATA_DIR, WARD_DATABASE_URL and WARD_ROOT_KEY.
func addCommon(fs *flag.FlagSet, c *common, getenv func(string) string) {
	fs.StringVar(&c.DataDir, "data-dir", envOr(getenv, "WARD_DATA_DIR", "./var"),
		"directory for the embedded database, root key and dev TLS certificate (env WARD_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", getenv("WARD_DATABASE_URL"),
		"PostgreSQL URL instead of the embedded database (env WARD_DATABASE_URL)")
	fs.StringVar(&c.RootKey, "root-key", getenv("WARD_ROOT_KEY"),
		"root keyset file, created 0600 on first run (default DATA_DIR/root-key.json; env WARD_ROOT_KEY)")
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}

func newFlagSet(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ward %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// usageError is a command-line mistake: main prints the message first and
// the command's usage after it.
type usageError struct {
	err   error
	usage string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// parse parses args and refuses stray positional arguments. --help prints
// the usage once, on the flag set's output (stdout), and returns
// flag.ErrHelp, which run turns into success. A mistake returns a
// *usageError carrying the usage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return withUsage(fs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

// parseFlags parses args up to the first positional argument, as parse
// does, and leaves the positional arguments to the caller: the flag
// package prints nothing itself (a mistake would be printed twice, once
// on stdout by it and once on stderr by main).
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return withUsage(fs, err)
	}
	return nil
}

// withUsage returns err as a *usageError carrying fs's usage.
func withUsage(fs *flag.FlagSet, err error) error {
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	fs.Usage()
	fs.SetOutput(out)
	return &usageError{err: err, usage: b.String()}
}

func (c *common) rootKeyPath() string {
	if c.RootKey != "" {
		return c.RootKey
	}
	return filepath.Join(c.DataDir, "root-key.json")
}

// keyring loads the root key (creating it on first use); log, when not nil,
// hears of a key file that changed but no longer loads.
func (c *common) keyring(log *slog.Logger) (*envelope.Keyring, error) {
	path := c.rootKeyPath()
	_, missing := os.Stat(path)
	root, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	if errors.Is(missing, fs.ErrNotExist) {
		c.madeRoot = path
	}
	if log != nil {
		root.SetLogger(log)
	}
	return envelope.NewKeyring(root, envelope.Config{}), nil
}

// foreignRoot is err, from reading the database's instance keys, unless
// keyring made the root key file because there was none and the stored
// keysets do not unwrap under it (a root key file lost, a wrong path, a
// volume not mounted): then the new file wraps nothing and is removed, so
// that no later command finds it and wraps an org's keys under a key the
// database's other keysets do not share, and the error says the file was
// missing, not that a key is wrong.
func (c *common) foreignRoot(err error) error {
	if c.madeRoot == "" || !errors.Is(err, envelope.ErrUnwrap) {
		return err
	}
	removed := "removed"
	if rmErr := os.Remove(c.madeRoot); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		removed = "not removed (" + rmErr.Error() + "): delete it"
	}
	return fmt.Errorf("root key: there was no root key file at %s, but the database's keysets were made under a root key: "+
		"give its file (--root-key, or restore it from its backup); the new key made there wraps nothing and was %s: %w",
		c.madeRoot, removed, err)
}

// database is an opened database: the embedded cluster (when this process
// owns it, Close stops it) or an external server.
type database struct {
	cluster  *postgres.Cluster
	started  bool // this process owns the cluster's stop
	lock     *dataDirLock
	superURL string // embedded only: the cluster's superuser
	appURL   string
}

const embeddedDB = "ward"

// openDatabase starts the embedded cluster when no --database-url is given
// (creating it and the ward database on first use), or uses the URL.
//
// The process that starts the embedded cluster holds the data directory's
// lock and stops the cluster when it is done. A second `ward serve` on the
// same directory is refused; an operator command while `ward serve` runs
// uses that server's cluster (and says so) without starting or stopping it;
// a cluster found running with no ward holding the lock (left by a crash) is
// adopted, said so, and stopped by this process.
func (c *common) openDatabase(ctx context.Context, stderr io.Writer, command string) (*database, error) {
	if c.DatabaseURL != "" {
		return &database{appURL: c.DatabaseURL, superURL: c.DatabaseURL}, nil
	}
	lock, err := lockDataDir(c.DataDir, command, 30*time.Second)
	var locked *errLocked
	switch {
	case err == nil:
	case errors.As(err, &locked) && command != "serve" && locked.holder.Command == "serve":
		fmt.Fprintf(stderr, "ward: using the database of the running %s on %s\n", locked.holder, c.DataDir)
	case errors.As(err, &locked):
		return nil, fmt.Errorf("%s is in use by %s: stop it first, or pass another --data-dir", c.DataDir, locked.holder)
	default:
		return nil, err
	}
	db, err := c.openCluster(ctx, stderr, lock)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	return db, nil
}

func (c *common) openCluster(ctx context.Context, stderr io.Writer, lock *dataDirLock) (*database, error) {
	dir, err := filepath.Abs(filepath.Join(c.DataDir, "postgres"))
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// The postgres user must traverse DATA_DIR to reach the cluster;
		// traversal only (0711): the root key and TLS key stay 0600.
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		if st, err := os.Stat(c.DataDir); err == nil && st.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(c.DataDir, st.Mode().Perm()|0o011)
		}
	}
	cl, err := postgres.NewCluster(dir)
	if errors.Is(err, postgres.ErrNoServer) {
		return nil, err
	}
	if err != nil {
		// The postgres user cannot reach DATA_DIR (a parent of mode 700,
		// such as root's home): use a directory it can reach, and say so.
		sum := sha256.Sum256([]byte(dir))
		alt := filepath.Join("/var/lib/ward", hex.EncodeToString(sum[:6]), "postgres")
		if err2 := os.MkdirAll(filepath.Dir(alt), 0o755); err2 != nil {
			return nil, err
		}
		_ = os.Chmod("/var/lib/ward", 0o755)
		cl2, err2 := postgres.NewCluster(alt)
		if err2 != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "ward: %v\nward: using %s for the embedded database instead\n", err, alt)
		cl = cl2
	}
	db := &database{cluster: cl, lock: lock, superURL: cl.URL("postgres", embeddedDB), appURL: cl.URL("ward_app", embeddedDB)}
	switch pid := cl.PID(); {
	case lock == nil && pid == 0:
		return nil, fmt.Errorf("ward serve holds %s but its database is not running; restart ward serve", c.DataDir)
	case lock == nil:
		// The running ward serve owns it.
	case pid != 0:
		fmt.Fprintf(stderr, "ward: PostgreSQL (pid %d) on %s was left running by a ward process that did not stop it "+
			"(a crash?); using it, and stopping it when this process exits\n", pid, cl.Dir)
		db.started = true
	default:
		if err := cl.Start(ctx); err != nil {
			return nil, err
		}
		db.started = true
	}
	if err := ensureDatabase(ctx, cl); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func ensureDatabase(ctx context.Context, cl *postgres.Cluster) error {
	conn, err := pgx.Connect(ctx, cl.URL("postgres", "postgres"))
	if err != nil {
		return fmt.Errorf("embedded database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `select exists (select from pg_database where datname = $1)`, embeddedDB).Scan(&exists); err != nil {
		return fmt.Errorf("embedded database: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "create database "+embeddedDB); err != nil {
			return fmt.Errorf("embedded database: %w", err)
		}
	}
	return nil
}

// openChecked opens the database as openDatabase does, connects to it
// with the operator's URL (the embedded cluster's superuser, or
// --database-url) and checks that its schema is this binary's. The caller
// closes both.
func (c *common) openChecked(ctx context.Context, stderr io.Writer, command string) (*database, *postgres.DB, error) {
	dbase, err := c.openDatabase(ctx, stderr, command)
	if err != nil {
		return nil, nil, err
	}
	db, err := postgres.Open(ctx, dbase.superURL)
	if err != nil {
		dbase.Close()
		return nil, nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		dbase.Close()
		return nil, nil, err
	}
	return dbase, db, nil
}

// Close stops the embedded cluster if this process owns it, and releases
// the data directory.
func (d *database) Close() {
	if d.cluster != nil && d.started {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = d.cluster.Stop(ctx)
	}
	d.lock.Unlock()
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return bi.Main.Version + " " + s.Value[:12]
			}
		}
		return bi.Main.Version
	}
	return "(devel)"
}

// policyFlags are the instance policy flags of `serve` and `migrate`. Zero
// means "keep what the database holds" (defaults: links 15 minutes; in 15
// minutes 5 per address and source, 15 per address from all sources and 30
// per source; sessions idle at most 8 h and live at most 7 days).
type policyFlags struct {
	IdleMax        time.Duration
	AbsoluteMax    time.Duration
	LinkTTL        time.Duration
	MaxPerEmail    int
	MaxPerEmailAll int
	MaxPerIP       int
}

func addPolicyFlags(fs *flag.FlagSet, p *policyFlags) {
	fs.DurationVar(&p.IdleMax, "session-idle-max", 0, "instance cap on any org's session idle timeout (stored in the database; default 8h)")
	fs.DurationVar(&p.AbsoluteMax, "session-absolute-max", 0, "instance cap on any org's session lifetime (stored in the database; default 168h)")
	fs.DurationVar(&p.LinkTTL, "link-ttl", 0, "sign-in link lifetime, at most 1h (stored in the database; default 15m)")
	fs.IntVar(&p.MaxPerEmail, "link-rate-email", 0, "sign-in link requests per address from one source per 15 minutes (stored in the database; default 5)")
	fs.IntVar(&p.MaxPerEmailAll, "link-rate-email-all", 0, "sign-in link requests per address from all sources together per 15 minutes, at most 1000 (stored in the database; default 15)")
	fs.IntVar(&p.MaxPerIP, "link-rate-ip", 0, "sign-in link requests per client source per 15 minutes (stored in the database; default 30)")
}

func (p policyFlags) set() bool { return p != policyFlags{} }

// validate refuses, with the flag's name, a value the database's hard caps
// (instance_policy's CHECKs) would refuse, before anything starts: else
// `ward serve` started its cluster and then failed on the constraint's name.
func (p policyFlags) validate() error {
	within := func(flag string, d, lo, hi time.Duration) error {
		if d != 0 && (d%time.Minute != 0 || d < lo || d > hi) {
			return fmt.Errorf("--%s: %s is not a whole number of minutes from %s to %s", flag, d, shortDur(lo), shortDur(hi))
		}
		return nil
	}
	count := func(flag string, n, hi int) error {
		if n != 0 && (n < 1 || n > hi) {
			return fmt.Errorf("--%s: %d is not from 1 to %d", flag, n, hi)
		}
		return nil
	}
	for _, err := range []error{
		within("link-ttl", p.LinkTTL, time.Minute, time.Hour),
		within("session-idle-max", p.IdleMax, time.Minute, 24*time.Hour),
		within("session-absolute-max", p.AbsoluteMax, 5*time.Minute, 30*24*time.Hour),
		count("link-rate-email", p.MaxPerEmail, 100),
		count("link-rate-email-all", p.MaxPerEmailAll, 1000),
		count("link-rate-ip", p.MaxPerIP, 10000),
	} {
		if err != nil {
			return err
		}
	}
	if p.IdleMax != 0 && p.AbsoluteMax != 0 && p.IdleMax > p.AbsoluteMax {
		return errors.New("--session-idle-max must not exceed --session-absolute-max")
	}
	return nil
}

// shortDur prints d without its zero units (1h, 30m, 720h).
func shortDur(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}

// apply writes the set flags to the instance policy through an operator
// connection.
func (p policyFlags) apply(ctx context.Context, operatorURL string) error {
	if !p.set() {
		return nil
	}
	db, err := postgres.Open(ctx, operatorURL)
	if err != nil {
		return err
	}
	defer db.Close()
	err = auth.SetInstancePolicy(ctx, db, auth.InstancePolicy{LinkTTL: p.LinkTTL, MaxPerAddress: p.MaxPerEmail,
		MaxPerAddressAll: p.MaxPerEmailAll, MaxPerSource: p.MaxPerIP, IdleMax: p.IdleMax, AbsoluteMax: p.AbsoluteMax})
	if errors.Is(err, auth.ErrForbidden) {
		return errors.New("instance policy: this database role may not change it (use ward_ops or the migration login)")
	}
	return err
}

// serverInfo is what `ward serve` records in DATA_DIR for the operator
// commands: the public base URL it serves.
type serverInfo struct {
	BaseURL string `json:"base_url"`
}

func (c *common) serverInfoPath() string { return filepath.Join(c.DataDir, "server.json") }

// baseURL is the public URL for links printed by operator commands: the
// flag, else WARD_BASE_URL, else what the last `ward serve` on this data
// directory recorded, else the default address.
func (c *common) baseURL(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := getenv("WARD_BASE_URL"); v != "" {
		return v
	}
	if b, err := os.ReadFile(c.serverInfoPath()); err == nil {
		var si serverInfo
		if json.Unmarshal(b, &si) == nil && si.BaseURL != "" {
			return si.BaseURL
		}
	}
	addr := envOr(getenv, "WARD_ADDR", "127.0.0.1:8443")
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		port = "8443"
	}
	return "https://localhost:" + port
}

// optionalOrg reads an --org flag's value: nil when empty (every org), the
// id otherwise; a value that is no UUID is a usage error.
func optionalOrg(fs *flag.FlagSet, org string) (any, error) {
	if org == "" {
		return nil, nil
	}
	id, err := uuid.Parse(org)
	if err != nil {
		return nil, withUsage(fs, errors.New("--org: not a UUID"))
	}
	return id, nil
}
