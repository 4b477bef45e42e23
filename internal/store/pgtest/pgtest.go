// Package pgtest starts a throwaway PostgreSQL server for tests, from the
// binaries Debian's postgresql package installs (or any initdb, pg_ctl
// and postgres found together), so the store contract suite runs against
// a real PostgreSQL without Docker or a shared server.
//
// One server is started per test binary, on first use, on a free port of
// 127.0.0.1 with its data directory and unix socket in a temporary
// directory. Each DSN call creates a fresh database that the test's
// cleanup drops. Stop the server from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Even without that, the server dies with the test binary (its parent-death
// signal is set), so no postgres outlives `go test`; only its temporary
// directory would be left behind.
//
// The server trades durability for speed (fsync=off): never point it at
// data you want to keep. When running as root, as CI containers do, the
// server runs as the "postgres" system user (PostgreSQL refuses to run as
// root). Tests are skipped, not failed, when no binaries are found.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDirEnv names an environment variable that, when set, is the directory
// holding initdb, pg_ctl and postgres, overriding the search.
const BinDirEnv = "IAMD_PG_BIN"

// Server is a running throwaway PostgreSQL.
type Server struct {
	dir     string // temporary directory: data/, socket, log
	port    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the postgres process has exited
	waitErr error
	dbs     atomic.Int64
}

// FindBinDir returns a directory holding initdb, pg_ctl and postgres:
// $IAMD_PG_BIN, else the newest /usr/lib/postgresql/*/bin (Debian's
// layout, where the binaries are not on PATH), else the directory of
// initdb on PATH after following symlinks (on some machines
// /usr/local/bin/initdb is a link into /usr/lib/postgresql).
func FindBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv(BinDirEnv); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("pgtest: $%s=%s has no initdb and postgres", BinDirEnv, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	return "", errors.New("pgtest: no PostgreSQL binaries (initdb, postgres) in /usr/lib/postgresql/*/bin or on PATH; install Debian's postgresql package or set " + BinDirEnv)
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start initializes and starts a new server. The caller must Stop it.
func Start() (*Server, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "iamd-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		// The server's user must own its data directory; the temp dir is
		// created 0700 by root.
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = dir // the child's user may not be able to read our cwd
	initdb.Env = env()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}

	// A free port can be taken between our probe and postgres binding it;
	// try a few.
	for attempt := 0; ; attempt++ {
		err = s.startPostgres(bin, data, cred)
		if err == nil {
			break
		}
		if attempt == 2 {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

func (s *Server) startPostgres(bin, data string, cred *syscall.Credential) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()

	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy

	// postgres itself, not pg_ctl: pg_ctl daemonizes, and a daemon would
	// outlive a test binary that crashes or times out. As our child,
	// postgres gets SIGQUIT (immediate shutdown) when we die.
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", // throwaway data; makes CREATE DATABASE and commits fast
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "logging_collector=off",
	)
	cmd.Dir = s.dir
	cmd.Env = env()
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		Pdeathsig:  syscall.SIGQUIT,
		Setpgid:    true, // a ^C to `go test` reaches us, not postgres directly
	}
	started := make(chan error, 1)
	s.exited = make(chan struct{})
	exited := s.exited
	// Pdeathsig fires when the *thread* that forked the child exits, not
	// the process. Go may retire an idle thread, so fork from a goroutine
	// locked to its thread and keep that thread in Wait for the child's
	// whole life.
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(exited)
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(exited)
		// Returning while locked ends this thread, which is what we want.
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.cmd = cmd

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("pgtest: postgres exited: %v\n%s", s.waitErr, tail(log))
		case <-ctx.Done():
			s.Stop()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("pgtest: postgres did not accept connections within 60s: %v\n%s", err, tail(log))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// credential returns who the server runs as: nil (ourselves) unless we are
// root, which PostgreSQL refuses; then the postgres user Debian's package
// creates, or nobody.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("pgtest: running as root and there is no postgres or nobody user to run PostgreSQL as")
}

// env is a minimal environment: no PG* variables of the caller leak into
// the server, and a C locale keeps messages and sorting predictable.
func env() []string {
	return []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "LANG=C", "TZ=UTC"}
}

func tail(b []byte) string {
	const n = 4000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func (s *Server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// CreateDatabase creates a new empty database and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context) (name, dsn string, err error) {
	name = fmt.Sprintf("t%d_%d", os.Getpid(), s.dbs.Add(1))
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return "", "", err
	}
	defer conn.Close(ctx)
	// FILE_COPY (PostgreSQL 15+) copies the template's files instead of
	// WAL-logging every block: 3× faster here, and with fsync=off its
	// checkpoint costs nothing. Older servers lack the option.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 STRATEGY FILE_COPY"); err != nil {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
			return "", "", fmt.Errorf("pgtest: create database: %w", err)
		}
	}
	return name, s.dsn(name), nil
}

// DropDatabase drops a database, disconnecting anyone still using it.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Stop shuts the server down (fast shutdown: clients are disconnected)
// and removes its directory.
func (s *Server) Stop() error {
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-s.exited:
			case <-time.After(30 * time.Second):
				s.cmd.Process.Signal(syscall.SIGQUIT)
				select {
				case <-s.exited:
				case <-time.After(5 * time.Second):
					s.cmd.Process.Kill()
					<-s.exited
				}
			}
		}
	}
	if s.dir != "" {
		return os.RemoveAll(s.dir)
	}
	return nil
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the test binary's server, starting it on first use.
func Shared() (*Server, error) {
	shared.once.Do(func() { shared.srv, shared.err = Start() })
	return shared.srv, shared.err
}

// DSN returns the DSN of a new, empty database on the shared server and
// drops the database when t ends. It skips t when no PostgreSQL binaries
// are installed, and fails it when they are but the server cannot start.
func DSN(t testing.TB) string {
	t.Helper()
	if _, err := FindBinDir(); err != nil {
		t.Skip(err)
	}
	srv, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	name, dsn, err := srv.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled in cleanups.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.DropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dsn
}

// Main runs the tests and then stops the shared server if one was
// started. Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop:", err)
		}
	}
	return code
}

// Stopped reports whether the server process has exited; tests use it to
// check that nothing is left running.
func (s *Server) Stopped() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Pid returns the postmaster's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }
