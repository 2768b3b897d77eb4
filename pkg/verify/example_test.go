package verify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/layerscan/layerscan/pkg/verify"
)

// A GitHub token found by the detector's github-pat rule, tried against a
// stand-in for GitHub's API (as --verifier github=URL would name a GitHub
// Enterprise server). 127.0.0.1 must be allowed explicitly.
func Example() {
	token := "ghp_" + "madeUpForThisExample0000000000000000"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/user" || r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"login":"octo-example"}`)
	}))
	defer api.Close()

	v := verify.New(verify.Options{
		AllowHosts: []string{"127.0.0.1"},
		Endpoints:  map[string]string{verify.KindGitHub: api.URL},
	})
	defer v.Close()

	c, _ := verify.FromRule("github-pat", token)
	r := v.Verify(context.Background(), c)
	fmt.Println(r.Status, r.Identity)

	c.Secret = "ghp_" + "revokedMadeUpToken000000000000000000"
	r = v.Verify(context.Background(), c)
	fmt.Println(r.Status, r.Reason)
	// Output:
	// verified octo-example
	// invalid GitHub /user answered 401 Unauthorized
}

// Credentials are read with their context: a database URL in an ENV value
// gives the host, user and database the password belongs to.
func ExampleFromText() {
	for _, c := range verify.FromText("DATABASE_URL=postgres://app:madeUpPass1@db.example.com:5433/orders") {
		fmt.Println(c.Kind, c.Host, c.Username, c.URL)
	}
	// Output:
	// postgres db.example.com:5433 app postgres://db.example.com:5433/orders
}
