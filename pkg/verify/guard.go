package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"golang.org/x/time/rate"
)

// The errors behind an unknown verdict that are the Verifier's own
// refusals (errors.Is finds them in a Result's cause).
var (
	// ErrForbiddenAddress: the host resolved to a loopback, private,
	// link-local, CGNAT or unspecified address and is not in AllowHosts.
	ErrForbiddenAddress = errors.New("address not allowed (loopback, private or link-local; see --verify-allow-host)")
	// ErrOutOfScope: a request to a host the credential does not belong to
	// was stopped before it was sent.
	ErrOutOfScope = errors.New("host is not the credential's own service")
	// ErrRateLimited: the per-host rate limit would outlast the timeout,
	// or the service answered 429.
	ErrRateLimited = errors.New("rate limited")
)

// cgnat is RFC 6598 shared address space; nat64 the well-known NAT64
// prefix, whose embedded IPv4 address is checked too.
var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// forbiddenAddr reports whether a is an address a leaked credential must
// not be sent to unless its host is allowed: loopback, private (RFC 1918,
// ULA), link-local (cloud metadata services live there), CGNAT,
// unspecified, multicast or broadcast, also when wrapped in IPv4-mapped,
// NAT64 or 6to4 form.
func forbiddenAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() && (nat64.Contains(a) || sixToFour.Contains(a)) {
		b := a.As16()
		var v4 [4]byte
		if nat64.Contains(a) {
			copy(v4[:], b[12:16])
		} else {
			copy(v4[:], b[2:6])
		}
		if forbiddenAddr(netip.AddrFrom4(v4)) {
			return true
		}
	}
	return !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() ||
		a.IsUnspecified() || cgnat.Contains(a) || thisNet.Contains(a) ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// allowed reports whether the canonical host:port hp is in AllowHosts.
func (v *Verifier) allowed(hp string) bool {
	return v.allow[hp] || v.allow[hostname(hp)]
}

// dial connects to addr ("host:port", the name the credential names) over
// TCP. The address actually connected to is checked at connect time, after
// resolution, so a name that resolves (or rebinds) to a forbidden address
// is refused unless the name is allowed.
func (v *Verifier) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("dialing %s: network %q not allowed", addr, network)
	}
	hp, ok := hostPort(addr, "")
	if !ok {
		return nil, fmt.Errorf("dialing %q: not a host:port", addr)
	}
	allowed := v.allowed(hp)
	d := net.Dialer{
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%s: %w", hostname(hp), ErrForbiddenAddress)
			}
			if !allowed && forbiddenAddr(ap.Addr()) {
				return fmt.Errorf("%s resolves to %s: %w", hostname(hp), ap.Addr(), ErrForbiddenAddress)
			}
			return nil
		},
	}
	conn, err := d.DialContext(ctx, network, hp)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) {
			return nil, fmt.Errorf("connecting to %s: %w", hp, ErrForbiddenAddress)
		}
		return nil, fmt.Errorf("connecting to %s: %w", hp, err)
	}
	return conn, nil
}

// wait waits for the per-host limiter of hp.
func (v *Verifier) wait(ctx context.Context, hp string) error {
	v.mu.Lock()
	l, ok := v.limiters[hp]
	if !ok {
		if len(v.limiters) >= maxLimiters {
			clear(v.limiters)
		}
		l = rate.NewLimiter(rate.Limit(v.opts.PerHostRate), 1)
		v.limiters[hp] = l
	}
	v.mu.Unlock()
	if err := l.Wait(ctx); err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", hp, ErrRateLimited)
	}
	return nil
}

// scope is the set of host:port a credential may be sent to.
type scope map[string]bool

// scopedTransport sends a request only to a host in its scope, after the
// host's rate limit. Redirects are not followed (see client).
type scopedTransport struct {
	v     *Verifier
	scope scope
}

func (t *scopedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	hp, ok := urlHostPort(req.URL)
	if !ok || !t.scope[hp] || (req.URL.Scheme != "https" && req.URL.Scheme != "http") {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%s: %w", req.URL.Host, ErrOutOfScope)
	}
	if err := t.v.wait(req.Context(), hp); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.v.transport.RoundTrip(req)
}

// client is an HTTP client for one credential: requests go only to the
// hosts of s, and redirects are returned, not followed (a redirect could
// carry a header such as PRIVATE-TOKEN to another host).
func (v *Verifier) client(s scope) *http.Client {
	return &http.Client{
		Transport: &scopedTransport{v: v, scope: s},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// response is a read, bounded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends req with c and reads at most maxBody of the answer. It never
// returns req.URL's userinfo or query in an error (there is none: the
// secret travels in headers or bodies only).
func do(c *http.Client, req *http.Request) (*response, error) {
	req.Header.Set("User-Agent", "layerscan-verify")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, redactedURL(req.URL), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", req.Method, redactedURL(req.URL), err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// redactedURL is u without userinfo and query.
func redactedURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// httpVerdict is the common reading of an HTTP status: 401 invalid, 429
// rate limited, 5xx and others unknown. ok is false for 2xx (the caller
// reads the body).
func httpVerdict(what string, r *response) (Result, bool) {
	switch {
	case r.status >= 200 && r.status < 300:
		return Result{}, false
	case r.status == http.StatusUnauthorized:
		return invalid(what + " answered 401 Unauthorized"), true
	case r.status == http.StatusTooManyRequests:
		return unknown(what + " answered 429: " + ErrRateLimited.Error()), true
	case r.status >= 300 && r.status < 400:
		return unknown(fmt.Sprintf("%s answered %d (a redirect, not followed)", what, r.status)), true
	default:
		return unknown(fmt.Sprintf("%s answered %d %s", what, r.status, strings.ToLower(http.StatusText(r.status)))), true
	}
}

// endpoint is the base URL a SaaS kind's credentials go to: the override
// for that kind, or the vendor's documented endpoint.
func (v *Verifier) endpoint(kind string) (*url.URL, scope, error) {
	if why, bad := v.badEnds[kind]; bad {
		return nil, nil, errors.New(why)
	}
	u, ok := v.endpoints[kind]
	if !ok {
		var err error
		if u, err = url.Parse(defaultEndpoints[kind]); err != nil {
			return nil, nil, fmt.Errorf("endpoint of %s: %w", kind, err)
		}
	}
	hp, ok := urlHostPort(u)
	if !ok {
		return nil, nil, fmt.Errorf("endpoint of %s: bad host", kind)
	}
	c := *u
	return &c, scope{hp: true}, nil
}

// join appends p to base's path.
func join(base *url.URL, p string) *url.URL {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(p, "/")
	u.RawPath = ""
	return &u
}
