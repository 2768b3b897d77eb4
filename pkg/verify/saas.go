package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// newRequest builds a request with ctx; the URL is always one the
// Verifier built, so an error is a bug worth reporting as unknown.
func newRequest(ctx context.Context, method string, u *url.URL, body string) (*http.Request, error) {
	var req *http.Request
	var err error
	if body == "" {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(body))
	}
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	return req, nil
}

// saasGET sends one request with the credential in a header set by auth
// to the kind's endpoint + path and returns the answer.
func (v *Verifier) saasCall(ctx context.Context, kind, method, path, body string, auth func(*http.Request)) (*response, Result, bool) {
	base, s, err := v.endpoint(kind)
	if err != nil {
		return nil, unknown(err.Error()), false
	}
	req, err := newRequest(ctx, method, join(base, path), body)
	if err != nil {
		return nil, unknownErr(kind, err), false
	}
	auth(req)
	r, err := do(v.client(s), req)
	if err != nil {
		return nil, unknownErr(kind, err), false
	}
	return r, Result{}, true
}

// github: GET /user with "Authorization: Bearer TOKEN" (GitHub REST API,
// "Get the authenticated user"); the login is the identity.
func (v *Verifier) github(ctx context.Context, c Credential) Result {
	r, res, ok := v.saasCall(ctx, KindGitHub, http.MethodGet, "/user", "", func(req *http.Request) {
		req.Header.Set("Authorization", "Bearer "+c.Secret)
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	})
	if !ok {
		return res
	}
	if res, done := httpVerdict("GitHub /user", r); done {
		if r.status == http.StatusForbidden {
			return unknown("GitHub /user answered 403 (rate limit, or a token that cannot read the user)")
		}
		return res
	}
	var u struct {
		Login string `json:"login"`
	}
	if err := json.Unmarshal(r.body, &u); err != nil || u.Login == "" {
		return unknown("GitHub /user answered 200 without a login")
	}
	return verified(u.Login)
}

// gitlab: GET /api/v4/user with "PRIVATE-TOKEN: TOKEN"; the username is the
// identity. A 403 insufficient_scope is a valid token without read_user.
func (v *Verifier) gitlab(ctx context.Context, c Credential) Result {
	r, res, ok := v.saasCall(ctx, KindGitLab, http.MethodGet, "/api/v4/user", "", func(req *http.Request) {
		req.Header.Set("PRIVATE-TOKEN", c.Secret)
	})
	if !ok {
		return res
	}
	if res, done := httpVerdict("GitLab /api/v4/user", r); done {
		if r.status == http.StatusForbidden && strings.Contains(string(r.body), "insufficient_scope") {
			return Result{Status: StatusVerified, Reason: "token accepted without a scope to read the user"}
		}
		return res
	}
	var u struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(r.body, &u); err != nil || u.Username == "" {
		return unknown("GitLab /api/v4/user answered 200 without a username")
	}
	return verified(u.Username)
}

// slackInvalid are auth.test errors that mean the token is no good.
var slackInvalid = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true,
	"token_revoked": true, "token_expired": true,
}

// slack: POST /api/auth.test with "Authorization: Bearer TOKEN"; the
// identity is user@team.
func (v *Verifier) slack(ctx context.Context, c Credential) Result {
	r, res, ok := v.saasCall(ctx, KindSlack, http.MethodPost, "/api/auth.test", "", func(req *http.Request) {
		req.Header.Set("Authorization", "Bearer "+c.Secret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	})
	if !ok {
		return res
	}
	if res, done := httpVerdict("Slack auth.test", r); done {
		return res
	}
	var a struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		User  string `json:"user"`
		Team  string `json:"team"`
	}
	if err := json.Unmarshal(r.body, &a); err != nil {
		return unknown("Slack auth.test answered 200 without JSON")
	}
	switch {
	case a.OK && a.User != "" && a.Team != "":
		return verified(a.User + "@" + a.Team)
	case a.OK:
		return verified(a.User + a.Team)
	case slackInvalid[a.Error]:
		return invalid("Slack auth.test: " + a.Error)
	default:
		return unknown("Slack auth.test: " + a.Error)
	}
}

// stripe: GET /v1/account with the key as the basic-auth user and no
// password; the account id is the identity. 403 is a restricted key
// without the permission: valid.
func (v *Verifier) stripe(ctx context.Context, c Credential) Result {
	r, res, ok := v.saasCall(ctx, KindStripe, http.MethodGet, "/v1/account", "", func(req *http.Request) {
		req.SetBasicAuth(c.Secret, "")
	})
	if !ok {
		return res
	}
	if res, done := httpVerdict("Stripe /v1/account", r); done {
		if r.status == http.StatusForbidden {
			return Result{Status: StatusVerified, Reason: "restricted key without permission to read the account"}
		}
		return res
	}
	var a struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	}
	if err := json.Unmarshal(r.body, &a); err != nil || a.ID == "" {
		return unknown("Stripe /v1/account answered 200 without an account id")
	}
	return verified(a.ID)
}

