package verify

// Protocol tests of the SaaS verifiers: local httptest servers that check
// each request exactly as the vendor documents it (method, path, headers,
// body) and answer as the vendor does, pointed at through
// Options.Endpoints. They are not the vendors' services.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// vendor is a fake vendor API: handle answers requests that check passed.
type vendor struct {
	*httptest.Server
	requests atomic.Int64
	problems chan string
}

// newVendor starts a server; check returns "" for a request as documented,
// else what is wrong (reported as a test error and answered 400).
func newVendor(t *testing.T, check func(r *http.Request, body string) string, handle func(w http.ResponseWriter, r *http.Request, body string)) *vendor {
	t.Helper()
	v := &vendor{problems: make(chan string, 16)}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.requests.Add(1)
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if p := check(r, string(b)); p != "" {
			select {
			case v.problems <- p:
			default:
			}
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		handle(w, r, string(b))
	}))
	t.Cleanup(func() {
		v.Close()
		close(v.problems)
		for p := range v.problems {
			t.Errorf("request not as documented: %s", p)
		}
	})
	return v
}

// want checks a request's method, path and headers (name → exact value).
func want(r *http.Request, method, path string, headers map[string]string) string {
	if r.Method != method || r.URL.Path != path {
		return fmt.Sprintf("%s %s, want %s %s", r.Method, r.URL.Path, method, path)
	}
	for k, v := range headers {
		if got := r.Header.Get(k); got != v {
			return fmt.Sprintf("header %s = %q, want %q", k, got, v)
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestGitHubProtocol(t *testing.T) {
	token := fake(t, "ghp_", 36)
	api := newVendor(t, func(r *http.Request, _ string) string {
		return want(r, "GET", "/api/v3/user", map[string]string{
			"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
		})
	}, func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			writeJSON(w, 401, map[string]string{"message": "Bad credentials"})
			return
		}
		writeJSON(w, 200, map[string]any{"login": "octo-test", "id": 1})
	})
	// GitHub Enterprise's API lives under /api/v3.
	v := loopback(Options{Endpoints: map[string]string{KindGitHub: api.URL + "/api/v3"}})
	defer v.Close()
	c, ok := FromRule("github-pat", token)
	if !ok {
		t.Fatal("github-pat not a verifiable rule")
	}
	check(t, v, c, StatusVerified, "octo-test")
	c.Secret = fake(t, "ghp_", 36)
	check(t, v, c, StatusInvalid, "")
	fine, _ := FromRule("github-fine-grained-pat", "github_pat_"+fake(t, "", 82))
	check(t, v, fine, StatusInvalid, "")
}

func TestGitLabProtocol(t *testing.T) {
	token := fake(t, "glpat-", 20)
	api := newVendor(t, func(r *http.Request, _ string) string {
		if r.Header.Get("Authorization") != "" {
			return "Authorization header sent; GitLab takes PRIVATE-TOKEN"
		}
		return want(r, "GET", "/api/v4/user", nil)
	}, func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.Header.Get("PRIVATE-TOKEN") != token {
			writeJSON(w, 401, map[string]string{"message": "401 Unauthorized"})
			return
		}
		writeJSON(w, 200, map[string]any{"username": "gl-tester", "id": 7})
	})
	v := loopback(Options{Endpoints: map[string]string{KindGitLab: api.URL}})
	defer v.Close()
	c, _ := FromRule("gitlab-pat", token)
	check(t, v, c, StatusVerified, "gl-tester")
	c.Secret = fake(t, "glpat-", 20)
	check(t, v, c, StatusInvalid, "")
}

func TestSlackProtocol(t *testing.T) {
	token := "xoxb-" + fake(t, "", 10) + "-" + fake(t, "", 12) + "-" + fake(t, "", 24)
	api := newVendor(t, func(r *http.Request, body string) string {
		return want(r, "POST", "/api/auth.test", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}, func(w http.ResponseWriter, r *http.Request, _ string) {
		// Slack answers 200 either way; ok says which.
		if r.Header.Get("Authorization") != "Bearer "+token {
			writeJSON(w, 200, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true, "url": "https://test.slack.com/", "team": "Test Team", "user": "bot", "team_id": "T1", "user_id": "U1"})
	})
	v := loopback(Options{Endpoints: map[string]string{KindSlack: api.URL}})
	defer v.Close()
	c, ok := FromRule("slack-bot-token", token)
	if !ok {
		t.Fatal("slack-bot-token not a verifiable rule")
	}
	check(t, v, c, StatusVerified, "bot@Test Team")
	c.Secret = "xoxb-" + fake(t, "", 40)
	check(t, v, c, StatusInvalid, "")
}

func TestStripeProtocol(t *testing.T) {
	key := fake(t, "sk_live_", 24)
	api := newVendor(t, func(r *http.Request, _ string) string {
		return want(r, "GET", "/v1/account", nil)
	}, func(w http.ResponseWriter, r *http.Request, _ string) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != key || pass != "" {
			writeJSON(w, 401, map[string]any{"error": map[string]string{"type": "invalid_request_error"}})
			return
		}
		writeJSON(w, 200, map[string]any{"id": "acct_test123", "object": "account"})
	})
	v := loopback(Options{Endpoints: map[string]string{KindStripe: api.URL}})
	defer v.Close()
	c, _ := FromRule("stripe-access-token", key)
	check(t, v, c, StatusVerified, "acct_test123")
	c.Secret = fake(t, "sk_live_", 24)
	check(t, v, c, StatusInvalid, "")
}

