package verify

// Tests against real servers started by the tests (internal/testenv):
// docker-registry, PostgreSQL, MariaDB, Redis, git-http-backend behind
// lighttpd, verdaccio. Each takes a right and a wrong credential, found
// the way a scan finds them (FromFile/FromText), and checks the verdict
// and the identity the server reports.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for the admin connection

	"github.com/layerscan/layerscan/internal/testenv"
)

// only returns the single credential of kind in cs.
func only(t *testing.T, cs []Credential, kind string) Credential {
	t.Helper()
	var out []Credential
	for _, c := range cs {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	if len(out) != 1 {
		t.Fatalf("want one %s credential, got %+v", kind, cs)
	}
	return out[0]
}

func TestRegistryRealServer(t *testing.T) {
	reg := testenv.StartRegistry(t)
	cfg, err := os.ReadFile(filepath.Join(reg.DockerConfigDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := only(t, FromFile("/root/.docker/config.json", cfg), KindDockerRegistry)
	if c.Host != reg.Host || c.Username != reg.Username || c.Secret != reg.Password {
		t.Fatalf("parsed %+v from the registry's config.json", c)
	}
	v := loopback(Options{RootCAs: reg.RootCAs()})
	defer v.Close()
	check(t, v, c, StatusVerified, reg.Username)

	wrong := c
	wrong.Secret = fakeHex(t, 16)
	check(t, v, wrong, StatusInvalid, "")

	// The same credential from a RUN line of the image's history.
	line := fmt.Sprintf("/bin/sh -c docker login -u %s -p %s %s && docker push %s/app", reg.Username, reg.Password, reg.Host, reg.Host)
	fromRun := only(t, FromText(line), KindDockerRegistry)
	check(t, v, fromRun, StatusVerified, reg.Username)

	// Without the test CA the registry's certificate is not trusted: unknown.
	untrusting := loopback(Options{})
	defer untrusting.Close()
	r := check(t, untrusting, c, StatusUnknown, "")
	if !strings.Contains(r.Reason, "certificate") {
		t.Errorf("reason %q does not say the certificate was not trusted", r.Reason)
	}
}

func TestPostgresRealServer(t *testing.T) {
	admin := testenv.StartPostgresPassword(t)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	password := fakeHex(t, 12)
	if _, err := db.Exec(fmt.Sprintf(`CREATE ROLE app_reader LOGIN PASSWORD '%s'`, password)); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	env := fmt.Sprintf("DATABASE_URL=postgresql://app_reader:%s@%s/layerscan?sslmode=disable", password, u.Host)
	c := only(t, FromText(env), KindPostgres)
	v := loopback(Options{})
	defer v.Close()
	check(t, v, c, StatusVerified, "app_reader")

	wrong := c
	wrong.Secret = fakeHex(t, 12)
	check(t, v, wrong, StatusInvalid, "")

	// A .pgpass line for the same role, without a database.
	pgpass := fmt.Sprintf("# comment\n%s:%s:*:app_reader:%s\n", u.Hostname(), u.Port(), password)
	fromPgpass := only(t, FromFile("/home/app/.pgpass", []byte(pgpass)), KindPostgres)
	check(t, v, fromPgpass, StatusVerified, "app_reader")

	// The password is checked before the database: a right password for a
	// database that does not exist is still verified.
	noDB := c
	noDB.URL = "postgres://" + u.Host + "/no_such_database"
	r := check(t, v, noDB, StatusVerified, "app_reader")
	if !strings.Contains(r.Reason, "does not exist") {
		t.Errorf("reason %q does not say the database does not exist", r.Reason)
	}
}

func TestMariaDBRealServer(t *testing.T) {
	m := testenv.StartMariaDB(t, "app")
	c := only(t, FromText(fmt.Sprintf("JDBC=jdbc:mysql://app:%s@%s/mysql", m.Password, m.Host)), KindMySQL)
	v := loopback(Options{})
	defer v.Close()
	check(t, v, c, StatusVerified, "app@%")

	wrong := c
	wrong.Secret = fakeHex(t, 12)
	check(t, v, wrong, StatusInvalid, "")

	mariadbURL := only(t, FromText(fmt.Sprintf("mariadb://app:%s@%s", m.Password, m.Host)), KindMySQL)
	check(t, v, mariadbURL, StatusVerified, "app@%")
}

func TestRedisRealServer(t *testing.T) {
	r := testenv.StartRedis(t, "alice")
	v := loopback(Options{})
	defer v.Close()

	acl := only(t, FromText(fmt.Sprintf("REDIS_URL=redis://alice:%s@%s/0", r.UserPassword, r.Host)), KindRedis)
	check(t, v, acl, StatusVerified, "alice")
	wrongACL := acl
	wrongACL.Secret = fakeHex(t, 12)
	check(t, v, wrongACL, StatusInvalid, "")

	def := only(t, FromText(fmt.Sprintf("CACHE=redis://:%s@%s", r.DefaultPassword, r.Host)), KindRedis)
	check(t, v, def, StatusVerified, "default")
	wrongDef := def
	wrongDef.Secret = fakeHex(t, 12)
	check(t, v, wrongDef, StatusInvalid, "")
}

func TestGitHTTPRealServer(t *testing.T) {
	g := testenv.StartGitHTTP(t, "alice")
	u, err := url.Parse(g.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	gitConfig := fmt.Sprintf("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = http://alice:%s@%s/git/private.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n", g.Password, u.Host)
	c := only(t, FromFile("/src/app/.git/config", []byte(gitConfig)), KindGitHTTP)
	if c.URL != g.BaseURL+"/git/private.git" {
		t.Fatalf("URL %q", c.URL)
	}
	v := loopback(Options{})
	defer v.Close()
	check(t, v, c, StatusVerified, "alice")

	wrong := c
	wrong.Secret = fakeHex(t, 12)
	check(t, v, wrong, StatusInvalid, "")

	// A public repository answers anyone: the credential proves nothing.
	public := c
	public.URL = g.BaseURL + "/public/public.git"
	res := check(t, v, public, StatusUnknown, "")
	if !strings.Contains(res.Reason, "without credentials") {
		t.Errorf("reason %q", res.Reason)
	}
}

func TestNPMVerdaccioRealServer(t *testing.T) {
	vd := testenv.StartVerdaccio(t, "bob")
	u, err := url.Parse(vd.URL)
	if err != nil {
		t.Fatal(err)
	}
	npmrc := fmt.Sprintf("registry=%s\n//%s/:_authToken=%s\nalways-auth=true\n", vd.URL, u.Host, vd.Token)
	c := only(t, FromFile("/home/node/.npmrc", []byte(npmrc)), KindNPM)
	if c.URL != vd.URL {
		t.Fatalf("URL %q, want %q", c.URL, vd.URL)
	}
	v := loopback(Options{})
	defer v.Close()
	check(t, v, c, StatusVerified, "bob")

	wrong := c
	wrong.Secret = fakeHex(t, 24)
	check(t, v, wrong, StatusInvalid, "")
}

// The context of a test, for the servers' own calls.
var _ = context.Background
