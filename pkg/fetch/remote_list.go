package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultMaxNames bounds the repositories of a catalog, and the tags of
// one repository, that are read (WithMaxNames).
const DefaultMaxNames = 1_000_000

// maxPages bounds the pages of one catalog or tag list.
const maxPages = 100000

// WithMaxNames bounds the repositories of a catalog, and the tags of one
// repository, that are read: more is an error.
func WithMaxNames(n int) Option {
	return func(o *Options) {
		if n > 0 {
			o.MaxNames = n
		}
	}
}

// WithPageSize asks for catalog and tag list pages of n names (0: the
// registry's default).
func WithPageSize(n int) Option { return func(o *Options) { o.PageSize = max(n, 0) } }

// WithQPS limits the requests per second to a registry, every one counted
// (blob downloads and retries included); 0: no limit.
func WithQPS(qps float64) Option { return func(o *Options) { o.QPS = max(qps, 0) } }

// The catalog and tag lists are read here rather than with remote.Catalog
// and remote.List: those refuse a Link to https when they believe a
// loopback registry speaks http, and the next-page URL is taken here
// relative to the request, as RFC 8288 says.

// Catalog lists every repository of the registry (/v2/_catalog), following
// Link headers.
func (r *Remote) Catalog(ctx context.Context) ([]string, error) {
	var page struct {
		Repositories []string `json:"repositories"`
	}
	var out []string
	err := r.pages(ctx, "registry:catalog:*", "/v2/_catalog", func(body io.Reader) error {
		page.Repositories = nil
		if err := json.NewDecoder(io.LimitReader(body, 64<<20)).Decode(&page); err != nil {
			return err
		}
		if len(out)+len(page.Repositories) > r.maxNames() {
			return fmt.Errorf("the catalog lists more than %d repositories (--max-names)", r.maxNames())
		}
		out = append(out, page.Repositories...)
		return nil
	})
	if err != nil {
		return nil, classifyRemote(err)
	}
	return out, nil
}

// Tags lists every tag of repo, following Link headers.
func (r *Remote) Tags(ctx context.Context, repo string) ([]string, error) {
	rp, err := r.Repository(repo)
	if err != nil {
		return nil, err
	}
	var page struct {
		Tags []string `json:"tags"`
	}
	var out []string
	err = r.pages(ctx, rp.Scope(transport.PullScope), "/v2/"+rp.RepositoryStr()+"/tags/list", func(body io.Reader) error {
		page.Tags = nil
		if err := json.NewDecoder(io.LimitReader(body, 64<<20)).Decode(&page); err != nil {
			return err
		}
		if len(out)+len(page.Tags) > r.maxNames() {
			return fmt.Errorf("%s lists more than %d tags (--max-names)", rp.RepositoryStr(), r.maxNames())
		}
		out = append(out, page.Tags...)
		return nil
	})
	if err != nil {
		return nil, classifyRemote(err)
	}
	return out, nil
}

func (r *Remote) maxNames() int {
	if r.o.MaxNames > 0 {
		return r.o.MaxNames
	}
	return DefaultMaxNames
}

// pages reads a paginated list: every page, following rel="next" Link
// headers on the same host only, never a page twice.
func (r *Remote) pages(ctx context.Context, scope, path string, decode func(io.Reader) error) error {
	tr, err := r.transport(ctx, scope)
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
	next := &url.URL{Scheme: r.reg.Scheme(), Host: r.reg.RegistryStr(), Path: path}
	if r.o.PageSize > 0 {
		next.RawQuery = "n=" + strconv.Itoa(r.o.PageSize)
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
		err := retry(ctx, r.o.BlobAttempts, transient, func() error {
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
