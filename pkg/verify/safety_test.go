package verify

// Safety: a credential goes to its own service and nowhere else, loopback
// and private addresses are refused unless allowed (by name, checked on
// the resolved address), nothing is retried, and no result holds the
// secret.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestForbiddenAddresses(t *testing.T) {
	for _, a := range []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1",
		"169.254.169.254", "fe80::1", "fd00:ec2::254", "fc00::1", "0.0.0.0", "::", "100.64.0.1",
		"0.1.2.3", "255.255.255.255", "224.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
		"64:ff9b::7f00:1", "2002:c0a8:0101::1",
	} {
		if !forbiddenAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s is allowed, want refused", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888", "64:ff9b::808:808"} {
		if forbiddenAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused, want allowed", a)
		}
	}
}

// TestLoopbackNotContactedWithoutAllowHosts: with no AllowHosts, no
// credential for 127.0.0.1 (or a name resolving to it) reaches a listener
// there, for every kind.
func TestLoopbackNotContactedWithoutAllowHosts(t *testing.T) {
	l := listenCounting(t, "127.0.0.1:0")
	hp := "127.0.0.1:" + l.port()
	local := "localhost:" + l.port() // a name: refused on its resolved address
	secret := fake(t, "pw-", 20)
	creds := []Credential{
		{Kind: KindDockerRegistry, Host: hp, URL: "https://" + hp, Username: "u", Secret: secret},
		{Kind: KindDockerRegistry, Host: local, URL: "http://" + local, Username: "u", Secret: secret},
		{Kind: KindPostgres, Host: hp, Username: "u", Secret: secret},
		{Kind: KindPostgres, Host: local, Username: "u", Secret: secret},
		{Kind: KindMySQL, Host: hp, Username: "u", Secret: secret},
		{Kind: KindRedis, Host: local, Secret: secret},
		{Kind: KindGitHTTP, Host: hp, URL: "http://" + hp + "/r.git", Username: "u", Secret: secret},
		{Kind: KindNPM, Host: local, URL: "http://" + local + "/", Secret: secret},
		{Kind: KindGitHub, Secret: secret},
		{Kind: KindAWS, KeyID: "AKIA" + strings.Repeat("B", 16), Secret: secret},
	}
	endpoints := map[string]string{KindGitHub: "http://" + hp, KindAWS: "http://" + local}
	run := func(o Options, creds []Credential) {
		o.PerHostRate = 1000
		v := New(o)
		defer v.Close()
		for _, c := range creds {
			r := v.Verify(context.Background(), c)
			if r.Status != StatusUnknown || !strings.Contains(r.Reason, "not allowed") {
				t.Errorf("AllowHosts %v: %s to %s: %+v, want unknown (address not allowed)", o.AllowHosts, c.Kind, c.Host, r)
			}
			noSecret(t, r, secret)
		}
	}
	run(Options{Endpoints: endpoints}, creds)
	run(Options{Endpoints: endpoints, AllowHosts: []string{"127.0.0.2", "10.0.0.1", "127.0.0.1:1"}}, creds)
	// Allowing the address does not allow a name that resolves to it: the
	// check is on the name the credential names and the address dialled.
	var byName []Credential
	for _, c := range creds {
		if strings.HasPrefix(c.Host, "localhost") || c.Kind == KindAWS {
			byName = append(byName, c)
		}
	}
	run(Options{Endpoints: endpoints, AllowHosts: []string{"127.0.0.1"}}, byName)
	if n := l.n.Load(); n != 0 {
		t.Errorf("the listener on %s saw %d connections, want 0", hp, n)
	}

	// Allowed by name, the same credential does reach it (the listener
	// closes the connection: unknown, but contacted).
	v := New(Options{AllowHosts: []string{"127.0.0.1"}})
	defer v.Close()
	v.Verify(context.Background(), creds[4])
	if l.n.Load() != 1 {
		t.Errorf("allowed host: %d connections, want 1", l.n.Load())
	}
}

// registryServer is a fake Distribution registry: /v2/ challenges with
// challenge; it records whether any request carried credentials.
type registryServer struct {
	*httptest.Server
	authSeen atomic.Int64
}

