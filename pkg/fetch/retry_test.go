package fetch_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// flaky fails the first request to every manifest and blob URL — with 503,
// 429, or a connection reset — then lets it through.
type flaky struct {
	next     http.Handler
	mu       sync.Mutex
	seen     map[string]int
	failures int
	armed    bool
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	key := r.Method + " " + r.URL.Path
	f.seen[key]++
	first := f.seen[key] == 1 && f.armed
	n := len(f.seen)
	f.mu.Unlock()
	if first && (strings.Contains(r.URL.Path, "/manifests/") || strings.Contains(r.URL.Path, "/blobs/")) {
		f.mu.Lock()
		f.failures++
		f.mu.Unlock()
		switch n % 3 {
		case 0:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case 1:
			http.Error(w, "try later", http.StatusServiceUnavailable)
		default:
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, err := hj.Hijack()
				if err == nil {
					conn.Close() // connection reset mid-request
					return
				}
			}
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
		return
	}
	f.next.ServeHTTP(w, r)
}

// TestRetriesTransientFaults: every manifest and blob request fails once
// (429, 503, dropped connection); the image is still read whole.
func TestRetriesTransientFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("retries wait for backoff")
	}
	f := &flaky{next: registry.New(registry.Logger(log.New(io.Discard, "", 0))), seen: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/flaky/app:v1")
	if err := remote.Write(ref, img); err != nil { // pushed before faults are armed
		t.Fatal(err)
	}
	f.mu.Lock()
	f.armed = true
	f.mu.Unlock()

	src, err := fetch.Open(context.Background(), host+"/flaky/app:v1", fetch.WithInsecure(true))
	if err != nil {
		t.Fatalf("open through faults: %v", err)
	}
	defer src.Close()
	want, _ := img.Layers()
	for i, l := range src.Images[0].Layers {
		rc, err := l.Open()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		size, _ := want[i].Size()
		if n != size {
			t.Errorf("layer %d: read %d bytes, want %d", i, n, size)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures < 3 {
		t.Errorf("only %d faults injected; the test did not exercise retries", f.failures)
	}
}