func TestSendGridProtocol(t *testing.T) {
	key := "SG." + fake(t, "", 22) + "." + fake(t, "", 43)
	api := newVendor(t, func(r *http.Request, _ string) string {
		return want(r, "GET", "/v3/scopes", nil)
	}, func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			writeJSON(w, 401, map[string]any{"errors": []map[string]string{{"message": "authorization required"}}})
			return
		}
		writeJSON(w, 200, map[string]any{"scopes": []string{"mail.send", "user.profile.read"}})
	})
	v := loopback(Options{Endpoints: map[string]string{KindSendGrid: api.URL}})
	defer v.Close()
	c, _ := FromRule("sendgrid-api-token", key)
	r := check(t, v, c, StatusVerified, "")
	if r.Reason != "key with 2 scopes" {
		t.Errorf("reason %q", r.Reason)
	}
	c.Secret = "SG." + fake(t, "", 22) + "." + fake(t, "", 43)
	check(t, v, c, StatusInvalid, "")
}

// TestAWSProtocol checks the SigV4 signature of GetCallerIdentity by
// signing the same request again in the server with AWS's own Go SDK
// signer (an independent implementation) and comparing.
func TestAWSProtocol(t *testing.T) {
	keyID := fake(t, "AKIA", 0) + strings.ToUpper(fake(t, "", 16))
	keyID = "AKIA" + strings.Map(func(r rune) rune { // base32 alphabet of key ids
		if r >= '0' && r <= '9' {
			return 'A' + (r - '0')
		}
		return r
	}, keyID[4:])
	secret := fake(t, "", 40)
	const arn = "arn:aws:iam::000000000000:user/layerscan-test"
	api := newVendor(t, func(r *http.Request, body string) string {
		if p := want(r, "POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}); p != "" {
			return p
		}
		if body != "Action=GetCallerIdentity&Version=2011-06-15" {
			return "body " + body
		}
		if r.URL.RawQuery != "" {
			return "query " + r.URL.RawQuery
		}
		return ""
	}, func(w http.ResponseWriter, r *http.Request, body string) {
		stsError := func(code string) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(403)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>`, code)
		}
		auth := r.Header.Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+keyID+"/") {
			stsError("InvalidClientTokenId")
			return
		}
		when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil {
			stsError("IncompleteSignature")
			return
		}
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.Path, nil)
		again.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		sum := sha256hex(body)
		err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
			again, sum, "sts", "us-east-1", when)
		if err != nil || again.Header.Get("Authorization") != auth {
			stsError("SignatureDoesNotMatch")
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AIDATEST</UserId><Account>000000000000</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, arn)
	})
	v := loopback(Options{Endpoints: map[string]string{KindAWS: api.URL}})
	defer v.Close()

	creds := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = eu-west-1\n", keyID, secret)
	c := only(t, FromFile("/root/.aws/credentials", []byte(creds)), KindAWS)
	check(t, v, c, StatusVerified, arn)

	wrongSecret := c
	wrongSecret.Secret = fake(t, "", 40)
	r := check(t, v, wrongSecret, StatusInvalid, "")
	if !strings.Contains(r.Reason, "SignatureDoesNotMatch") {
		t.Errorf("reason %q", r.Reason)
	}
	wrongKey := c
	wrongKey.KeyID = "AKIA" + strings.Repeat("Q", 16)
	r = check(t, v, wrongKey, StatusInvalid, "")
	if !strings.Contains(r.Reason, "InvalidClientTokenId") {
		t.Errorf("reason %q", r.Reason)
	}

	// The key id alone (gitleaks' aws-access-token) cannot be tried.
	idOnly, ok := FromRule("aws-access-token", keyID)
	if !ok {
		t.Fatal("aws-access-token not a verifiable rule")
	}
	before := api.requests.Load()
	check(t, v, idOnly, StatusUnknown, "")
	if api.requests.Load() != before {
		t.Error("a key id without its secret was sent")
	}
}

func TestNPMTokenWithoutRegistryGoesToNPMEndpoint(t *testing.T) {
	token := fake(t, "npm_", 36)
	api := newVendor(t, func(r *http.Request, _ string) string {
		return want(r, "GET", "/-/whoami", map[string]string{"Authorization": "Bearer " + token})
	}, func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, 200, map[string]string{"username": "npm-tester"})
	})
	v := loopback(Options{Endpoints: map[string]string{KindNPM: api.URL + "/"}})
	defer v.Close()
	c, ok := FromRule("npm-access-token", token)
	if !ok || c.URL != "" {
		t.Fatalf("FromRule = %+v, %v; want no URL (the npm endpoint)", c, ok)
	}
	check(t, v, c, StatusVerified, "npm-tester")
}
