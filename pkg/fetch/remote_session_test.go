package fetch_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// requestLog counts the requests a registry answers, by method and kind.
type requestLog struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
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
		l.n[r.Method+" "+kind]++
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) get(k string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[k]
}

// One session for a whole registry: the catalog and tags listed, a tag
// resolved with one HEAD, images of an index chosen as Open chooses them
// (attestation manifests skipped), a config shared by two tags read once,
// the registry pinged once per repository, and the bounds of the options
// applied to every read.
func TestRemoteSession(t *testing.T) {
	reqs := &requestLog{n: map[string]int{}}
	srv := httptest.NewServer(reqs.wrap(registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
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
	reqs.n = map[string]int{}
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
	if err != nil || desc.Digest != d || reqs.get("HEAD manifest") != 1 || reqs.get("GET manifest") != 0 {
		t.Fatalf("Head: %v %v, requests %v", desc, err, reqs.n)
	}
	for _, tag := range []string{"1", "2"} {
		res, err := r.Resolve(ctx, "team/app", tag)
		if err != nil || len(res.Images) != 1 || res.Digest != d || len(res.Images[0].Layers) != 3 {
			t.Fatalf("Resolve %s: %+v %v", tag, res, err)
		}
	}
	if n := reqs.get("GET blob"); n != 1 {
		t.Errorf("the config shared by two tags was read %d times, want once", n)
	}
	if n := reqs.get("GET ping"); n > 2 {
		t.Errorf("%d pings for the catalog and one repository, want one each", n)
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
