package verify

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Kinds of credential: what service a Credential belongs to and so which
// protocol Verify speaks.
const (
	KindDockerRegistry = "docker-registry"
	KindPostgres       = "postgres"
	KindMySQL          = "mysql" // MySQL and MariaDB
	KindRedis          = "redis"
	KindGitHTTP        = "git-http"
	KindNPM            = "npm"
	KindGitHub         = "github"
	KindGitLab         = "gitlab"
	KindSlack          = "slack"
	KindStripe         = "stripe"
	KindSendGrid       = "sendgrid"
	KindAWS            = "aws"
	// KindHTTPBasic is a user and password for an http(s) URL (or a .netrc
	// machine) that names no service layerscan knows how to ask: parsed,
	// so a report can link it, but never sent (Verify says unknown).
	KindHTTPBasic = "http-basic"
)

// Kinds lists every kind Verify knows how to try.
var Kinds = []string{
	KindDockerRegistry, KindPostgres, KindMySQL, KindRedis, KindGitHTTP, KindNPM,
	KindGitHub, KindGitLab, KindSlack, KindStripe, KindSendGrid, KindAWS,
}

// Credential is one credential as found in an image, with the context
// needed to try it. Which fields name the destination depends on Kind:
//
//   - docker-registry, postgres, mysql, redis: Host (URL carries the
//     database name, sslmode and scheme; its host must be Host's);
//   - git-http, npm: URL, whose host must be Host (an npm credential
//     without URL is for the npm registry, or Options.Endpoints["npm"]);
//   - github, gitlab, slack, stripe, sendgrid, aws: the vendor's documented
//     endpoint, or Options.Endpoints[Kind]; URL and Host are not used.
type Credential struct {
	// Kind is one of the Kind constants.
	Kind string
	// Secret is the secret value itself (password or token): what
	// identifies the secret.
	Secret string
	// URL is where the credential belongs, without the secret: the
	// registry entry's key, the database URL, the git remote, the npm
	// registry.
	URL string
	// Host is "host:port" (port always present) the credential may be
	// sent to.
	Host string
	// Username goes with the secret, where the service has one.
	Username string
	// KeyID is, for aws, the access key id paired with the secret.
	KeyID string
}

// identityToken is the Username of a docker-registry credential whose
// Secret is an OAuth refresh token (config.json "identitytoken"), as
// Docker itself marks it.
const identityToken = "<token>"

// defaultPorts are the ports of URL schemes without an explicit one.
var defaultPorts = map[string]string{
	"http": "80", "https": "443",
	"postgres": "5432", "postgresql": "5432",
	"mysql": "3306", "mariadb": "3306",
	"redis": "6379", "rediss": "6379",
}

// hostPort returns the canonical "host:port" of host (which may carry a
// port, or be a bracketed IPv6 address) with def as the port when none is
// given: the host in lower case, without a trailing dot. ok is false for
// an empty or malformed host.
func hostPort(host, def string) (string, bool) {
	h, p := host, def
	if sh, sp, err := net.SplitHostPort(host); err == nil {
		h, p = sh, sp
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		h = host[1 : len(host)-1]
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" || strings.ContainsAny(h, "/@ \t\r\n\\?#%") || p == "" {
		return "", false
	}
	if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
		return "", false
	}
	return net.JoinHostPort(h, p), true
}

// urlHostPort is hostPort of u's host with u's scheme's default port.
func urlHostPort(u *url.URL) (string, bool) {
	return hostPort(u.Host, defaultPorts[strings.ToLower(u.Scheme)])
}

// hostname is the host part of a canonical "host:port".
func hostname(hp string) string {
	h, _, err := net.SplitHostPort(hp)
	if err != nil {
		return hp
	}
	return h
}

// envReference reports whether s is a placeholder rather than a value:
// empty, or a shell/compose variable reference such as $TOKEN or ${TOKEN}.
func envReference(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.HasPrefix(s, "$") || strings.HasPrefix(s, "%") && strings.HasSuffix(s, "%") && len(s) > 2
}