func newRegistryServer(t *testing.T, challenge func(self string) string, token http.HandlerFunc) *registryServer {
	t.Helper()
	rs := &registryServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			rs.authSeen.Add(1)
		}
		w.Header().Set("WWW-Authenticate", challenge(rs.URL))
		w.WriteHeader(http.StatusUnauthorized)
	})
	if token != nil {
		mux.HandleFunc("/token", token)
	}
	rs.Server = httptest.NewServer(mux)
	t.Cleanup(rs.Close)
	return rs
}

func TestRegistryBearerFlow(t *testing.T) {
	pass := fake(t, "", 24)
	refresh := fake(t, "rt-", 32)
	var tokenRequests atomic.Int64
	rs := newRegistryServer(t, func(self string) string {
		return fmt.Sprintf(`Bearer realm="%s/token",service="test-registry"`, self)
	}, func(w http.ResponseWriter, r *http.Request) {
		tokenRequests.Add(1)
		if r.Method == http.MethodPost {
			if r.FormValue("grant_type") != "refresh_token" || r.FormValue("service") != "test-registry" || r.FormValue("client_id") == "" {
				http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
				return
			}
			if r.FormValue("refresh_token") != refresh {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusUnauthorized)
				return
			}
			writeJSON(w, 200, map[string]string{"access_token": "at"})
			return
		}
		u, p, ok := r.BasicAuth()
		if r.URL.Query().Get("service") != "test-registry" || r.URL.Query().Get("account") != u {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		if !ok || u != "robot" || p != pass {
			http.Error(w, `{"details":"incorrect username or password"}`, http.StatusUnauthorized)
			return
		}
		writeJSON(w, 200, map[string]string{"token": "t"})
	})
	host := strings.TrimPrefix(rs.URL, "http://")
	config := fmt.Sprintf(`{"auths":{"http://%s":{"auth":"%s"},"%s":{"identitytoken":"%s"}}}`,
		host, b64("robot:"+pass), "http://"+host+"/v1/", refresh)
	cs := FromFile("/root/.docker/config.json", []byte(config))
	if len(cs) != 2 {
		t.Fatalf("parsed %+v", cs)
	}
	v := loopback(Options{})
	defer v.Close()
	check(t, v, cs[0], StatusVerified, "robot")
	check(t, v, cs[1], StatusVerified, "")
	wrong := cs[0]
	wrong.Secret = fake(t, "", 24)
	check(t, v, wrong, StatusInvalid, "")
	wrongRefresh := cs[1]
	wrongRefresh.Secret = fake(t, "rt-", 32)
	check(t, v, wrongRefresh, StatusInvalid, "")
	if tokenRequests.Load() != 4 {
		t.Errorf("%d token requests, want 4 (one per credential)", tokenRequests.Load())
	}
	if rs.authSeen.Load() != 0 {
		t.Error("credentials were sent to /v2/ of a Bearer registry; only the token service needs them")
	}
}

// TestRegistryRealmOnAnotherHostNotContacted: a registry whose Bearer realm
// names another host (both hosts allowed) never gets the credential to it.
func TestRegistryRealmOnAnotherHostNotContacted(t *testing.T) {
	other := listenCounting(t, "127.0.0.2:0")
	rs := newRegistryServer(t, func(string) string {
		return fmt.Sprintf(`Bearer realm="http://127.0.0.2:%s/token",service="x"`, other.port())
	}, nil)
	host := strings.TrimPrefix(rs.URL, "http://")
	secret := fake(t, "", 24)
	v := New(Options{AllowHosts: []string{"127.0.0.1", "127.0.0.2"}, PerHostRate: 100})
	defer v.Close()
	r := check(t, v, Credential{Kind: KindDockerRegistry, Host: host, URL: "http://" + host, Username: "u", Secret: secret}, StatusUnknown, "")
	if !strings.Contains(r.Reason, "another host") {
		t.Errorf("reason %q", r.Reason)
	}
	if other.n.Load() != 0 || rs.authSeen.Load() != 0 {
		t.Errorf("the other host saw %d connections, the registry %d requests with credentials; want 0 and 0", other.n.Load(), rs.authSeen.Load())
	}
}

