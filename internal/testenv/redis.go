package testenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Redis is a running redis-server on 127.0.0.1 that requires a password:
// DefaultPassword for the default user (requirepass), and an ACL user
// User with UserPassword.
type Redis struct {
	Host            string // "127.0.0.1:PORT"
	DefaultPassword string
	User            string
	UserPassword    string
}

// StartRedis starts redis-server (Debian's redis-server) on a free
// 127.0.0.1 port with no persistence, requirepass and one ACL user, waits
// until it answers PING, and stops it when the test ends. When the binary
// is missing the test is skipped, or fails with LAYERSCAN_REQUIRE_TOOLS=1.
func StartRedis(t testing.TB, user string) *Redis {
	t.Helper()
	bin := findTool(t, "redis-server")
	if bin == "" {
		return nil
	}
	dir := t.TempDir()
	r := &Redis{DefaultPassword: randomHex(12), User: user, UserPassword: randomHex(12)}
	conf := filepath.Join(dir, "redis.conf")
	port := startDaemon(t, daemon{
		name:    "redis-server",
		logFile: filepath.Join(dir, "redis.log"),
		timeout: 20 * time.Second,
		command: func(port int) *exec.Cmd {
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir %q\nrequirepass %s\nuser %s on >%s ~* &* +@all\n",
				port, dir, r.DefaultPassword, user, r.UserPassword)
			_ = writeFile(conf, []byte(text)) // a failure shows as the server not starting
			return exec.Command(bin, conf)
		},
		ready: func(ctx context.Context, port int) error {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				return err
			}
			defer conn.Close()
			if dl, ok := ctx.Deadline(); ok {
				conn.SetDeadline(dl)
			}
			if _, err := conn.Write([]byte("PING\r\n")); err != nil {
				return err
			}
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				return err
			}
			if !strings.HasPrefix(line, "-NOAUTH") && !strings.HasPrefix(line, "+PONG") {
				return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
			}
			return nil
		},
	})
	r.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return r
}
