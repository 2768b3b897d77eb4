package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// GitHTTP is a running lighttpd serving git's smart HTTP protocol
// (git-http-backend as CGI) on 127.0.0.1: BaseURL+"/git/private.git"
// requires basic auth (User, Password), BaseURL+"/public/public.git"
// does not.
type GitHTTP struct {
	BaseURL  string // "http://127.0.0.1:PORT"
	User     string
	Password string
	// AccessLog lists the requests the server answered, one a line
	// ("STATUS METHOD URL USER"), for tests about what was sent.
	AccessLog string
}

// StartGitHTTP creates two bare repositories and serves them with
// lighttpd (Debian's lighttpd) and git-http-backend (Debian's git), basic
// auth from a plain user file, on a free 127.0.0.1 port, and stops it when
// the test ends. When a binary is missing the test is skipped, or fails
// with LAYERSCAN_REQUIRE_TOOLS=1.
func StartGitHTTP(t testing.TB, user string) *GitHTTP {
	t.Helper()
	lighttpd := findTool(t, "lighttpd")
	git := RequireTool(t, "git")
	if lighttpd == "" || git == "" {
		return nil
	}
	backend := firstExisting("/usr/lib/git-core/git-http-backend", "/usr/libexec/git-core/git-http-backend")
	if backend == "" {
		RequireTool(t, "git-http-backend")
		return nil
	}
	dir := t.TempDir()
	g := &GitHTTP{User: user, Password: randomHex(12), AccessLog: filepath.Join(dir, "access.log")}
	repos := filepath.Join(dir, "repos")
	for _, name := range []string{"private.git", "public.git"} {
		var out bytes.Buffer
		cmd := exec.Command(git, "init", "--quiet", "--bare", filepath.Join(repos, name))
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out.String())
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(dir, "users"), []byte(user+":"+g.Password+"\n")); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "lighttpd.conf")
	q := strconv.Quote
	port := startDaemon(t, daemon{
		name:    "lighttpd",
		logFile: filepath.Join(dir, "lighttpd.log"),
		timeout: 20 * time.Second,
		command: func(port int) *exec.Cmd {
			text := `server.document-root = ` + q(filepath.Join(dir, "www")) + `
server.port = ` + strconv.Itoa(port) + `
server.bind = "127.0.0.1"
server.errorlog = ` + q(filepath.Join(dir, "lighttpd.log")) + `
server.modules = ("mod_auth", "mod_authn_file", "mod_alias", "mod_setenv", "mod_cgi", "mod_accesslog")
accesslog.filename = ` + q(g.AccessLog) + `
accesslog.format = "%s %m %U%q %u"
alias.url = ("/git/" => ` + q(backend+"/") + `, "/public/" => ` + q(backend+"/") + `)
$HTTP["url"] =~ "^/(git|public)/" {
  cgi.assign = ("" => "")
  setenv.add-environment = ("GIT_PROJECT_ROOT" => ` + q(repos) + `, "GIT_HTTP_EXPORT_ALL" => "1")
}
auth.backend = "plain"
auth.backend.plain.userfile = ` + q(filepath.Join(dir, "users")) + `
auth.require = ("/git/" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
`
			_ = writeFile(conf, []byte(text)) // a failure shows as the server not starting
			return exec.Command(lighttpd, "-D", "-f", conf)
		},
		ready: func(ctx context.Context, port int) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet,
				fmt.Sprintf("http://127.0.0.1:%d/public/public.git/info/refs?service=git-upload-pack", port), nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("public info/refs answered %s", resp.Status)
			}
			return nil
		},
	})
	g.BaseURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return g
}