// TestEndpointOverrideOnlyForItsKind: the GitHub override is not where a
// GitLab token goes, and the reverse.
func TestEndpointOverrideOnlyForItsKind(t *testing.T) {
	var githubPaths []string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		githubPaths = append(githubPaths, r.URL.Path)
		writeJSON(w, 200, map[string]string{"login": "octo"})
	}))
	defer gh.Close()
	gl := listenCounting(t, "127.0.0.2:0")
	v := New(Options{
		AllowHosts:  []string{"127.0.0.1"}, // the GitLab override's 127.0.0.2 is not allowed
		Endpoints:   map[string]string{KindGitHub: gh.URL, KindGitLab: "http://127.0.0.2:" + gl.port()},
		PerHostRate: 100,
	})
	defer v.Close()
	gitlab, _ := FromRule("gitlab-pat", fake(t, "glpat-", 20))
	check(t, v, gitlab, StatusUnknown, "")
	github, _ := FromRule("github-pat", fake(t, "ghp_", 36))
	check(t, v, github, StatusVerified, "octo")
	if len(githubPaths) != 1 || githubPaths[0] != "/user" || gl.n.Load() != 0 {
		t.Errorf("GitHub endpoint saw %v, GitLab's %d connections; want [/user] and 0", githubPaths, gl.n.Load())
	}
}

// TestRedirectNotFollowed: a git server that redirects the authenticated
// request to another host does not get it followed.
func TestRedirectNotFollowed(t *testing.T) {
	other := listenCounting(t, "127.0.0.2:0")
	var withAuth atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		withAuth.Add(1)
		http.Redirect(w, r, "http://127.0.0.2:"+other.port()+"/steal", http.StatusFound)
	}))
	defer srv.Close()
	v := New(Options{AllowHosts: []string{"127.0.0.1", "127.0.0.2"}, PerHostRate: 100})
	defer v.Close()
	r := check(t, v, Credential{Kind: KindGitHTTP, URL: srv.URL + "/r.git", Username: "u", Secret: fake(t, "", 20)}, StatusUnknown, "")
	if !strings.Contains(r.Reason, "not followed") || withAuth.Load() != 1 || other.n.Load() != 0 {
		t.Errorf("reason %q, %d authenticated requests, other host %d connections; want 1 and 0", r.Reason, withAuth.Load(), other.n.Load())
	}
}

// TestURLAndHostMustAgree: a credential whose URL names another host than
// its Host is sent to neither.
func TestURLAndHostMustAgree(t *testing.T) {
	a := listenCounting(t, "127.0.0.1:0")
	b := listenCounting(t, "127.0.0.2:0")
	v := New(Options{AllowHosts: []string{"127.0.0.1", "127.0.0.2"}, PerHostRate: 100})
	defer v.Close()
	secret := fake(t, "", 20)
	for _, c := range []Credential{
		{Kind: KindGitHTTP, Host: "127.0.0.1:" + a.port(), URL: "http://127.0.0.2:" + b.port() + "/r.git", Secret: secret},
		{Kind: KindNPM, Host: "127.0.0.1:" + a.port(), URL: "http://127.0.0.2:" + b.port() + "/", Secret: secret},
		{Kind: KindPostgres, Host: "127.0.0.1:" + a.port(), URL: "postgres://127.0.0.2:" + b.port() + "/db", Username: "u", Secret: secret},
		{Kind: KindDockerRegistry, Host: "127.0.0.1:" + a.port(), URL: "http://127.0.0.2:" + b.port(), Username: "u", Secret: secret},
	} {
		check(t, v, c, StatusUnknown, "")
	}
	if a.n.Load() != 0 || b.n.Load() != 0 {
		t.Errorf("connections: %d and %d, want none", a.n.Load(), b.n.Load())
	}
}

// TestOneAttemptOnly: server errors are not retried.
func TestOneAttemptOnly(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	v := loopback(Options{Endpoints: map[string]string{KindGitHub: srv.URL, KindSlack: srv.URL, KindAWS: srv.URL}})
	defer v.Close()
	for _, c := range []Credential{
		{Kind: KindGitHub, Secret: fake(t, "ghp_", 36)},
		{Kind: KindSlack, Secret: fake(t, "xoxb-", 40)},
		{Kind: KindAWS, KeyID: "AKIA" + strings.Repeat("C", 16), Secret: fake(t, "", 40)},
	} {
		before := n.Load()
		check(t, v, c, StatusUnknown, "")
		if got := n.Load() - before; got != 1 {
			t.Errorf("%s: %d requests, want 1", c.Kind, got)
		}
	}
}

