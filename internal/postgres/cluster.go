package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoServer means the PostgreSQL server binaries (initdb, pg_ctl) were not found.
var ErrNoServer = errors.New("postgres: server binaries (initdb, pg_ctl) not found; install them with `apt-get install -y postgresql` (Debian) or put their directory on PATH")

// Cluster is a private PostgreSQL cluster that Ward creates and manages under a
// data directory. It listens only on a Unix socket inside that directory (and
// on loopback when Port is set), so it never collides with a server already on
// 5432, and only its owner can reach it.
type Cluster struct {
	// Dir is the cluster's directory: pgdata/ (the data), run/ (the socket),
	// and postgres.log.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres.
	BinDir string
	// Port, when non-zero, also listens on 127.0.0.1:Port (and names the
	// socket file after it).
	Port int

	// Unsafe turns off fsync and synchronous commit: for throwaway test
	// clusters only, never for data anyone keeps.
	Unsafe bool

	cred *syscall.Credential // set when started as root: run as the postgres user
	uid  int
	gid  int
}

// socketPort is the port number in the socket file name when Cluster.Port is
// unset; nothing listens on TCP then.
const socketPort = 5432

// NewCluster prepares (but does not start) a cluster under dir. When the
// process runs as root, PostgreSQL runs as the `postgres` system user, which
// must be able to reach dir: if it cannot, NewCluster returns an error that
// says so. It returns ErrNoServer when the server binaries are missing.
func NewCluster(dir string) (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("postgres: cluster dir: %w", err)
	}
	c := &Cluster{Dir: abs, BinDir: bin, uid: os.Getuid(), gid: os.Getgid()}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("postgres: running as root needs the `postgres` system user (PostgreSQL refuses to run as root): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		c.uid, c.gid = uid, gid
		if p := unreachableParent(abs); p != "" {
			return nil, fmt.Errorf("postgres: the postgres system user cannot reach %s (its parent %s is not searchable by others); choose a data directory such as /var/lib/ward", abs, p)
		}
	}
	return c, nil
}

// FindBinDir finds the directory of the PostgreSQL server binaries: the one on
// PATH holding initdb and pg_ctl, else the newest /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	return findBinDir("/usr/lib/postgresql/*/bin")
}

func findBinDir(debianGlob string) (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExec(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(debianGlob)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoServer
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// unreachableParent returns the first ancestor of dir that others cannot
// search (execute bit for "other" unset), or "" when all can be traversed.
func unreachableParent(dir string) string {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err == nil && st.Mode().Perm()&0o001 == 0 {
			return p
		}
		if p == "/" || p == "." {
			return ""
		}
	}
}

func (c *Cluster) dataDir() string   { return filepath.Join(c.Dir, "pgdata") }
func (c *Cluster) socketDir() string { return filepath.Join(c.Dir, "run") }
func (c *Cluster) logFile() string   { return filepath.Join(c.Dir, "postgres.log") }

// Initialized reports whether the cluster's data directory exists.
func (c *Cluster) Initialized() bool {
	_, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION"))
	return err == nil
}

// Start creates the cluster on first use (initdb, superuser `postgres`,
// trust auth on its private socket only) and starts it, removing a stale
// postmaster.pid left by a crash. It waits until the server accepts
// connections.
func (c *Cluster) Start(ctx context.Context) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("postgres: create %s: %w", c.Dir, err)
	}
	for _, d := range []string{c.Dir, c.socketDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("postgres: create %s: %w", d, err)
		}
		if err := os.Chown(d, c.uid, c.gid); err != nil {
			return fmt.Errorf("postgres: chown %s: %w", d, err)
		}
	}
	if !c.Initialized() {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}
	c.removeStalePID()
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses='%s' -c unix_socket_permissions=0700",
		c.socketDir(), c.port(), c.listen())
	if c.Unsafe {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	return c.pgctl(ctx, "start", "-w", "-t", "60", "-l", c.logFile(), "-o", opts)
}

func (c *Cluster) port() int {
	if c.Port != 0 {
		return c.Port
	}
	return socketPort
}

func (c *Cluster) listen() string {
	if c.Port != 0 {
		return "127.0.0.1"
	}
	return ""
}

