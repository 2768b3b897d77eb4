package main

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
)

// TestVerifyThroughTheBinary: --verify tries each secret of an image
// against its own real service (a docker-registry with htpasswd, a
// PostgreSQL server checking passwords), once; without
// --verify-allow-host nothing is sent to 127.0.0.1.
func TestVerifyThroughTheBinary(t *testing.T) {
	reg := testenv.StartRegistry(t)
	pgURL := testenv.StartPostgresPassword(t)
	if reg == nil || pgURL == "" {
		return
	}
	wrongPG := strings.Replace(pgURL, ":"+passwordOf(t, pgURL)+"@", ":"+fakeToken("", "wrong pg", 24)+"@", 1)
	// A listener that only counts connections: a database URL names it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	counted := "mysql://app:" + fakeToken("", "counted", 24) + "@" + ln.Addr().String() + "/app"
	dockerConfig := func(pass string) string {
		auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + pass))
		return "{\n\t\"auths\": {\n\t\t\"" + reg.Host + "\": {\n\t\t\t\"auth\": \"" + auth + "\"\n\t\t}\n\t}\n}\n"
	}
	wrongReg := fakeToken("", "wrong registry password", 24)
	dir := hostileImage{layers: []hostileLayer{{tar: testimage.Tar(
		testimage.Entry{Name: "root/.docker/config.json", Body: dockerConfig(reg.Password)},
		testimage.Entry{Name: "home/ci/.docker/config.json", Body: dockerConfig(wrongReg)},
		testimage.Entry{Name: "app/config.yaml", Body: "db:\n  url: " + pgURL + "\nreplica:\n  url: " + wrongPG + "\ncache:\n  url: " + counted + "\n"},
	)}}}.write(t)
	ref := "oci:" + dir
	env := []string{"SSL_CERT_FILE=" + reg.CAFile}

	run := func(args ...string) (result, []report.Secret) {
		t.Helper()
		res := runCLI(t, env, append([]string{"--format", "json", "--exit-code", "0", "--verify"}, append(args, ref)...)...)
		var doc struct{ Secrets []report.Secret }
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
			t.Fatalf("exit %d: %v\n%s", res.code, err, res.stderr)
		}
		return res, doc.Secrets
	}
	verdictOf := func(secrets []report.Secret, path string, redactedPrefix string) *report.Verdict {
		t.Helper()
		for _, s := range secrets {
			for _, o := range s.Occurrences {
				if o.Path == path && strings.HasPrefix(s.Secret, redactedPrefix) {
					if s.Verification == nil {
						t.Fatalf("%s: no verdict", path)
					}
					return s.Verification
				}
			}
		}
		t.Fatalf("no secret at %s starting %q", path, redactedPrefix)
		return nil
	}

	// Without --verify-allow-host: nothing reaches 127.0.0.1.
	_, secrets := run()
	for _, s := range secrets {
		if s.Verification == nil || s.Verification.Status != report.Unknown {
			t.Errorf("%s %s without --verify-allow-host: %+v", s.Kind, s.Secret, s.Verification)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connections to 127.0.0.1 without --verify-allow-host", n)
	}

	res, secrets := run("--verify-allow-host", "127.0.0.1")
	for _, c := range []struct {
		path, prefix, status, identity string
	}{
		{"/root/.docker/config.json", reg.Password[:4], report.Verified, reg.Username},
		{"/home/ci/.docker/config.json", wrongReg[:4], report.Invalid, ""},
		{"/app/config.yaml", passwordOf(t, pgURL)[:4], report.Verified, "layerscan"},
		{"/app/config.yaml", passwordOf(t, wrongPG)[:4], report.Invalid, ""},
	} {
		v := verdictOf(secrets, c.path, c.prefix)
		if v.Status != c.status || c.identity != "" && v.Identity != c.identity {
			t.Errorf("%s %s…: verdict %+v, want %s %s", c.path, c.prefix, *v, c.status, c.identity)
		}
	}
	if secrets[0].Verification.Status != report.Verified {
		t.Errorf("verified secrets are not listed first: %+v", secrets[0])
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the allowed database host got %d connections, want exactly 1 (one attempt per secret)", n)
	}
	if strings.Contains(res.stdout, reg.Password) || strings.Contains(res.stdout, passwordOf(t, pgURL)) {
		t.Error("the report shows a verified password")
	}
	// --fail-on-verified gates on a working credential, whatever --fail-on says.
	gate := runCLI(t, env, "--verify", "--verify-allow-host", "127.0.0.1", "--fail-on", "critical", "--fail-on-verified", ref)
	if gate.code != 1 || !strings.Contains(gate.stdout, "VERIFIED as "+reg.Username) {
		t.Errorf("--fail-on-verified: exit %d\n%s", gate.code, gate.stdout)
	}
	if r := runCLI(t, env, "--verify-allow-host", "127.0.0.1", ref); r.code != 2 {
		t.Errorf("--verify-allow-host without --verify: exit %d", r.code)
	}
}

// passwordOf is the password of a URL with userinfo.
func passwordOf(t *testing.T, raw string) string {
	t.Helper()
	_, rest, _ := strings.Cut(raw, "://")
	userinfo, _, _ := strings.Cut(rest, "@")
	_, pass, ok := strings.Cut(userinfo, ":")
	if !ok {
		t.Fatalf("no password in %q", raw)
	}
	return pass
}