// TestRateLimitedIsUnknown: a second credential for the same host within
// the per-host rate waits; when the wait would outlast the timeout it is
// unknown, and not sent.
func TestRateLimitedIsUnknown(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 200, map[string]string{"login": "octo"})
	}))
	defer srv.Close()
	v := New(Options{AllowHosts: []string{"127.0.0.1"}, Endpoints: map[string]string{KindGitHub: srv.URL}, PerHostRate: 0.001})
	defer v.Close()
	check(t, v, Credential{Kind: KindGitHub, Secret: fake(t, "ghp_", 36)}, StatusVerified, "octo")
	r := check(t, v, Credential{Kind: KindGitHub, Secret: fake(t, "ghp_", 36)}, StatusUnknown, "")
	if !strings.Contains(r.Reason, "rate limited") || n.Load() != 1 {
		t.Errorf("reason %q, %d requests; want rate limited and 1", r.Reason, n.Load())
	}
	// A 429 from the service is unknown too.
	srv429 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv429.Close()
	v2 := loopback(Options{Endpoints: map[string]string{KindGitLab: srv429.URL}})
	defer v2.Close()
	r = check(t, v2, Credential{Kind: KindGitLab, Secret: fake(t, "glpat-", 20)}, StatusUnknown, "")
	if !strings.Contains(r.Reason, "rate limited") {
		t.Errorf("reason %q", r.Reason)
	}
}

// TestSecretNeverInReason: servers that echo the secret back (in error
// fields, headers, realms, redirects) do not get it into a Result.
func TestSecretNeverInReason(t *testing.T) {
	secret := fake(t, "xoxb-", 40)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v2/"):
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+secret+`.example/token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/api/auth.test":
			writeJSON(w, 200, map[string]any{"ok": false, "error": "bad " + secret + " " + b64(secret)})
		case strings.HasSuffix(r.URL.Path, "/info/refs"):
			http.Redirect(w, r, "http://x/"+secret, http.StatusFound)
		default:
			w.Header().Set("X-Echo", secret)
			writeJSON(w, 200, map[string]string{"login": secret + " " + b64("u:"+secret), "username": secret})
		}
	}))
	defer echo.Close()
	host := strings.TrimPrefix(echo.URL, "http://")
	v := loopback(Options{Endpoints: map[string]string{KindSlack: echo.URL, KindGitHub: echo.URL, KindGitLab: echo.URL}})
	defer v.Close()
	for _, c := range []Credential{
		{Kind: KindSlack, Secret: secret},
		{Kind: KindGitHub, Secret: secret},
		{Kind: KindGitLab, Secret: secret},
		{Kind: KindNPM, URL: echo.URL + "/", Host: host, Secret: secret},
		{Kind: KindDockerRegistry, Host: host, URL: "http://" + host, Username: "u", Secret: secret},
		{Kind: KindGitHTTP, URL: echo.URL + "/r.git", Username: "u", Secret: secret},
		{Kind: KindPostgres, Host: "127.0.0.1:1", Username: secret, Secret: secret},
		{Kind: KindRedis, Host: "[::1]:1", Secret: secret},
		{Kind: "no-such-kind", Secret: secret},
		{Kind: KindGitHTTP, URL: "http://u:" + secret + "@" + host + "/r.git", Secret: secret},
	} {
		r := v.Verify(context.Background(), c)
		noSecret(t, r, secret)
		if r.Reason == "" && r.Status != StatusVerified {
			t.Errorf("%s: %+v without a reason", c.Kind, r)
		}
	}
	// Bad endpoint overrides never echo their text either.
	v2 := New(Options{Endpoints: map[string]string{KindGitHub: "http://u:" + secret + "@h/"}})
	r := v2.Verify(context.Background(), Credential{Kind: KindGitHub, Secret: secret})
	if r.Status != StatusUnknown {
		t.Errorf("override with userinfo: %+v", r)
	}
	noSecret(t, r, secret)
}
