package verify

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The secrets here are made up for these tests.

func TestFromFile(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, path, content string
		want                []Credential
	}{
		{
			name: "docker config.json",
			path: "root/.docker/config.json",
			content: `{"auths":{
				"https://index.docker.io/v1/":{"auth":"` + enc("hubuser:hub-pass-7f3a") + `"},
				"ghcr.io":{"username":"ci","password":"gh-reg-pass-91"},
				"http://localhost:5000":{"identitytoken":"idtok-4e1b2c"},
				"reg.example.com:8443":{"auth":"!!notbase64"}},
				"credsStore":"desktop"}`,
			want: []Credential{
				{Kind: KindDockerRegistry, Secret: "gh-reg-pass-91", Username: "ci", URL: "https://ghcr.io", Host: "ghcr.io:443"},
				{Kind: KindDockerRegistry, Secret: "idtok-4e1b2c", Username: identityToken, URL: "http://localhost:5000", Host: "localhost:5000"},
				{Kind: KindDockerRegistry, Secret: "hub-pass-7f3a", Username: "hubuser", URL: "https://registry-1.docker.io", Host: "registry-1.docker.io:443"},
			},
		},
		{
			name:    "legacy .dockercfg",
			path:    "/home/u/.dockercfg",
			content: `{"quay.io":{"auth":"` + enc("q:quay-pass-55") + `","email":"a@b"}}`,
			want:    []Credential{{Kind: KindDockerRegistry, Secret: "quay-pass-55", Username: "q", URL: "https://quay.io", Host: "quay.io:443"}},
		},
		{
			name: ".pgpass",
			path: "/root/.pgpass",
			content: "# host:port:db:user:password\n" +
				"db.internal:5433:orders:app:pa\\:ss-1\n" +
				"*:*:*:any:wild-skip\n" +
				"pg.example.com:*:*:report:rep-pass-2\n",
			want: []Credential{
				{Kind: KindPostgres, Secret: "pa:ss-1", Username: "app", Host: "db.internal:5433", URL: "postgres://db.internal:5433/orders"},
				{Kind: KindPostgres, Secret: "rep-pass-2", Username: "report", Host: "pg.example.com:5432", URL: "postgres://pg.example.com:5432"},
			},
		},
		{
			name:    ".netrc",
			path:    "/root/.netrc",
			content: "machine git.example.com\n  login deploy\n  password netrc-pass-3\ndefault login anonymous password x@y\n",
			want: []Credential{
				{Kind: KindHTTPBasic, Secret: "netrc-pass-3", Username: "deploy", Host: "git.example.com:443", URL: "https://git.example.com/"},
				// an @ in a URL's userinfo must be escaped: "x@y" is no credential URL, and default names no machine
			},
		},
		{
			name:    ".git-credentials",
			path:    "/root/.git-credentials",
			content: "https://bot:gitcred-pass-4@git.example.com\nhttps://bot2:gitcred-pass-5@git.example.com/team/repo.git\n",
			want: []Credential{
				{Kind: KindGitHTTP, Secret: "gitcred-pass-4", Username: "bot", Host: "git.example.com:443", URL: "https://git.example.com"},
				{Kind: KindGitHTTP, Secret: "gitcred-pass-5", Username: "bot2", Host: "git.example.com:443", URL: "https://git.example.com/team/repo.git"},
			},
		},
		{
			name: ".npmrc",
			path: "/app/.npmrc",
			content: "registry=https://npm.example.com/repo/\n" +
				"//registry.npmjs.org/:_authToken=npm-tok-6a\n" +
				"//npm.example.com/repo/:_auth=" + enc("ci:npm-pass-7") + "\n" +
				"//other.example.com/:_authToken=${NPM_TOKEN}\n" +
				"_authToken=npm-bare-8\n",
			want: []Credential{
				{Kind: KindNPM, Secret: "npm-tok-6a", URL: "https://registry.npmjs.org/", Host: "registry.npmjs.org:443"},
				{Kind: KindNPM, Secret: "npm-pass-7", Username: "ci", URL: "https://npm.example.com/repo/", Host: "npm.example.com:443"},
				{Kind: KindNPM, Secret: "npm-bare-8", URL: "https://npm.example.com/repo/", Host: "npm.example.com:443"},
			},
		},
		{
			name:    ".git/config",
			path:    "/src/.git/config",
			content: "[remote \"origin\"]\n\turl = https://ci:gitcfg-pass-9@git.example.com/team/app\n",
			want: []Credential{
				{Kind: KindGitHTTP, Secret: "gitcfg-pass-9", Username: "ci", Host: "git.example.com:443", URL: "https://git.example.com/team/app"},
			},
		},
		{
			name: "aws credentials",
			path: "/root/.aws/credentials",
			content: "[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = 0123456789abcdefghijABCDEFGHIJ0123456789\n" +
				"[other]\naws_access_key_id=AKIAZXCVBNMQWERTYUIO\n",
			want: []Credential{
				{Kind: KindAWS, KeyID: "AKIAQWERTYUIOPASDFGH", Secret: "0123456789abcdefghijABCDEFGHIJ0123456789", Host: awsDefaultHost},
			},
		},
		{
			name:    "URLs in any file",
			path:    "/app/config/settings.yaml",
			content: "db: postgresql://svc:url-pass-10@db.example.com/app?sslmode=require\ncache: 'rediss://:url-pass-11@cache.example.com:6380/0'\napi: https://u:url-pass-12@api.example.com/v1\n",
			want: []Credential{
				{Kind: KindPostgres, Secret: "url-pass-10", Username: "svc", Host: "db.example.com:5432", URL: "postgresql://db.example.com/app?sslmode=require"},
				{Kind: KindRedis, Secret: "url-pass-11", Host: "cache.example.com:6380", URL: "rediss://cache.example.com:6380/0"},
				{Kind: KindHTTPBasic, Secret: "url-pass-12", Username: "u", Host: "api.example.com:443", URL: "https://api.example.com/v1"},
			},
		},
		{name: "nothing", path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromFile(tt.path, []byte(tt.content))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromFile(%s) =\n%+v\nwant\n%+v", tt.path, got, tt.want)
			}
		})
	}
}

