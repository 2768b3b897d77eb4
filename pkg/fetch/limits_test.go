package fetch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestRedactText(t *testing.T) {
	for _, s := range []string{
		`Get "https://alice:hunter2@registry.example.com/v2/": EOF`,
		`GET https://bob:s3cr3t@10.0.0.1:5000/v2/app/blobs/sha256:ab (unexpected status)`,
		`proxy http://u:pw-in-proxy@proxy:3128 refused`,
	} {
		got := redactText(s)
		for _, secret := range []string{"hunter2", "s3cr3t", "pw-in-proxy", "alice", "bob"} {
			if strings.Contains(got, secret) {
				t.Errorf("redactText(%q) = %q: still holds %q", s, got, secret)
			}
		}
		if !strings.Contains(got, "REDACTED") {
			t.Errorf("redactText(%q) = %q", s, got)
		}
	}
}

func TestBoundHistory(t *testing.T) {
	cfg := &v1.ConfigFile{History: make([]v1.History, 50)}
	w := boundHistory(cfg, Options{MaxHistory: 10})
	if len(cfg.History) != 10 || len(w) != 1 || !strings.Contains(w[0], "--max-history") {
		t.Fatalf("%d entries, warnings %q", len(cfg.History), w)
	}
	if w := boundHistory(cfg, Options{MaxHistory: 10}); w != nil {
		t.Errorf("under the bound: %q", w)
	}
}

// A blob whose body breaks off is resumed where it stopped, a bounded
// number of times.
func TestResumingBlob(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	opens := 0
	open := func(cut int) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) {
			opens++
			if opens <= cut {
				return io.NopCloser(io.MultiReader(strings.NewReader(body[:opens*1000]), iotestErr{})), nil
			}
			return io.NopCloser(strings.NewReader(body)), nil
		}
	}
	rc, err := newResumingBlob(context.Background(), 5, nil, open(3))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != body {
		t.Fatalf("err %v, %d bytes", err, len(got))
	}
	opens = 0
	rc, _ = newResumingBlob(context.Background(), 3, nil, open(100))
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "failed 3 times") {
		t.Fatalf("err %v, want a bounded give-up", err)
	}
	if opens != 3 {
		t.Errorf("%d opens, want 3", opens)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// --timeout bounds the wait for headers and each stall of a body.
func TestTimeoutTransport(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall-body" {
			w.Write([]byte("start"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := &http.Client{Transport: &timeoutTransport{base: http.DefaultTransport, d: 200 * time.Millisecond}}
	start := time.Now()
	_, err := c.Get(srv.URL + "/stall-headers")
	if err == nil || !strings.Contains(err.Error(), "--timeout") || time.Since(start) > 5*time.Second {
		t.Errorf("headers: err %v after %s", err, time.Since(start))
	}
	resp, err := c.Get(srv.URL + "/stall-body")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start = time.Now()
	b, err := io.ReadAll(resp.Body)
	if string(b) != "start" || err == nil || !strings.Contains(err.Error(), "stalled") || time.Since(start) > 5*time.Second {
		t.Errorf("body: %q, err %v after %s", b, err, time.Since(start))
	}
}

// A 429 with Retry-After holds the answer back that long (capped), so the
// client's retry comes no sooner than the registry asked.
func TestRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := &http.Client{Transport: retryAfterTransport{base: http.DefaultTransport}}
	start := time.Now()
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d < time.Second || d > 5*time.Second {
		t.Errorf("answered after %s, want about 1 s", d)
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
