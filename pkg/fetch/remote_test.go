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
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// anonymous keeps the tests away from the user's docker config.
var anonymous = fetch.WithKeychain(authn.NewMultiKeychain())

const (
	regUser = "scanner"
	regPass = "s3cret-pass"
)

type testRegistry struct {
	// host serves without auth; authHost serves the same content and
	// demands basic auth.
	host, authHost string
}

// startRegistry runs go-containerregistry's in-process registry with the
// lifecycle fixture as fixtures/lifecycle:v1 and the multiarch index as
// fixtures/multiarch:v1.
func startRegistry(t *testing.T) testRegistry {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	open := httptest.NewServer(reg)
	t.Cleanup(open.Close)
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != regUser || p != regPass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(auth.Close)
	tr := testRegistry{host: strings.TrimPrefix(open.URL, "http://"), authHost: strings.TrimPrefix(auth.URL, "http://")}

	lifecycle, err := testimage.FixtureByName("lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	multiarch, err := testimage.FixtureByName("multiarch")
	if err != nil {
		t.Fatal(err)
	}
	lref, err := name.ParseReference(tr.host + "/fixtures/lifecycle:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(lref, lifecycle.Image); err != nil {
		t.Fatalf("pushing lifecycle: %v", err)
	}
	mref, err := name.ParseReference(tr.host + "/fixtures/multiarch:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(mref, multiarch.Index); err != nil {
		t.Fatalf("pushing multiarch: %v", err)
	}
	return tr
}

func TestRegistry(t *testing.T) {
	reg := startRegistry(t)

	t.Run("image", func(t *testing.T) {
		f, err := testimage.FixtureByName("lifecycle")
		if err != nil {
			t.Fatal(err)
		}
		w := describe(t, f.Image)
		ref := reg.host + "/fixtures/lifecycle:v1"
		src := open(t, ref, anonymous)
		if src.Kind != fetch.KindRegistry {
			t.Errorf("kind %s", src.Kind)
		}
		img := onlyImage(t, src)
		if !strings.Contains(img.Ref, "fixtures/lifecycle:v1") {
			t.Errorf("ref %q", img.Ref)
		}
		if img.Platform != "linux/amd64" {
			t.Errorf("platform %q", img.Platform)
		}
		checkImage(t, ref, fetch.KindRegistry, img, w)

		// By digest, too.
		byDigest := reg.host + "/fixtures/lifecycle@" + w.digest.String()
		checkImage(t, byDigest, fetch.KindRegistry, onlyImage(t, open(t, byDigest, anonymous)), w)
	})

	t.Run("index", func(t *testing.T) {
		f, err := testimage.FixtureByName("multiarch")
		if err != nil {
			t.Fatal(err)
		}
		want := fixtureImages(t, f)
		ref := reg.host + "/fixtures/multiarch:v1"
		for _, tt := range []struct {
			platform string
			want     []string
		}{
			{"", []string{"linux/amd64"}},
			{"linux/arm64/v8", []string{"linux/arm64/v8"}},
			{"linux/arm64", []string{"linux/arm64/v8"}},
			{"all", []string{"linux/amd64", "linux/arm64/v8"}},
		} {
			src := open(t, ref, anonymous, fetch.WithPlatform(tt.platform))
			var got []string
			for _, img := range src.Images {
				got = append(got, img.Platform)
				checkImage(t, ref+" "+img.Platform, fetch.KindRegistry, img, want[img.Platform])
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("platform %q: got %v, want %v", tt.platform, got, tt.want)
			}
		}
		_, err = fetch.Open(context.Background(), ref, anonymous, fetch.WithPlatform("linux/s390x"))
		if !errors.Is(err, fetch.ErrNoPlatform) {
			t.Fatalf("linux/s390x: %v, want ErrNoPlatform", err)
		}
		for _, s := range []string{"linux/amd64", "linux/arm64/v8"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not name %s", err, s)
			}
		}
	})

	t.Run("basic auth", func(t *testing.T) {
		ref := reg.authHost + "/fixtures/lifecycle:v1"
		img := onlyImage(t, open(t, ref, fetch.WithBasicAuth(regUser, regPass)))
		walkImage(t, img)

		for _, opts := range [][]fetch.Option{
			{anonymous},
			{fetch.WithBasicAuth(regUser, "wrong-password")},
		} {
			_, err := fetch.Open(context.Background(), ref, opts...)
			if !errors.Is(err, fetch.ErrUnauthorized) {
				t.Errorf("%v, want ErrUnauthorized", err)
				continue
			}
			if strings.Contains(err.Error(), "wrong-password") || strings.Contains(err.Error(), regPass) {
				t.Errorf("error shows the password: %v", err)
			}
		}
	})

	t.Run("not found", func(t *testing.T) {
		for _, ref := range []string{
			reg.host + "/fixtures/lifecycle:nope",
			reg.host + "/fixtures/no-such-repo:v1",
			reg.host + "/fixtures/lifecycle@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		} {
			_, err := fetch.Open(context.Background(), ref, anonymous)
			if !errors.Is(err, fetch.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", ref, err)
			} else if !strings.Contains(err.Error(), strings.TrimPrefix(ref, reg.host+"/")) {
				t.Errorf("%s: error %q does not name the reference", ref, err)
			}
		}
	})
}

func TestRegistryUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = fetch.Open(ctx, addr+"/app/image:1.0", anonymous)
	if !errors.Is(err, fetch.ErrUnreachable) {
		t.Fatalf("%v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name %s", err, addr)
	}
}

func TestBadReference(t *testing.T) {
	_, err := fetch.Open(context.Background(), "Not A Reference::x", anonymous)
	if !errors.Is(err, fetch.ErrBadReference) {
		t.Fatalf("%v, want ErrBadReference", err)
	}
}

// TestHostileRegistryBounds: a manifest larger than --max-metadata-size is
// refused from its Content-Length, and one that runs past it is cut, each
// after one request; a blob that trickles (never stalling) misses its
// download deadline.
func TestHostileRegistryBounds(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	up := httptest.NewServer(reg)
	defer up.Close()
	img, err := testimage.FixtureByName("lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(strings.TrimPrefix(up.URL, "http://")+"/app:v1", name.Insecure)
	if err := remote.Write(ref, img.Image); err != nil {
		t.Fatal(err)
	}
	cfgName, _ := img.Image.ConfigName()
	var manifests, blobs int
	mode := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodGet && mode == "huge":
			manifests++
			w.Header().Set("Content-Length", "209715200")
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Write([]byte(`{"schemaVersion":2`))
			return
		case strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodGet && mode == "long":
			manifests++
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.(http.Flusher).Flush() // chunked: no Content-Length
			w.Write([]byte(`{"schemaVersion":2,"x":"` + strings.Repeat("a", 3000) + `"}`))
			return
		case strings.Contains(r.URL.Path, "/blobs/") && mode == "trickle" && r.Method == http.MethodGet:
			blobs++
			rec := httptest.NewRecorder()
			reg.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if strings.HasSuffix(r.URL.Path, cfgName.String()) { // the config: at once
				w.Write(body)
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			for _, b := range body {
				if _, err := w.Write([]byte{b}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	target := strings.TrimPrefix(srv.URL, "http://") + "/app:v1"
	for _, m := range []string{"huge", "long"} {
		mode, manifests = m, 0
		_, err := fetch.Open(context.Background(), target, anonymous, fetch.WithInsecure(true), fetch.WithMaxMetadataSize(1024))
		if !errors.Is(err, fetch.ErrTooLarge) || manifests != 1 {
			t.Errorf("%s manifest: %v after %d requests, want ErrTooLarge after 1", m, err, manifests)
		}
	}
	mode = "trickle"
	src, err := fetch.Open(context.Background(), target, anonymous, fetch.WithInsecure(true), fetch.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start := time.Now()
	rc, err := src.Images[0].Layers[0].Open()
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	if !errors.Is(err, fetch.ErrTooSlow) || time.Since(start) > 5*time.Second {
		t.Errorf("trickled blob: %v after %s, want ErrTooSlow soon", err, time.Since(start))
	}
}
