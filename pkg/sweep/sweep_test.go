package sweep

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestPatterns(t *testing.T) {
	p, err := NewPatterns([]string{"team-a/*", "!team-a/tmp-*", "base"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"team-a/web": true, "team-a/tmp-1": false, "base": true, "team-b/web": false, "team-a/x/y": false,
	} {
		if got := p.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	all, _ := NewPatterns([]string{"v*,latest", "!v0*"})
	for name, want := range map[string]bool{"v1.2": true, "latest": true, "v0.9": false, "dev": false} {
		if got := all.Match(name); got != want {
			t.Errorf("tags Match(%q) = %v, want %v", name, got, want)
		}
	}
	none, _ := NewPatterns(nil)
	if !none.Match("anything/at/all") {
		t.Error("no patterns should select everything")
	}
	if _, err := NewPatterns([]string{"[bad"}); err == nil {
		t.Error("a malformed glob was accepted")
	}
}

func TestNextLink(t *testing.T) {
	for in, want := range map[string]string{
		`</v2/_catalog?last=b&n=2>; rel="next"`:                   "/v2/_catalog?last=b&n=2",
		`<https://r.example/v2/x/tags/list?n=1&last=a>; rel=next`: "https://r.example/v2/x/tags/list?n=1&last=a",
		`</a>; rel="prev", </b>; rel="next"`:                      "/b",
		`</a>; rel="prev"`:                                        "",
		``:                                                        "",
	} {
		if got := nextLink([]string{in}); got != want {
			t.Errorf("nextLink(%q) = %q, want %q", in, got, want)
		}
	}
}

// A 429 with Retry-After is waited out and retried; the body bytes of
// the final answer are counted.
func TestPoliteTransportRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	var n atomic.Int64
	tr := &politeTransport{base: http.DefaultTransport, bytes: &n, maxRetryAfter: 5 * time.Second, retries: 3}
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" || calls.Load() != 2 {
		t.Fatalf("body %q after %d calls", b, calls.Load())
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %s, want the 1s Retry-After honoured", d)
	}
	if n.Load() != 5 {
		t.Errorf("counted %d bytes, want 5", n.Load())
	}
	if d, ok := retryAfter("600", time.Minute); !ok || d != time.Minute {
		t.Errorf("retryAfter bound: %s %v", d, ok)
	}
}
