package fetch

import (
	"crypto/tls"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/time/rate"
)

// politeTransport is the chain every request of a session goes through,
// under go-containerregistry's auth and retry layers (so each retry is
// bounded, limited and counted as well): the base transport, the
// per-request timeout and download deadline, the metadata bound, the
// Retry-After wait, the rate limit, and the byte counter.
func (r *Remote) politeTransport() http.RoundTripper {
	o := r.o
	tr := o.Transport
	if tr == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		if o.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with --insecure
		}
		tr = t
	}
	if o.Timeout > 0 {
		tr = &timeoutTransport{base: tr, d: o.Timeout}
	}
	tr = &metadataLimit{base: tr, limit: o.MaxMetadataSize}
	tr = retryAfterTransport{base: tr}
	if o.QPS > 0 {
		tr = &rateTransport{base: tr, limiter: rate.NewLimiter(rate.Limit(o.QPS), max(1, int(o.QPS)))}
	}
	return &countingTransport{base: tr, n: &r.bytes}
}

// rateTransport waits for its limiter before every request (--registry-qps).
type rateTransport struct {
	base    http.RoundTripper
	limiter *rate.Limiter
}

func (t *rateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context()); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// countingTransport counts the bytes of every response body.
type countingTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: t.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	k, err := c.ReadCloser.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// pingMemo answers the registry's ping (GET /v2/, go-containerregistry's
// first step for every authenticated transport it makes) from the first
// answer of the session: a sweep makes one transport per repository and
// would otherwise ping the registry once per repository (and again when
// the session's transports are evicted). Only the answers a ping reads
// are kept, 200 and 401 with their challenge; an error or any other
// status is not, so the next ping asks again — but for a scheme that
// failed while the other one answered (https to a registry served over
// plain http, --insecure): its error is given again at once, as the
// ping then goes on with the scheme that answers. Other requests pass
// through.
type pingMemo struct {
	base http.RoundTripper
	host string

	mu    sync.Mutex
	slots map[string]*pingSlot // by scheme: https, and http for a registry reached without TLS
}

// pingSlot is what one scheme answered; its lock is held across a ping,
// so concurrent ones wait for it instead of asking too.
type pingSlot struct {
	mu     sync.Mutex
	ok     atomic.Bool // status and header hold the answer
	status int
	header http.Header
	failed error // the last ping of this scheme failed so
}

func (t *pingMemo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != "/v2/" || req.URL.Host != t.host {
		return t.base.RoundTrip(req)
	}
	t.mu.Lock()
	if t.slots == nil {
		t.slots = map[string]*pingSlot{}
	}
	s := t.slots[req.URL.Scheme]
	if s == nil {
		s = &pingSlot{}
		t.slots[req.URL.Scheme] = s
	}
	answered := false
	for scheme, o := range t.slots {
		answered = answered || scheme != req.URL.Scheme && o.ok.Load()
	}
	t.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ok.Load() {
		return &http.Response{Status: http.StatusText(s.status), StatusCode: s.status, Header: s.header.Clone(),
			Body: http.NoBody, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: req}, nil
	}
	if s.failed != nil && answered {
		return nil, s.failed
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		s.failed = err
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return resp, nil
	}
	s.status, s.header = resp.StatusCode, http.Header{}
	for _, k := range []string{"WWW-Authenticate", "Docker-Distribution-Api-Version"} {
		for _, v := range resp.Header.Values(k) {
			s.header.Add(k, v)
		}
	}
	s.ok.Store(true)
	return resp, nil
}