// sendgrid: GET /v3/scopes with "Authorization: Bearer KEY" (every key may
// read its own scopes).
func (v *Verifier) sendgrid(ctx context.Context, c Credential) Result {
	r, res, ok := v.saasCall(ctx, KindSendGrid, http.MethodGet, "/v3/scopes", "", func(req *http.Request) {
		req.Header.Set("Authorization", "Bearer "+c.Secret)
	})
	if !ok {
		return res
	}
	if res, done := httpVerdict("SendGrid /v3/scopes", r); done {
		return res
	}
	var s struct {
		Scopes []string `json:"scopes"`
	}
	if err := json.Unmarshal(r.body, &s); err != nil {
		return unknown("SendGrid /v3/scopes answered 200 without JSON")
	}
	return Result{Status: StatusVerified, Reason: fmt.Sprintf("key with %d scopes", len(s.Scopes))}
}

// urlTarget reads c.URL as an http(s) URL on c.Host (when set): the only
// place a URL-bound credential (git, npm) is sent.
func urlTarget(c Credential) (*url.URL, scope, error) {
	u, err := url.Parse(strings.TrimSpace(c.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, nil, fmt.Errorf("%s credential without an http(s) URL", c.Kind)
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	hp, ok := urlHostPort(u)
	if !ok {
		return nil, nil, fmt.Errorf("bad host in the %s URL", c.Kind)
	}
	if c.Host != "" {
		if want, ok := hostPort(c.Host, defaultPorts[u.Scheme]); !ok || want != hp {
			return nil, nil, fmt.Errorf("the %s URL's host is not the credential's host", c.Kind)
		}
	}
	return u, scope{hp: true}, nil
}

// npm: GET REGISTRY/-/whoami with "Authorization: Bearer TOKEN" (or basic
// auth for a user and password); the username is the identity.
func (v *Verifier) npm(ctx context.Context, c Credential) Result {
	var base *url.URL
	var s scope
	var err error
	if c.URL == "" {
		base, s, err = v.endpoint(KindNPM)
	} else {
		base, s, err = urlTarget(c)
	}
	if err != nil {
		return unknown(err.Error())
	}
	req, err := newRequest(ctx, http.MethodGet, join(base, "/-/whoami"), "")
	if err != nil {
		return unknownErr("npm", err)
	}
	req.Header.Set("Accept", "application/json")
	if c.Username != "" {
		req.SetBasicAuth(c.Username, c.Secret)
	} else {
		req.Header.Set("Authorization", "Bearer "+c.Secret)
	}
	r, err := do(v.client(s), req)
	if err != nil {
		return unknownErr("npm", err)
	}
	if res, done := httpVerdict("npm whoami", r); done {
		if r.status == http.StatusForbidden {
			return invalid("npm whoami answered 403 Forbidden")
		}
		return res
	}
	var w struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(r.body, &w); err != nil {
		return unknown("npm whoami answered 200 without JSON")
	}
	if w.Username == "" {
		// Verdaccio answers an unknown token so: the request was anonymous.
		return invalid("npm whoami: the registry knows no user for the credential")
	}
	return verified(w.Username)
}

// gitHTTP: GET URL/info/refs?service=git-upload-pack (git's smart HTTP
// discovery), first without credentials (a public repository answers 200
// to anyone: nothing to learn), then with basic auth: 200 verified,
// 401/403 invalid. The identity is the user (git's protocol names none).
func (v *Verifier) gitHTTP(ctx context.Context, c Credential) Result {
	u, s, err := urlTarget(c)
	if err != nil {
		return unknown(err.Error())
	}
	if strings.Trim(u.Path, "/") == "" {
		return unknown("git credential without a repository path to try")
	}
	refs := join(u, "/info/refs")
	refs.RawQuery = "service=git-upload-pack"
	cl := v.client(s)
	get := func(withAuth bool) (*response, error) {
		req, err := newRequest(ctx, http.MethodGet, refs, "")
		if err != nil {
			return nil, err
		}
		req.Header.Set("Git-Protocol", "version=2")
		if withAuth {
			user := c.Username
			if user == "" {
				user = "git"
			}
			req.SetBasicAuth(user, c.Secret)
		}
		return do(cl, req)
	}
	anon, err := get(false)
	if err != nil {
		return unknownErr("git", err)
	}
	switch anon.status {
	case http.StatusOK:
		return unknown("the repository is readable without credentials: nothing to check them against")
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
	default:
		res, _ := httpVerdict("git info/refs", anon)
		return res
	}
	r, err := get(true)
	if err != nil {
		return unknownErr("git", err)
	}
	switch r.status {
	case http.StatusOK:
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/x-git-upload-pack-advertisement") {
			return unknown("git info/refs answered 200 but not with git's smart protocol")
		}
		return verified(c.Username)
	case http.StatusUnauthorized, http.StatusForbidden:
		return invalid(fmt.Sprintf("git info/refs answered %d with the credential", r.status))
	default:
		res, _ := httpVerdict("git info/refs", r)
		return res
	}
}
