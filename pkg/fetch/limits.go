package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// More limits on what an image may make layerscan do.
const (
	// DefaultMaxHistory bounds the history entries kept from a config.
	DefaultMaxHistory = 10000
	// DefaultTimeout bounds how long one registry request may wait for
	// its response headers, and how long a body may stall between reads.
	DefaultTimeout = 60 * time.Second
	// maxRetryAfter caps how long a Retry-After answer makes layerscan
	// wait before the registry client's next attempt.
	maxRetryAfter = 30 * time.Second
	// DefaultBlobAttempts bounds how many times one layer blob is
	// requested when its download breaks off.
	DefaultBlobAttempts = 5
)

// WithMaxMetadataSize bounds manifests, indexes and configs, in bytes.
func WithMaxMetadataSize(n int64) Option {
	return func(o *Options) {
		if n > 0 {
			o.MaxMetadataSize = n
		}
	}
}

// WithMaxLayers bounds the number of layers of one image.
func WithMaxLayers(n int) Option {
	return func(o *Options) {
		if n > 0 {
			o.MaxLayers = n
		}
	}
}

// WithMaxArchiveEntries bounds the entries of a docker or OCI archive.
func WithMaxArchiveEntries(n int) Option {
	return func(o *Options) {
		if n > 0 {
			o.MaxArchiveEntries = n
		}
	}
}

// WithMaxHistory bounds the history entries kept from an image config;
// the rest are dropped with a warning (Image.Warnings).
func WithMaxHistory(n int) Option {
	return func(o *Options) {
		if n > 0 {
			o.MaxHistory = n
		}
	}
}

// WithTimeout bounds each registry request's wait for response headers
// and each stall of a response body; 0 keeps DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *Options) {
		if d > 0 {
			o.Timeout = d
		}
	}
}

// boundHistory drops history entries past MaxHistory.
func boundHistory(cfg *v1.ConfigFile, o Options) []string {
	if cfg == nil || o.MaxHistory <= 0 || len(cfg.History) <= o.MaxHistory {
		return nil
	}
	n := len(cfg.History)
	cfg.History = cfg.History[:o.MaxHistory:o.MaxHistory]
	return []string{fmt.Sprintf("the config has %d history entries; only the first %d were read (--max-history)", n, o.MaxHistory)}
}

// timeoutTransport bounds each request: its response headers must come
// within d, and its body must not stall for d between reads.
type timeoutTransport struct {
	base http.RoundTripper
	d    time.Duration
	// server names the other end in messages ("the registry" when
	// empty), and unreachable is the sentinel its errors wrap
	// (ErrUnreachable when nil).
	server      string
	unreachable error
}

func (t *timeoutTransport) names() (string, error) {
	server, sentinel := t.server, t.unreachable
	if server == "" {
		server = "the registry"
	}
	if sentinel == nil {
		sentinel = ErrUnreachable
	}
	return server, sentinel
}

// Download deadlines: besides any stall (--timeout), a whole response body
// must arrive at MinDownloadRate on average, after a grace of --timeout:
// a registry that trickles a byte every half second never stalls, and
// must not hold a scan for ever. A body of unknown length gets
// MaxUnknownDownload.
const (
	MinDownloadRate    = 16 << 10 // bytes per second
	MaxUnknownDownload = time.Hour
)

func downloadDeadline(grace time.Duration, length int64) time.Duration {
	if length < 0 {
		return MaxUnknownDownload
	}
	return grace + time.Duration(float64(length)/MinDownloadRate*float64(time.Second))
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	server, sentinel := t.names()
	timer := time.AfterFunc(t.d, func() {
		cancel(fmt.Errorf("%w: no response from %s in %s (--timeout)", sentinel, server, t.d))
	})
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		if cause := context.Cause(ctx); cause != nil && req.Context().Err() == nil {
			err = cause
		}
		cancel(nil)
		return nil, err
	}
	timer.Reset(t.d)
	total := downloadDeadline(t.d, resp.ContentLength)
	deadline := time.AfterFunc(total, func() {
		cancel(fmt.Errorf("%w: the answer took longer than %s, less than %d KiB/s on average (--timeout)", ErrTooSlow, total.Round(time.Second), MinDownloadRate>>10))
	})
	resp.Body = &stallBody{rc: resp.Body, timer: timer, deadline: deadline, d: t.d, ctx: ctx, cancel: cancel, parent: req.Context(), sentinel: sentinel}
	return resp, nil
}

