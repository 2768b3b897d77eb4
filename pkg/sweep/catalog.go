package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// maxPages bounds the pages of one catalog or tag list.
const maxPages = 100000

// DefaultMaxNames bounds the repositories of a catalog, and the tags of
// one repository, a sweep reads (Options.MaxNames).
const DefaultMaxNames = 1_000_000

// The catalog and tag lists are read here rather than with remote.Catalog
// and remote.List: those refuse a Link to https when they believe a
// loopback registry speaks http, and the next-page URL is taken here
// relative to the request, as RFC 8288 says.

// catalog lists every repository, following Link headers.
func (s *sweeper) catalog(ctx context.Context) ([]string, error) {
	var page struct {
		Repositories []string `json:"repositories"`
	}
	var out []string
	err := s.pages(ctx, []string{"registry:catalog:*"}, "/v2/_catalog", func(r io.Reader) error {
		page.Repositories = nil
		if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&page); err != nil {
			return err
		}
		if len(out)+len(page.Repositories) > s.maxNames() {
			return fmt.Errorf("the catalog lists more than %d repositories (--max-names)", s.maxNames())
		}
		out = append(out, page.Repositories...)
		return nil
	})
	return out, err
}

// tags lists every tag of repo, following Link headers.
func (s *sweeper) tags(ctx context.Context, repo name.Repository) ([]string, error) {
	var page struct {
		Tags []string `json:"tags"`
	}
	var out []string
	err := s.pages(ctx, []string{repo.Scope(transport.PullScope)}, "/v2/"+repo.RepositoryStr()+"/tags/list", func(r io.Reader) error {
		page.Tags = nil
		if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&page); err != nil {
			return err
		}
		if len(out)+len(page.Tags) > s.maxNames() {
			return fmt.Errorf("%s lists more than %d tags (--max-names)", repo.RepositoryStr(), s.maxNames())
		}
		out = append(out, page.Tags...)
		return nil
	})
	return out, err
}

func (s *sweeper) maxNames() int {
	if s.o.MaxNames > 0 {
		return s.o.MaxNames
	}
	return DefaultMaxNames
}

func (s *sweeper) authenticator() (authn.Authenticator, error) {
	switch {
	case s.o.Auth != nil:
		return s.o.Auth, nil
	case s.o.Keychain != nil:
		return s.o.Keychain.Resolve(s.reg)
	}
	return authn.DefaultKeychain.Resolve(s.reg)
}

func (s *sweeper) pages(ctx context.Context, scopes []string, path string, decode func(io.Reader) error) error {
	auth, err := s.authenticator()
	if err != nil {
		return err
	}
	rt := transport.NewRetry(s.transport, transport.WithRetryBackoff(transport.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 4}),
		transport.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout))
	if s.o.UserAgent != "" {
		rt = transport.NewUserAgent(rt, s.o.UserAgent)
	}
	tr, err := transport.NewWithContext(ctx, s.reg, auth, rt, scopes)
	if err != nil {
		return err
	}
	// A redirect to another host would hand that host the listing's
	// answer: the registry's repositories, trusted as such. Refused, as a
	// Link to another host is.
	client := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("%s redirects to another host (%s): refused", path, req.URL.Host)
		}
		if len(via) >= 10 {
			return fmt.Errorf("%s: more than 10 redirects", path)
		}
		return nil
	}}
	next := &url.URL{Scheme: s.reg.Scheme(), Host: s.reg.RegistryStr(), Path: path}
	if s.o.PageSize > 0 {
		next.RawQuery = "n=" + strconv.Itoa(s.o.PageSize)
	}
	seen := map[string]bool{}
	for range maxPages {
		if seen[next.String()] {
			return fmt.Errorf("%s: the Link header leads back to a page already read (%s): a loop", path, next)
		}
		seen[next.String()] = true
		// One page: the request and the whole body, again when the body
		// broke off (a reset or truncated answer is no HTTP status, so the
		// transport's own retry does not see it).
		var resp *http.Response
		err := fetch.Retry(ctx, func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
			if err != nil {
				return err
			}
			resp, err = client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if err := transport.CheckError(resp, http.StatusOK); err != nil {
				return err
			}
			if err := decode(resp.Body); err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		link := nextLink(resp.Header.Values("Link"))
		if link == "" {
			return nil
		}
		u, err := resp.Request.URL.Parse(link)
		if err != nil {
			return fmt.Errorf("bad Link header %q: %w", link, err)
		}
		if u.Host != resp.Request.URL.Host {
			return fmt.Errorf("the Link header leads to another host: %s", u.Host)
		}
		next = u
	}
	return fmt.Errorf("%s: more than %d pages", path, maxPages)
}

// nextLink is the target of the rel="next" link among Link header values.
func nextLink(values []string) string {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			target, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.Contains(strings.Trim(val, `"`), "next") {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}
