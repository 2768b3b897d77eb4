package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// realmHosts are token services known to serve a registry on another
// host: Docker Hub's and GitLab.com's. Any other realm must be on the
// registry's own host name.
var realmHosts = map[string]string{
	"registry-1.docker.io": "auth.docker.io",
	"registry.gitlab.com":  "gitlab.com",
}

// registry follows the Distribution auth flow: GET /v2/ without
// credentials to learn the challenge; for Basic, GET /v2/ with basic auth;
// for Bearer, ask the realm (only on the registry's own host name, or its
// known token service) for a token with basic auth (or, for an identity
// token, POST an OAuth2 refresh_token grant).
func (v *Verifier) registry(ctx context.Context, c Credential) Result {
	scheme := "https"
	if strings.HasPrefix(strings.ToLower(c.URL), "http://") {
		scheme = "http"
	}
	hp, ok := hostPort(c.Host, defaultPorts[scheme])
	if !ok {
		return unknown("registry credential without a host")
	}
	if c.URL != "" {
		if ref, ok := registryFromKey(c.URL); !ok || ref.host != hp {
			return unknown("the registry URL's host is not the credential's host")
		}
	}
	s := scope{hp: true}
	cl := v.client(s)
	base := &url.URL{Scheme: scheme, Host: hp, Path: "/v2/"}
	req, err := newRequest(ctx, http.MethodGet, base, "")
	if err != nil {
		return unknownErr("registry", err)
	}
	r, err := do(cl, req)
	if err != nil {
		return unknownErr("registry", err)
	}
	switch r.status {
	case http.StatusOK:
		return unknown("the registry answers /v2/ without credentials: nothing to check them against")
	case http.StatusUnauthorized:
	default:
		res, _ := httpVerdict("registry /v2/", r)
		return res
	}
	ch := parseChallenge(r.header.Get("WWW-Authenticate"))
	switch ch.scheme {
	case "basic":
		if c.Username == identityToken {
			return unknown("an identity token for a registry that asks for basic auth")
		}
		req, err := newRequest(ctx, http.MethodGet, base, "")
		if err != nil {
			return unknownErr("registry", err)
		}
		req.SetBasicAuth(c.Username, c.Secret)
		r, err := do(cl, req)
		if err != nil {
			return unknownErr("registry", err)
		}
		if res, done := httpVerdict("registry /v2/", r); done {
			if r.status == http.StatusForbidden {
				return invalid("registry /v2/ answered 403 Forbidden")
			}
			return res
		}
		return verified(c.Username)
	case "bearer":
		return v.registryToken(ctx, c, cl, s, scheme, hp, ch.params)
	default:
		return unknown("registry asks for an authentication scheme other than Basic or Bearer")
	}
}

func (v *Verifier) registryToken(ctx context.Context, c Credential, cl *http.Client, s scope, scheme, hp string, params map[string]string) Result {
	realm, err := url.Parse(params["realm"])
	if err != nil || realm.Host == "" || realm.User != nil ||
		(realm.Scheme != "https" && !(realm.Scheme == "http" && scheme == "http")) {
		return unknown("registry's token realm is not a usable URL")
	}
	rhp, ok := urlHostPort(realm)
	if !ok {
		return unknown("registry's token realm has a bad host")
	}
	if h := hostname(rhp); h != hostname(hp) && realmHosts[hostname(hp)] != h {
		return unknown("registry's token realm is on another host (" + h + "): credential not sent there")
	}
	s[rhp] = true
	q := realm.Query()
	if svc := params["service"]; svc != "" {
		q.Set("service", svc)
	}
	var req *http.Request
	if c.Username == identityToken {
		form := url.Values{}
		for k, vs := range q {
			form[k] = vs
		}
		form.Set("grant_type", "refresh_token")
		form.Set("client_id", "layerscan")
		form.Set("refresh_token", c.Secret)
		realm.RawQuery = ""
		req, err = newRequest(ctx, http.MethodPost, realm, form.Encode())
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		if c.Username != "" {
			q.Set("account", c.Username)
		}
		realm.RawQuery = q.Encode()
		req, err = newRequest(ctx, http.MethodGet, realm, "")
		if err == nil {
			req.SetBasicAuth(c.Username, c.Secret)
		}
	}
	if err != nil {
		return unknownErr("registry token", err)
	}
	r, err := do(cl, req)
	if err != nil {
		return unknownErr("registry token", err)
	}
	if res, done := httpVerdict("registry token service", r); done {
		if r.status == http.StatusForbidden || (r.status == http.StatusBadRequest && c.Username == identityToken) {
			return invalid("registry token service refused the credential")
		}
		return res
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || (tok.Token == "" && tok.AccessToken == "") {
		return unknown("registry token service answered 200 without a token")
	}
	if c.Username == identityToken {
		return verified("")
	}
	return verified(c.Username)
}

// challenge is a parsed WWW-Authenticate header (its first challenge).
type challenge struct {
	scheme string // lower case
	params map[string]string
}

// parseChallenge reads `Bearer realm="…",service="…",scope="…"`.
func parseChallenge(h string) challenge {
	h = strings.TrimSpace(h)
	sch, rest, _ := strings.Cut(h, " ")
	ch := challenge{scheme: strings.ToLower(sch), params: map[string]string{}}
	for len(rest) > 0 && len(ch.params) < 16 {
		rest = strings.TrimLeft(rest, " ,")
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		var val string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				b.WriteByte(after[i])
			}
			val, rest = b.String(), after[min(i+1, len(after)):]
		} else {
			val, rest, _ = strings.Cut(after, ",")
			val = strings.TrimSpace(val)
		}
		ch.params[k] = val
	}
	return ch
}
