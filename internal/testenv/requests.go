package testenv

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Requests counts the requests a registry answers, by method and kind of
// the Distribution API: "GET ping" (/v2/), "GET catalog", "GET tags",
// "GET manifest", "HEAD manifest", "GET blob", "HEAD blob", and "… other"
// for the rest. Wrap puts it in front of a registry handler (an
// in-process go-containerregistry registry, for tests about how many
// requests a session or a sweep makes).
type Requests struct {
	mu sync.Mutex
	n  map[string]int
}

// Wrap counts the requests h answers.
func (l *Requests) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "other"
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			kind = "manifest"
		case strings.Contains(r.URL.Path, "/blobs/"):
			kind = "blob"
		case strings.HasSuffix(r.URL.Path, "/tags/list"):
			kind = "tags"
		case r.URL.Path == "/v2/_catalog":
			kind = "catalog"
		case r.URL.Path == "/v2/":
			kind = "ping"
		}
		l.mu.Lock()
		if l.n == nil {
			l.n = map[string]int{}
		}
		l.n[r.Method+" "+kind]++
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// Get is the count of one method and kind ("HEAD manifest").
func (l *Requests) Get(k string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[k]
}

// Reset forgets what was counted.
func (l *Requests) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n = nil
}

// String lists the counts, for test failure messages.
func (l *Requests) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for k, v := range l.n {
		parts = append(parts, k+"="+strconv.Itoa(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
