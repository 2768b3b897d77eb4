package faultproxy

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is one kind of injected failure.
type Fault string

// The faults.
const (
	Status500 Fault = "500"
	Status502 Fault = "502"
	Status503 Fault = "503"
	// TooMany answers 429 with Retry-After: RetryAfter seconds.
	TooMany Fault = "429"
	// Reset closes the connection before any answer.
	Reset Fault = "reset"
	// ResetMidBody sends the headers and half the body, then closes the
	// connection.
	ResetMidBody Fault = "reset-mid-body"
	// Stall waits StallFor before answering (longer than the client's
	// timeout, to test it).
	Stall Fault = "stall"
	// StallMidBody sends half the body, then waits StallFor.
	StallMidBody Fault = "stall-mid-body"
	// Truncate sends half the body with a Content-Length that says so: a
	// complete-looking response with the wrong content.
	Truncate Fault = "truncate"
)

// Transient are the faults a client is expected to ride out by retrying.
var Transient = []Fault{Status500, Status502, Status503, TooMany, Reset, ResetMidBody, Truncate}

// Config says what to inject.
type Config struct {
	// Seed makes the choice of faulted requests reproducible.
	Seed int64
	// Rate is the fraction (0-1) of requests that get a fault.
	Rate float64
	// Faults are picked from (by the same hash) for a faulted request;
	// default Transient.
	Faults []Fault
	// Only, when set, limits random faults to request paths containing it
	// (e.g. "/blobs/").
	Only string
	// Permanent faults every request whose path contains a key, always.
	Permanent map[string]Fault
	// StallFor is how long Stall faults wait (default 10 s).
	StallFor time.Duration
	// RetryAfter is the Retry-After of 429 answers, in seconds (default 1).
	RetryAfter int
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's base URL (http://127.0.0.1:PORT); Host its host:port.
	URL, Host string

	cfg      Config
	upstream *url.URL
	client   *http.Client
	srv      *httptest.Server

	mu     sync.Mutex
	seen   map[string]int
	counts map[Fault]int
	reqs   int
	log    []string
}

// Start runs a proxy to upstream (e.g. "https://127.0.0.1:5000") through
// transport, stopped when the test ends.
func Start(t testing.TB, upstream string, transport http.RoundTripper, cfg Config) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Faults) == 0 {
		cfg.Faults = Transient
	}
	if cfg.StallFor == 0 {
		cfg.StallFor = 10 * time.Second
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = 1
	}
	p := &Proxy{cfg: cfg, upstream: u, seen: map[string]int{}, counts: map[Fault]int{},
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p.srv = httptest.NewServer(p)
	p.URL = p.srv.URL
	p.Host = strings.TrimPrefix(p.srv.URL, "http://")
	t.Cleanup(func() {
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
	return p
}

// Requests is how many requests the proxy got; Faults how many of each
// fault it injected.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reqs
}

// Faults counts the injected faults by kind.
func (p *Proxy) Faults() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[Fault]int{}
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Log lists "METHOD PATH #attempt -> fault" for every request.
func (p *Proxy) Log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// decide picks the fault for a request, or "".
func (p *Proxy) decide(r *http.Request) Fault {
	key := r.Method + " " + r.URL.Path
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs++
	p.seen[key]++
	attempt := p.seen[key]
	var f Fault
	for sub, pf := range p.cfg.Permanent {
		if strings.Contains(r.URL.Path, sub) {
			f = pf
		}
	}
	if f == "" && p.cfg.Rate > 0 && (p.cfg.Only == "" || strings.Contains(r.URL.Path, p.cfg.Only)) && r.URL.Path != "/v2/" {
		h := sha256.Sum256([]byte(fmt.Sprintf("%d|%s|%d", p.cfg.Seed, key, attempt)))
		x := binary.BigEndian.Uint64(h[:8])
		if float64(x%1_000_000)/1_000_000 < p.cfg.Rate {
			f = p.cfg.Faults[binary.BigEndian.Uint64(h[8:16])%uint64(len(p.cfg.Faults))]
		}
	}
	if f != "" {
		p.counts[f]++
	}
	p.log = append(p.log, fmt.Sprintf("%s #%d -> %s", key, attempt, f))
	return f
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.decide(r)
	switch f {
	case Status500, Status502, Status503:
		code, _ := strconv.Atoi(string(f))
		http.Error(w, "injected "+string(f), code)
		return
	case TooMany:
		w.Header().Set("Retry-After", strconv.Itoa(p.cfg.RetryAfter))
		http.Error(w, "injected 429", http.StatusTooManyRequests)
		return
	case Reset:
		hijackClose(w)
		return
	case Stall:
		select {
		case <-time.After(p.cfg.StallFor):
		case <-r.Context().Done():
			return
		}
	}
	resp, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		w.Header().Set("Location", strings.Replace(loc, p.upstream.Scheme+"://"+p.upstream.Host, p.URL, 1))
	}
	if r.Method != http.MethodGet || resp.StatusCode != http.StatusOK || resp.ContentLength < 2 ||
		(f != ResetMidBody && f != StallMidBody && f != Truncate) {
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		return
	}
	half := resp.ContentLength / 2
	if f == Truncate {
		w.Header().Set("Content-Length", strconv.FormatInt(half, 10))
	}
	w.WriteHeader(resp.StatusCode)
	io.CopyN(w, resp.Body, half)
	switch f {
	case ResetMidBody:
		hijackClose(w)
	case StallMidBody:
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case <-time.After(p.cfg.StallFor):
		case <-r.Context().Done():
			return
		}
		io.Copy(w, resp.Body)
	}
}

func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u.Scheme, u.Host = p.upstream.Scheme, p.upstream.Host
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), r.Body)
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	req.ContentLength = r.ContentLength
	return p.client.Do(req)
}

// hijackClose drops the connection: the client sees a reset.
func hijackClose(w http.ResponseWriter) {
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
