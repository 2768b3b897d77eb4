package fakeapi

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/verify"
)

// GitHub starts a stand-in for GitHub's API whose /user answers login for
// testimage.SecretGitHub and 401 for anything else, and returns a
// Verifier that sends every kind of token it checks over HTTP there, and
// the count of tries (requests to /user). Both end with the test.
func GitHub(t testing.TB, login string) (*verify.Verifier, *atomic.Int64) {
	t.Helper()
	tries := new(atomic.Int64)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/user" {
			tries.Add(1)
			if r.Header.Get("Authorization") == "Bearer "+testimage.SecretGitHub {
				w.Write([]byte(`{"login":"` + login + `"}`))
				return
			}
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	endpoints := map[string]string{}
	for _, k := range []string{verify.KindGitHub, verify.KindGitLab, verify.KindSlack, verify.KindStripe, verify.KindSendGrid, verify.KindNPM} {
		endpoints[k] = api.URL
	}
	v := verify.New(verify.Options{AllowHosts: []string{"127.0.0.1"}, Endpoints: endpoints, PerHostRate: 1000})
	t.Cleanup(v.Close)
	return v, tries
}
