package testenv

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// postgresStartTimeout bounds how long StartPostgres waits for the server.
const postgresStartTimeout = 30 * time.Second

// postgresBin finds a PostgreSQL server executable: on PATH, or where
// Debian's postgresql package puts it (/usr/lib/postgresql/VERSION/bin,
// newest first).
func postgresBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// StartPostgres starts a throw-away PostgreSQL server (Debian's postgresql
// package): initdb into a temporary directory, the server on a free
// 127.0.0.1 port with its unix socket in that directory, and a database
// "layerscan" created. It returns the database URL and stops the server,
// removing its files, when the test ends. PostgreSQL refuses to run as
// root: as root the server runs as the user postgres (created when
// missing). When the binaries are missing the test is skipped, or fails
// with LAYERSCAN_REQUIRE_TOOLS=1.
func StartPostgres(t testing.TB) string {
	t.Helper()
	dsn, stop := StartPostgresShared(t)
	if stop != nil {
		t.Cleanup(stop)
	}
	return dsn
}

// StartPostgresShared is StartPostgres for a server that outlives the test
// starting it (one server for a package's tests, stopped from TestMain):
// the caller stops it with stop.
func StartPostgresShared(t testing.TB) (dsn string, stop func()) {
	t.Helper()
	return startPostgres(t, "")
}

// StartPostgresPassword is StartPostgres for a server that checks
// passwords (scram-sha-256 over TCP): the user layerscan has a random
// password, which the returned URL holds.
func StartPostgresPassword(t testing.TB) string {
	t.Helper()
	dsn, stop := startPostgres(t, randomHex(12))
	if stop != nil {
		t.Cleanup(stop)
	}
	return dsn
}

// startPostgres starts the server; with a password, TCP connections must
// give it (scram-sha-256).
func startPostgres(t testing.TB, password string) (dsn string, stop func()) {
	t.Helper()
	initdb, server := postgresBin("initdb"), postgresBin("postgres")
	if initdb == "" || server == "" {
		if os.Getenv(RequireToolsEnv) == "1" {
			t.Fatalf("PostgreSQL (initdb, postgres) not found and %s=1: install it with `apt-get install postgresql`", RequireToolsEnv)
			return "", nil
		}
		t.Skipf("PostgreSQL (initdb, postgres) not found; install the Debian package \"postgresql\" to run this test (set %s=1 to make this a failure)", RequireToolsEnv)
		return "", nil
	}
	cred, err := postgresCredential()
	if err != nil {
		t.Fatalf("postgres: %v", err)
		return "", nil
	}
	// Not t.TempDir(): its parents are private to the test's user, and the
	// server may run as another.
	dir, err := os.MkdirTemp("", "layerscan-pg-")
	if err != nil {
		t.Fatal(err)
	}
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	stops = append(stops, func() { os.RemoveAll(dir) })
	fail := func(format string, args ...any) {
		t.Helper()
		stop()
		t.Fatalf(format, args...)
	}
	data := filepath.Join(dir, "data")
	logFile := filepath.Join(dir, "postgres.log")
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			fail("%v", err)
		}
	}
	run := func(cmd *exec.Cmd) {
		t.Helper()
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			fail("%s: %v\n%s", cmd, err, out.String())
		}
	}
	initArgs := []string{"-D", data, "-U", "layerscan", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"}
	userinfo := "layerscan"
	if password != "" {
		pwfile := filepath.Join(dir, "pwfile")
		if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
			fail("%v", err)
		}
		if cred != nil {
			if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
				fail("%v", err)
			}
		}
		initArgs = append(initArgs, "--auth-host=scram-sha-256", "--pwfile="+pwfile)
		userinfo = "layerscan:" + password
	}
	run(exec.Command(initdb, initArgs...))

	var cmd *exec.Cmd
	var port int
	for attempt := range registryStartAttempts {
		port, err = freePort()
		if err != nil {
			fail("%v", err)
		}
		lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fail("%v", err)
		}
		cmd = exec.Command(server, "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
			"-c", "fsync=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
		cmd.Stdout, cmd.Stderr = lf, lf
		if err := cmd.Start(); err != nil {
			lf.Close()
			fail("starting postgres: %v", err)
		}
		lf.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		if waitPostgres(userinfo, port, done) {
			stops = append(stops, func() {
				cmd.Process.Signal(syscall.SIGINT) // fast shutdown
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					cmd.Process.Kill()
					<-done
				}
			})
			break
		}
		cmd.Process.Kill()
		<-done
		if attempt == registryStartAttempts-1 {
			b, _ := os.ReadFile(logFile)
			fail("postgres did not start within %s:\n%s", postgresStartTimeout, b)
		}
	}
	admin := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", userinfo, port)
	db, err := sql.Open("pgx", admin)
	if err == nil {
		_, err = db.Exec(`CREATE DATABASE layerscan`)
		db.Close()
	}
	if err != nil {
		fail("creating the database: %v", err)
	}
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/layerscan?sslmode=disable", userinfo, port), stop
}

// waitPostgres waits until the server accepts a connection, or exited.
func waitPostgres(userinfo string, port int, exited <-chan struct{}) bool {
	dsn := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", userinfo, port)
	deadline := time.Now().Add(postgresStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if db, err := sql.Open("pgx", dsn); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
			if err == nil {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// postgresCredential is who the server runs as: nil (ourselves) unless we
// are root, then the user postgres, created when missing.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("creating the user postgres: %v: %s", err, out)
		}
		if u, err = user.Lookup("postgres"); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// NewPostgresDatabase creates the database name on the server of dsn (a
// URL StartPostgres returned) and returns the URL of the new database:
// one server, a database per test or per run.
func NewPostgresDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