func TestFromText(t *testing.T) {
	hub := func(user, pass string) Credential {
		return Credential{Kind: KindDockerRegistry, Secret: pass, Username: user, URL: "https://registry-1.docker.io", Host: "registry-1.docker.io:443"}
	}
	reg := func(host, user, pass string) Credential {
		return Credential{Kind: KindDockerRegistry, Secret: pass, Username: user, URL: "https://" + host, Host: host + ":443"}
	}
	tests := []struct {
		text string
		want []Credential
	}{
		{`/bin/sh -c docker login -u ci -p login-pass-1 reg.example.com && docker pull reg.example.com/x`, []Credential{reg("reg.example.com", "ci", "login-pass-1")}},
		{`RUN docker login --username=ci --password=login-pass-2`, []Credential{hub("ci", "login-pass-2")}},
		{`echo login-pass-3 | docker login -u ci --password-stdin reg.example.com:5000`,
			[]Credential{{Kind: KindDockerRegistry, Secret: "login-pass-3", Username: "ci", URL: "https://reg.example.com:5000", Host: "reg.example.com:5000"}}},
		{`podman login -uci -p'login pass 4' quay.io; podman push quay.io/x`, []Credential{reg("quay.io", "ci", "login pass 4")}},
		{`docker login -u ci -p "$REG_PASS" reg.example.com`, nil},
		{`docker login reg.example.com`, nil},
		{`DATABASE_URL=mysql://app:text-pass-5@mysql.example.com:3307/shop`,
			[]Credential{{Kind: KindMySQL, Secret: "text-pass-5", Username: "app", Host: "mysql.example.com:3307", URL: "mysql://mysql.example.com:3307/shop"}}},
		{`GIT_REMOTE=http://bot:text%40pass-6@10.0.0.5:8080/scm/app.git`,
			[]Credential{{Kind: KindGitHTTP, Secret: "text@pass-6", Username: "bot", Host: "10.0.0.5:8080", URL: "http://10.0.0.5:8080/scm/app.git"}}},
		{`PG=postgres://user:${PGPASSWORD}@db/app`, nil},
		{`AWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH AWS_SECRET_ACCESS_KEY=0123456789abcdefghijABCDEFGHIJ0123456789`,
			[]Credential{{Kind: KindAWS, KeyID: "AKIAQWERTYUIOPASDFGH", Secret: "0123456789abcdefghijABCDEFGHIJ0123456789", Host: awsDefaultHost}}},
		{`AWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH`, nil}, // no secret: FromRule covers the key id
	}
	for _, tt := range tests {
		got := FromText(tt.text)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FromText(%q) =\n%+v\nwant\n%+v", tt.text, got, tt.want)
		}
	}
}