// stallBody restarts the stall timer on every read.
type stallBody struct {
	rc       io.ReadCloser
	timer    *time.Timer
	deadline *time.Timer
	d        time.Duration
	ctx      context.Context
	parent   context.Context
	cancel   context.CancelCauseFunc
	once     sync.Once
	sentinel error
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.d)
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); cause != nil && b.parent.Err() == nil && !errors.Is(cause, context.Canceled) {
			err = fmt.Errorf("%w: the download stalled for %s (--timeout)", b.sentinel, b.d)
			if errors.Is(cause, ErrTooSlow) {
				err = cause
			}
		}
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.once.Do(func() {
		b.timer.Stop()
		b.deadline.Stop()
		b.cancel(nil)
	})
	return b.rc.Close()
}

// resumingBlob reads a blob through open, and when a read fails for any
// reason but a cancelled context, opens it again and skips what was
// already read, up to attempts opens in all, waiting a little longer
// each time. It is for registry blobs: a reset connection or a truncated
// body midway through a 2 GB layer costs a retry, not the layer.
type resumingBlob struct {
	ctx      context.Context
	open     func() (io.ReadCloser, error)
	rc       io.ReadCloser
	n        int64
	attempts int
	tried    int
	errs     []string
	// retryable says whether an error from open is worth another try
	// (nil: all are).
	retryable func(error) bool
}

func newResumingBlob(ctx context.Context, attempts int, retryable func(error) bool, open func() (io.ReadCloser, error)) (io.ReadCloser, error) {
	b := &resumingBlob{ctx: ctx, open: open, attempts: max(attempts, 1), retryable: retryable}
	if err := b.reopen(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *resumingBlob) reopen() error {
	for {
		b.tried++
		rc, err := b.open()
		if err == nil {
			if b.n > 0 {
				if _, err = io.CopyN(io.Discard, rc, b.n); err != nil {
					rc.Close()
				}
			}
			if err == nil {
				b.rc = rc
				return nil
			}
		}
		if b.ctx.Err() != nil {
			return b.ctx.Err()
		}
		b.errs = append(b.errs, err.Error())
		if b.retryable != nil && !b.retryable(err) {
			return err
		}
		if b.tried >= b.attempts {
			return b.gaveUp(err)
		}
		if err := b.wait(); err != nil {
			return err
		}
	}
}

func (b *resumingBlob) gaveUp(last error) error {
	return fmt.Errorf("the blob download failed %d times; gave up: %w", b.tried, last)
}

func (b *resumingBlob) wait() error {
	d := time.Duration(b.tried*b.tried) * 100 * time.Millisecond
	select {
	case <-time.After(d):
		return nil
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
}

func (b *resumingBlob) Read(p []byte) (int, error) {
	for {
		if b.rc == nil {
			return 0, io.ErrClosedPipe
		}
		n, err := b.rc.Read(p)
		b.n += int64(n)
		if err == nil || err == io.EOF || n > 0 {
			if err != nil && err != io.EOF {
				// Hand over the bytes now; the error comes back next read.
				return n, nil
			}
			return n, err
		}
		if b.ctx.Err() != nil || errors.Is(err, ErrTooSlow) {
			// A registry that trickles gets no second deadline.
			return 0, err
		}
		b.rc.Close()
		b.rc = nil
		b.errs = append(b.errs, err.Error())
		if b.tried >= b.attempts {
			return 0, b.gaveUp(err)
		}
		if werr := b.wait(); werr != nil {
			return 0, werr
		}
		if rerr := b.reopen(); rerr != nil {
			return 0, rerr
		}
	}
}

func (b *resumingBlob) Close() error {
	if b.rc == nil {
		return nil
	}
	return b.rc.Close()
}

// retry runs f until it succeeds, up to attempts times, while the error
// is retryable: for metadata reads (manifest, config) whose body broke
// off, which the registry client does not retry by itself.
func retry(ctx context.Context, attempts int, retryable func(error) bool, f func() error) error {
	var err error
	for i := 1; ; i++ {
		if err = f(); err == nil || i >= attempts || ctx.Err() != nil || !retryable(err) {
			return err
		}
		select {
		case <-time.After(time.Duration(i*i) * 100 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// retryAfterTransport makes a 429 or 503 answer's Retry-After (in seconds,
// capped at 30 s) delay the answer, so the registry client's own retry,
// which ignores the header, comes no sooner than the registry asked.
type retryAfterTransport struct{ base http.RoundTripper }

func (t retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return resp, err
	}
	secs, perr := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if perr != nil || secs <= 0 {
		return resp, nil
	}
	wait := min(time.Duration(secs)*time.Second, maxRetryAfter)
	select {
	case <-time.After(wait):
	case <-req.Context().Done():
	}
	return resp, nil
}