func (c *Cluster) initdb(ctx context.Context) error {
	// Run initdb into a temporary directory and rename it into place, so a
	// crash mid-initdb never leaves a half-created cluster behind.
	tmp := c.dataDir() + ".init"
	_ = os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "initdb"),
		"-D", tmp, "-U", "postgres", "-E", "UTF8", "--locale=C",
		"--auth-local=trust", "--auth-host=scram-sha-256")
	if out, err := c.run(cmd); err != nil {
		return fmt.Errorf("postgres: initdb failed: %w\n%s", err, out)
	}
	if err := os.Rename(tmp, c.dataDir()); err != nil {
		return fmt.Errorf("postgres: finish initdb: %w", err)
	}
	return nil
}

func (c *Cluster) pidFile() string { return filepath.Join(c.dataDir(), "postmaster.pid") }

// postmasterPID reads the pid in postmaster.pid; ok is false when the file
// is missing (err nil) or malformed (err set).
func (c *Cluster) postmasterPID() (pid int, ok bool, err error) {
	b, err := os.ReadFile(c.pidFile())
	if err != nil {
		return 0, false, nil
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err = strconv.Atoi(strings.TrimSpace(string(line)))
	if err != nil || pid <= 0 {
		return 0, false, fmt.Errorf("postgres: bad pid file %s", c.pidFile())
	}
	return pid, true, nil
}

// isPostgres reports whether pid is a running postgres server process.
func isPostgres(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(cmdline, []byte("postgres"))
}

// removeStalePID deletes postmaster.pid when it is malformed or the process
// it names is gone or is not a postgres server (a pid reused after a crash or
// a reboot).
func (c *Cluster) removeStalePID() {
	pid, ok, err := c.postmasterPID()
	if err != nil || (ok && !isPostgres(pid)) {
		_ = os.Remove(c.pidFile())
	}
}

// Running reports whether a server is running on the cluster (started by
// another ward process, say).
func (c *Cluster) Running() bool { return c.PID() != 0 }

// PID is the running server's process id, or 0 when none runs.
func (c *Cluster) PID() int {
	pid, ok, _ := c.postmasterPID()
	if !ok || !isPostgres(pid) {
		return 0
	}
	return pid
}

// Stop shuts the cluster down (fast mode: rolls back open transactions).
func (c *Cluster) Stop(ctx context.Context) error {
	if _, err := os.Stat(c.pidFile()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return c.pgctl(ctx, "stop", "-m", "fast", "-w", "-t", "60")
}

// Kill stops the postmaster with SIGKILL, as a crash would. Tests use it.
func (c *Cluster) Kill() error {
	pid, ok, err := c.postmasterPID()
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("postgres: kill: no postmaster.pid")
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) error {
	all := append([]string{"-D", c.dataDir()}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "pg_ctl"), all...)
	if out, err := c.run(cmd); err != nil {
		tail := ""
		if b, err := os.ReadFile(c.logFile()); err == nil {
			if len(b) > 2000 {
				b = b[len(b)-2000:]
			}
			tail = "\nserver log (tail):\n" + string(b)
		}
		return fmt.Errorf("postgres: pg_ctl %s failed: %w\n%s%s", args[0], err, out, tail)
	}
	return nil
}

func (c *Cluster) run(cmd *exec.Cmd) ([]byte, error) {
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		cmd.Env = append(cmd.Env, "HOME="+c.Dir)
	}
	// pg_ctl start leaves the postmaster running with our stdout open if we
	// capture it through a pipe; write to a file instead.
	f, err := os.CreateTemp("", "ward-pgctl-*.out")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return out, err
}

// URL returns a connection URL for the given role and database over the
// cluster's Unix socket.
func (c *Cluster) URL(role, database string) string {
	q := url.Values{}
	q.Set("host", c.socketDir())
	q.Set("port", strconv.Itoa(c.port()))
	q.Set("sslmode", "disable")
	return (&url.URL{Scheme: "postgres", User: url.User(role), Path: "/" + database, RawQuery: q.Encode()}).String()
}

// SocketDir is the directory of the cluster's Unix socket, and SocketPort
// the port number in its name: what psql and pgbench take as -h and -p.
func (c *Cluster) SocketDir() string { return c.socketDir() }

// SocketPort is the port number in the socket file's name.
func (c *Cluster) SocketPort() int { return c.port() }

// PsqlCommand returns the shell command that opens psql on the cluster as
// the superuser.
func (c *Cluster) PsqlCommand(database string) string {
	return fmt.Sprintf("psql -h %s -p %d -U postgres %s", c.socketDir(), c.port(), database)
}

// WaitReady polls until the server accepts connections or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	for {
		if _, err := os.Stat(filepath.Join(c.socketDir(), fmt.Sprintf(".s.PGSQL.%d", c.port()))); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
