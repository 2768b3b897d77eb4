package testenv

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MariaDB is a running MariaDB server (Debian's mariadb-server) on
// 127.0.0.1 with one account, User@'%' identified by Password, that may
// SELECT.
type MariaDB struct {
	Host     string // "127.0.0.1:PORT"
	User     string
	Password string
}

// StartMariaDB initialises a data directory with mariadb-install-db in a
// temporary directory, starts mariadbd on a free 127.0.0.1 port (its
// socket in that directory, no binary log, names not resolved) with an
// init file that creates the account user with a random password, waits
// until the account can connect, and stops the server when the test ends.
// When the binaries are missing the test is skipped, or fails with
// LAYERSCAN_REQUIRE_TOOLS=1.
func StartMariaDB(t testing.TB, user string) *MariaDB {
	t.Helper()
	server := findTool(t, "mariadbd")
	install := findTool(t, "mariadb-install-db")
	if server == "" || install == "" {
		return nil
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	m := &MariaDB{User: user, Password: randomHex(12)}
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"--user=root"} // mariadbd refuses root unless told
	}
	args := append([]string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=socket", "--skip-test-db"}, asUser...)
	var out bytes.Buffer
	cmd := exec.Command(install, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	setProcAttr(cmd)
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out.String())
		return nil
	}
	// One statement a line: mariadbd runs the init file line by line.
	init := fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s';\nGRANT SELECT ON *.* TO '%s'@'%%';\n", user, m.Password, user)
	initFile := filepath.Join(dir, "init.sql")
	if err := writeFile(initFile, []byte(init)); err != nil {
		t.Fatal(err)
	}
	port := startDaemon(t, daemon{
		name:    "mariadbd",
		logFile: filepath.Join(dir, "mariadbd.log"),
		timeout: 60 * time.Second,
		command: func(port int) *exec.Cmd {
			a := append([]string{"--no-defaults", "--datadir=" + data,
				"--socket=" + filepath.Join(dir, "mysqld.sock"), "--port=" + strconv.Itoa(port),
				"--bind-address=127.0.0.1", "--skip-name-resolve", "--skip-log-bin",
				"--pid-file=" + filepath.Join(dir, "mariadbd.pid"), "--init-file=" + initFile,
				"--innodb-buffer-pool-size=16M", "--log-error=" + filepath.Join(dir, "mariadbd.log")}, asUser...)
			return exec.Command(server, a...)
		},
		ready: func(ctx context.Context, port int) error {
			cfg := mysql.NewConfig()
			cfg.User, cfg.Passwd, cfg.Net = user, m.Password, "tcp"
			cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			conn, err := mysql.NewConnector(cfg)
			if err != nil {
				return err
			}
			db := sql.OpenDB(conn)
			defer db.Close()
			return db.PingContext(ctx)
		},
	})
	m.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return m
}
