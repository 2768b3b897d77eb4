package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"golang.org/x/sync/errgroup"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// One session for a whole registry: the catalog and tags listed, a tag
// resolved with one HEAD, images of an index chosen as Open chooses them
// (attestation manifests skipped), a config shared by two tags read once,
// the registry pinged once for the session, and the bounds of the options
// applied to every read.
func TestRemoteSession(t *testing.T) {
	reqs := &testenv.Requests{}
	srv := httptest.NewServer(reqs.Wrap(registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, _ := random.Image(512, 3)
	arm, _ := random.Image(512, 1)
	att, _ := random.Image(64, 1)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}}})
	for _, tag := range []string{"team/app:1", "team/app:2", "other/app:1"} {
		ref, _ := name.ParseReference(host+"/"+tag, name.Insecure)
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	iref, _ := name.ParseReference(host+"/multi/app:1", name.Insecure)
	if err := remote.WriteIndex(iref, idx); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := fetch.NewRemote(host, anonymous, fetch.WithInsecure(true), fetch.WithPlatform("all"))
	if err != nil {
		t.Fatal(err)
	}
	reqs.Reset()
	repos, err := r.Catalog(ctx) // (this registry does not paginate: cmd/layerscan's sweep tests do)
	sort.Strings(repos)
	if err != nil || strings.Join(repos, " ") != "multi/app other/app team/app" {
		t.Fatalf("catalog %v %v", repos, err)
	}
	tags, err := r.Tags(ctx, "team/app")
	if err != nil || strings.Join(tags, " ") != "1 2" {
		t.Fatalf("tags %v %v", tags, err)
	}
	d, _ := img.Digest()
	desc, err := r.Head(ctx, "team/app", "1")
	if err != nil || desc.Digest != d || reqs.Get("HEAD manifest") != 1 || reqs.Get("GET manifest") != 0 {
		t.Fatalf("Head: %v %v, requests %v", desc, err, reqs)
	}
	for _, tag := range []string{"1", "2"} {
		res, err := r.Resolve(ctx, "team/app", tag)
		if err != nil || len(res.Images) != 1 || res.Digest != d || len(res.Images[0].Layers) != 3 {
			t.Fatalf("Resolve %s: %+v %v", tag, res, err)
		}
	}
	if n := reqs.Get("GET blob"); n != 1 {
		t.Errorf("the config shared by two tags was read %d times, want once", n)
	}
	if n := reqs.Get("GET ping"); n != 1 {
		t.Errorf("%d pings for the catalog and one repository, want one", n)
	}
	res, err := r.Resolve(ctx, "multi/app", "1")
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, im := range res.Images {
		plats = append(plats, im.Platform)
	}
	if strings.Join(plats, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("platform all: %v, want the two images and not the attestation", plats)
	}
	// Open chooses the same images.
	src := open(t, host+"/multi/app:1", anonymous, fetch.WithInsecure(true), fetch.WithPlatform("all"))
	if len(src.Images) != len(res.Images) {
		t.Errorf("Open: %d images, the session %d", len(src.Images), len(res.Images))
	}
	// A layer read through the session is counted.
	rc, err := res.Images[0].Layers[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	if r.LayerBytesRead() != res.Images[0].Layers[0].Size || r.BytesRead() <= r.LayerBytesRead() {
		t.Errorf("bytes read %d, of layers %d", r.BytesRead(), r.LayerBytesRead())
	}

	// The bounds of the options.
	for _, c := range []struct {
		opt  fetch.Option
		want string
	}{
		{fetch.WithMaxLayers(2), "--max-layers"},
		{fetch.WithMaxMetadataSize(100), "--max-metadata-size"},
	} {
		b, _ := fetch.NewRemote(host, anonymous, fetch.WithInsecure(true), c.opt)
		if _, err := b.Resolve(ctx, "team/app", "1"); !errors.Is(err, fetch.ErrTooLarge) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.want, err)
		}
	}
	b, _ := fetch.NewRemote(host, anonymous, fetch.WithInsecure(true), fetch.WithMaxNames(2))
	if _, err := b.Catalog(ctx); err == nil || !strings.Contains(err.Error(), "more than 2 repositories") {
		t.Errorf("--max-names: %v", err)
	}
	if _, err := b.Resolve(ctx, "team/app", "nope"); !errors.Is(err, fetch.ErrNotFound) {
		t.Errorf("missing tag: %v, want ErrNotFound", err)
	}
}

