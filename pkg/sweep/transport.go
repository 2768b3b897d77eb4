package sweep

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// politeTransport is the sweep's HTTP transport under go-containerregistry's
// own auth and retry layers: it rate-limits requests (--registry-qps),
// waits out a 429/503 as long as its Retry-After asks (bounded) before
// trying again, and counts the bytes of every response body.
type politeTransport struct {
	base    http.RoundTripper
	limiter *rate.Limiter // nil: no limit
	bytes   *atomic.Int64
	// maxRetryAfter bounds one wait; retries bounds the attempts.
	maxRetryAfter time.Duration
	retries       int
}

func (t *politeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		if t.limiter != nil {
			if err := t.limiter.Wait(req.Context()); err != nil {
				return nil, err
			}
		}
		resp, err := t.base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) &&
			attempt < t.retries && (req.Body == nil || req.GetBody != nil) {
			if wait, ok := retryAfter(resp.Header.Get("Retry-After"), t.maxRetryAfter); ok {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				select {
				case <-req.Context().Done():
					return nil, req.Context().Err()
				case <-time.After(wait):
				}
				if req.GetBody != nil {
					b, err := req.GetBody()
					if err != nil {
						return nil, err
					}
					req.Body = b
				}
				continue
			}
		}
		resp.Body = &countingBody{ReadCloser: resp.Body, n: t.bytes}
		return resp, nil
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, limit time.Duration) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = time.Until(at)
	} else {
		return 0, false
	}
	d = min(max(d, 0), limit)
	return d, true
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
