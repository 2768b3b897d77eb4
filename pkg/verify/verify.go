package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/layerscan/layerscan/pkg/redact"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Verdicts.
const (
	// StatusVerified: the service accepted the credential.
	StatusVerified = "verified"
	// StatusInvalid: the service said the credential is wrong (a wrong
	// password, a revoked or unknown token).
	StatusInvalid = "invalid"
	// StatusUnknown: no answer either way (network error, refused
	// address, rate limit, unsupported kind, missing context).
	StatusUnknown = "unknown"
)

// Defaults of Options.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultPerHostRate = 2 // requests per second to one host
	// maxBody bounds every response body read.
	maxBody = 1 << 20
	// maxReason bounds Result.Reason.
	maxReason = 300
)

// Options configure a Verifier. The zero value is usable: public hosts
// only, DefaultTimeout, DefaultPerHostRate, the system roots.
type Options struct {
	// AllowHosts are hosts ("name" for any port, or "name:port") that may
	// be reached although they resolve to a loopback, private (RFC 1918,
	// ULA), link-local, CGNAT or unspecified address
	// (--verify-allow-host). A host is matched by the name the credential
	// names, never by its resolved address.
	AllowHosts []string
	// Endpoints replace the vendor endpoint of a SaaS kind (github,
	// gitlab, slack, stripe, sendgrid, aws; npm for tokens found without a
	// registry URL) with another base URL, e.g. GitHub Enterprise's
	// https://ghe.example.com/api/v3 (--verifier KIND=URL). An override
	// applies to its own kind only.
	Endpoints map[string]string
	// Timeout bounds one Verify call (default DefaultTimeout).
	Timeout time.Duration
	// PerHostRate limits requests (and database connections) per host and
	// second (default DefaultPerHostRate; burst 1).
	PerHostRate float64
	// RootCAs are the CAs trusted for TLS; nil: the system roots.
	RootCAs *x509.CertPool
}

// Result is the verdict on one credential.
type Result struct {
	// Status is StatusVerified, StatusInvalid or StatusUnknown.
	Status string
	// Identity is who the credential resolves to, when the service says:
	// registry user, database role, GitHub login, AWS ARN….
	Identity string
	// Reason says, in one line, why a credential is unknown or invalid
	// (or a detail of a verified one). It never holds the secret.
	Reason string
}

// Verifier tries credentials against their own services. It is safe for
// concurrent use.
type Verifier struct {
	opts      Options
	allow     map[string]bool // "name" or "name:port", lower case
	endpoints map[string]*url.URL
	badEnds   map[string]string // kind → why its override is unusable
	transport *http.Transport
	tls       *tls.Config

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// maxLimiters bounds the per-host limiter table (a sweep meets many hosts).
const maxLimiters = 4096

// New returns a Verifier with the options o.
func New(o Options) *Verifier {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PerHostRate <= 0 {
		o.PerHostRate = DefaultPerHostRate
	}
	v := &Verifier{
		opts:      o,
		allow:     map[string]bool{},
		endpoints: map[string]*url.URL{},
		badEnds:   map[string]string{},
		limiters:  map[string]*rate.Limiter{},
	}
	for _, h := range o.AllowHosts {
		h = strings.TrimSpace(h)
		if _, _, err := net.SplitHostPort(h); err == nil {
			if hp, ok := hostPort(h, ""); ok {
				v.allow[hp] = true
			}
		} else if hp, ok := hostPort(h, "1"); ok {
			v.allow[hostname(hp)] = true // any port
		}
	}
	for kind, raw := range o.Endpoints {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			v.badEnds[kind] = fmt.Sprintf("endpoint for %s is not an http(s) URL without userinfo", kind)
			continue
		}
		u.RawQuery, u.Fragment = "", ""
		v.endpoints[kind] = u
	}
	v.tls = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	v.transport = &http.Transport{
		Proxy:                  nil, // never through a proxy: it would see the credential
		DialContext:            v.dial,
		TLSClientConfig:        v.tls,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
	return v
}

// Close releases idle connections.
func (v *Verifier) Close() { v.transport.CloseIdleConnections() }

// Verify tries c once against its own service and nowhere else (see
// docs/verification.md for what is sent where), within Options.Timeout.
// It never retries: a network error, a refused address, a rate limit or
// an unsupported kind is StatusUnknown.
func (v *Verifier) Verify(ctx context.Context, c Credential) Result {
	ctx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	defer cancel()
	var r Result
	if c.Secret == "" && c.Kind != KindAWS {
		r = unknown("no secret")
	} else {
		r = v.verify(ctx, c)
	}
	r.Reason = scrub(r.Reason, c)
	r.Identity = scrub(r.Identity, c)
	return r
}

func (v *Verifier) verify(ctx context.Context, c Credential) Result {
	switch c.Kind {
	case KindDockerRegistry:
		return v.registry(ctx, c)
	case KindPostgres:
		return v.postgres(ctx, c)
	case KindMySQL:
		return v.mysql(ctx, c)
	case KindRedis:
		return v.redis(ctx, c)
	case KindGitHTTP:
		return v.gitHTTP(ctx, c)
	case KindNPM:
		return v.npm(ctx, c)
	case KindGitHub:
		return v.github(ctx, c)
	case KindGitLab:
		return v.gitlab(ctx, c)
	case KindSlack:
		return v.slack(ctx, c)
	case KindStripe:
		return v.stripe(ctx, c)
	case KindSendGrid:
		return v.sendgrid(ctx, c)
	case KindAWS:
		return v.aws(ctx, c)
	case KindHTTPBasic:
		return unknown("a user and password for a URL that names no service to ask")
	default:
		return unknown(fmt.Sprintf("unsupported kind %q", c.Kind))
	}
}

func verified(identity string) Result { return Result{Status: StatusVerified, Identity: identity} }
func invalid(reason string) Result    { return Result{Status: StatusInvalid, Reason: reason} }
func unknown(reason string) Result    { return Result{Status: StatusUnknown, Reason: reason} }

// unknownErr is the verdict for an error: unknown, with a reason that
// says which of the package's refusals it was, when it was one.
func unknownErr(what string, err error) Result {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return unknown(what + ": timed out")
	case errors.Is(err, ErrRateLimited):
		return unknown(what + ": " + ErrRateLimited.Error())
	}
	return unknown(what + ": " + err.Error())
}

// scrub keeps s to one bounded line without any form of c's secret:
// the secret and every encoded form the redactor knows (hex, percent and
// unicode escapes, base64 at any offset, so also a user:secret basic-auth
// value).
func scrub(s string, c Credential) string {
	if s == "" {
		return ""
	}
	if len(c.Secret) >= 3 {
		for _, f := range redact.Forms(c.Secret) {
			if f == c.Secret || len(f) >= 6 {
				s = strings.ReplaceAll(s, f, "****")
			}
		}
	}
	s = sanitize.OneLine(s)
	if len(s) > maxReason {
		s = strings.ToValidUTF8(s[:maxReason], "") + "…"
	}
	return s
}

// ParseEndpoints reads --verifier values, KIND=URL, into
// Options.Endpoints: KIND must be one of Kinds, URL an http(s) URL.
func ParseEndpoints(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		kind, raw, ok := strings.Cut(v, "=")
		if !ok || !slices.Contains(Kinds, kind) {
			return nil, fmt.Errorf("--verifier %q: want KIND=URL, KIND one of %s", v, strings.Join(Kinds, ", "))
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("--verifier %s: %q is not an http(s) URL", kind, raw)
		}
		out[kind] = raw
	}
	return out, nil
}