// A session pings the registry once, however many repositories it reads
// (more than the transports it keeps) and whether the registry asks for
// basic auth or for bearer tokens: a re-sweep costs a HEAD per tag, not a
// ping per repository too. Bearer tokens are still asked per repository
// (each is scoped to one).
func TestRemotePingsOncePerSession(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	open := httptest.NewServer(reg) // to fill it
	defer open.Close()
	img, _ := random.Image(256, 1)
	const repos = 300 // more than the session keeps transports for
	for i := range repos {
		ref, _ := name.ParseReference(fmt.Sprintf("%s/r%03d/app:1", strings.TrimPrefix(open.URL, "http://"), i), name.Insecure)
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	for _, scheme := range []string{"Basic", "Bearer"} {
		t.Run(scheme, func(t *testing.T) {
			reqs := &testenv.Requests{}
			var tokens, unauthorized atomic.Int64
			var srv *httptest.Server
			srv = httptest.NewUnstartedServer(reqs.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					if u, p, ok := r.BasicAuth(); !ok || u != "sweeper" || p != "pw" {
						w.WriteHeader(http.StatusUnauthorized)
						return
					}
					tokens.Add(1)
					fmt.Fprintf(w, `{"token":"tok-%s"}`, r.URL.Query().Get("scope"))
					return
				}
				authorized := false
				if scheme == "Basic" {
					u, p, ok := r.BasicAuth()
					authorized = ok && u == "sweeper" && p == "pw"
				} else {
					authorized = strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-repository:")
				}
				if !authorized {
					unauthorized.Add(1)
					if scheme == "Basic" {
						w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
					} else {
						w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test"`, srv.URL))
					}
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				reg.ServeHTTP(w, r)
			})))
			// Each connection counted: the ping tries https first (this
			// server is plain http), which fails on a connection of its own.
			var conns atomic.Int64
			srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			r, err := fetch.NewRemote(strings.TrimPrefix(srv.URL, "http://"), fetch.WithBasicAuth("sweeper", "pw"), fetch.WithInsecure(true))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := img.Digest()
			var g errgroup.Group
			g.SetLimit(8)
			for round := range 2 {
				for i := range repos {
					g.Go(func() error {
						d, err := r.Head(context.Background(), fmt.Sprintf("r%03d/app", i), "1")
						if err == nil && d.Digest != want {
							err = fmt.Errorf("round %d r%03d: digest %s", round, i, d.Digest)
						}
						return err
					})
				}
				if err := g.Wait(); err != nil {
					t.Fatal(err)
				}
			}
			if n := reqs.Get("GET ping"); n != 1 {
				t.Errorf("%d pings for %d repositories read twice, want 1", n, repos)
			}
			if n := conns.Load(); n > 20 {
				t.Errorf("%d connections for 8 readers at a time: the failing https ping is tried again for every repository", n)
			}
			if n := reqs.Get("HEAD manifest"); n != 2*repos {
				t.Errorf("%d HEADs, want %d", n, 2*repos)
			}
			switch scheme {
			case "Basic":
				if tokens.Load() != 0 || unauthorized.Load() != 1 {
					t.Errorf("basic: %d tokens, %d unauthorized answers (want 0 and the ping's 1)", tokens.Load(), unauthorized.Load())
				}
			case "Bearer":
				// A token per repository for each transport made: the first
				// 300, and again for those evicted from the session's 256.
				if n := tokens.Load(); n < repos || n > 2*repos {
					t.Errorf("bearer: %d tokens for %d repositories", n, repos)
				}
				if unauthorized.Load() != 1 {
					t.Errorf("bearer: %d unauthorized answers, want the ping's 1", unauthorized.Load())
				}
			}
		})
	}
}