func TestFromRule(t *testing.T) {
	for rule, kind := range map[string]string{
		"github-pat": KindGitHub, "github-fine-grained-pat": KindGitHub, "gitlab-pat": KindGitLab,
		"slack-bot-token": KindSlack, "slack-legacy-workspace-token": KindSlack, "slack-future-token": KindSlack,
		"stripe-access-token": KindStripe, "sendgrid-api-token": KindSendGrid, "npm-access-token": KindNPM,
	} {
		c, ok := FromRule(rule, "tok-for-"+rule)
		if !ok || c.Kind != kind || c.Secret != "tok-for-"+rule {
			t.Errorf("FromRule(%s) = %+v, %v; want kind %s", rule, c, ok, kind)
		}
	}
	if c, ok := FromRule("aws-access-token", "AKIAQWERTYUIOPASDFGH"); !ok || c.KeyID != "AKIAQWERTYUIOPASDFGH" || c.Secret != "" {
		t.Errorf("aws-access-token: %+v, %v", c, ok)
	}
	for _, rule := range []string{"generic-api-key", "private-key", "docker-config-auth", "slack-webhook-url", ""} {
		if c, ok := FromRule(rule, "x-secret-value"); ok {
			t.Errorf("FromRule(%q) = %+v, want not verifiable by rule", rule, c)
		}
	}
}

func TestParseBounds(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "redis://:bound-pass-%d@cache%d.example.com\n", i, i)
	}
	if got := len(FromText(b.String())); got != MaxCredentials {
		t.Errorf("%d credentials from 1000 URLs, want MaxCredentials=%d", got, MaxCredentials)
	}
	// Beyond MaxParseBytes nothing is read.
	big := strings.Repeat("x", MaxParseBytes) + " redis://:late-pass@cache.example.com"
	if got := FromFile("/big.txt", []byte(big)); len(got) != 0 {
		t.Errorf("found %+v past MaxParseBytes", got)
	}
	// A secret longer than maxSecret is no credential.
	if got := FromText("redis://:" + strings.Repeat("a", maxSecret+1) + "@h"); len(got) != 0 {
		t.Errorf("found an oversized secret")
	}
}

// TestUnverifiableKinds: parsed credentials without a service to ask are
// unknown without any network use (no AllowHosts: any attempt at the
// hosts below would be refused and say so).
func TestUnverifiableKinds(t *testing.T) {
	v := New(Options{})
	defer v.Close()
	for _, tc := range []struct {
		c      Credential
		reason string
	}{
		{Credential{Kind: KindHTTPBasic, Host: "127.0.0.1:443", URL: "https://127.0.0.1/", Secret: "p-1"}, "names no service"},
		{Credential{Kind: KindGitHTTP, Host: "127.0.0.1:443", URL: "https://127.0.0.1", Secret: "p-2"}, "repository path"},
		{Credential{Kind: "ftp", Secret: "p-3"}, "unsupported kind"},
		{Credential{Kind: KindGitHub}, "no secret"},
		{Credential{Kind: KindAWS, KeyID: "ASIAQWERTYUIOPASDFGH", Secret: "s-4"}, "session token"},
		{Credential{Kind: KindMySQL, Host: "127.0.0.1:3306", Secret: "p-5"}, "without a user"},
		{Credential{Kind: KindDockerRegistry, Secret: "p-6"}, "without a host"},
	} {
		r := v.Verify(context.Background(), tc.c)
		if r.Status != StatusUnknown || !strings.Contains(r.Reason, tc.reason) {
			t.Errorf("%+v: %+v, want unknown (%s)", tc.c, r, tc.reason)
		}
	}
}

func FuzzFromFile(f *testing.F) {
	f.Add("config.json", `{"auths":{"h":{"auth":"dTpw"}}}`)
	f.Add(".npmrc", "//h/:_authToken=t\n_auth=dTpw")
	f.Add(".pgpass", "h:1:d:u:p\\:q")
	f.Add(".netrc", "machine h login u password p")
	f.Add("x", "docker login -u u -p p h && echo p | docker login --password-stdin postgres://u:p@h/d")
	f.Fuzz(func(t *testing.T, path, content string) {
		cs := FromFile(path, []byte(content))
		if len(cs) > MaxCredentials {
			t.Fatalf("%d credentials", len(cs))
		}
		for _, c := range cs {
			if c.Kind != KindAWS && c.Secret == "" {
				t.Fatalf("credential without a secret: %+v", c)
			}
		}
	})
}
