package testenv

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// accessLogGET matches a distribution access-log line (combined log format)
// for a GET request and captures the request path and the status code, e.g.
//
//	127.0.0.1 - - [28/Nov/2026:04:35:20 +0000] "GET /v2/x/y/blobs/sha256:bc… HTTP/2.0" 200 4345 "" "go-containerregistry"
var accessLogGET = regexp.MustCompile(`(?m)^\S+ \S+ \S+ \[[^\]]*\] "GET (\S+) HTTP/[0-9.]+" (\d{3}) `)

// syncQuery is the query parameter of SyncLog's marker request.
const syncQuery = "layerscan-log-sync"

// SyncLog waits until the registry's log holds the lines of every request
// that completed (from the client's view) before the call. The registry
// writes an access-log line only after it has sent the response, so a client
// can see its blob before the line is in LogFile; SyncLog sends a marker
// request and waits for its line (plus a short settle time). It fails the test
// if the marker does not show up within 10 seconds.
func (r *Registry) SyncLog(t testing.TB) {
	t.Helper()
	marker := syncQuery + "=" + randomHex(8)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: r.Transport()}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.Host+"/v2/?"+marker, nil)
	if err != nil {
		t.Fatalf("SyncLog: %v", err)
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("SyncLog: marker request: %v", err)
		return
	}
	resp.Body.Close()
	for !strings.Contains(r.Log(), marker) {
		select {
		case <-ctx.Done():
			t.Fatalf("SyncLog: marker %s not in %s after 10s", marker, r.LogFile)
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
	// Lines of requests that finished just before the marker are written by
	// other goroutines; give them a moment.
	time.Sleep(20 * time.Millisecond)
}

// BlobGETs counts the successful (2xx) GET requests for blobs of the
// repository repo (for example "app/web") in the registry's access log,
// after SyncLog. With digest "" it counts all blobs of repo (config blobs
// included); otherwise only the blob with that digest ("sha256:…"). HEAD
// requests, manifest requests, upload requests and refused requests are not
// counted. Take a count before and after the code under test and compare.
func (r *Registry) BlobGETs(t testing.TB, repo, digest string) int {
	t.Helper()
	r.SyncLog(t)
	prefix := "/v2/" + repo + "/blobs/"
	n := 0
	for _, m := range accessLogGET.FindAllStringSubmatch(r.Log(), -1) {
		path, status := m[1], m[2]
		if status[0] != '2' || !strings.HasPrefix(path, prefix) {
			continue
		}
		rest := strings.TrimPrefix(path, prefix)
		if strings.HasPrefix(rest, "uploads/") {
			continue
		}
		if digest != "" && rest != digest {
			continue
		}
		n++
	}
	return n
}
