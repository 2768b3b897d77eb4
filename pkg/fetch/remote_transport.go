package fetch

import (
	"crypto/tls"
	"io"
	"net/http"
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
