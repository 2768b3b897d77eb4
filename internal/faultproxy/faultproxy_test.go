package faultproxy_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layerscan/layerscan/internal/faultproxy"
	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/walk"
)

func fixture(t *testing.T, name string) string {
	return filepath.Join(testenv.ImagesDir(), name)
}

// outcome is what a scan saw: per layer its digests and entries and a
// hash of all content handed to the detector, or its error.
type outcome struct {
	layers []string
	errs   []string
}

func scanVia(t *testing.T, host string, reg *testenv.Registry, tr http.RoundTripper, opts ...fetch.Option) (outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts = append([]fetch.Option{fetch.WithTransport(tr), fetch.WithInsecure(true), fetch.WithBasicAuth(reg.Username, reg.Password), fetch.WithJobs(4)}, opts...)
	src, err := fetch.Open(ctx, host+"/app:1", opts...)
	if err != nil {
		return outcome{}, err
	}
	defer src.Close()
	img := src.Images[0]
	var mu sync.Mutex
	content := make([]map[string]string, len(img.Layers))
	for i := range content {
		content[i] = map[string]string{}
	}
	res, err := walk.Walk(ctx, img.Layers, walk.Options{Jobs: 4, Workers: 2}, func(_ context.Context, c *walk.Chunk) error {
		mu.Lock()
		content[c.Layer][fmt.Sprintf("%s@%d", c.Path, c.Offset)] = fmt.Sprintf("%x", sha256.Sum256(c.Data))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return outcome{}, err
	}
	var o outcome
	for i, r := range res {
		var ks []string
		for k, v := range content[i] {
			ks = append(ks, k+"="+v)
		}
		sort.Strings(ks)
		o.layers = append(o.layers, fmt.Sprintf("%s %s %d entries %s", r.Digest, r.DiffID, len(r.Entries), strings.Join(ks, ",")))
		if r.Err != nil {
			o.errs = append(o.errs, fmt.Sprintf("layer %d: %v", i, r.Err))
		} else {
			o.errs = append(o.errs, "")
		}
	}
	return o, nil
}

func TestRegistryFaults(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.Push(t, "oci-archive:"+fixture(t, "lifecycle.oci.tar"), "app:1")
	want, err := scanVia(t, reg.Host, reg, reg.Transport())
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range want.errs {
		if e != "" {
			t.Fatalf("fault-free run: layer %d: %s", i, e)
		}
	}
	upstream := "https://" + reg.Host

	t.Run("transient faults at 20%", func(t *testing.T) {
		for seed := int64(1); seed <= 8; seed++ {
			p := faultproxy.Start(t, upstream, reg.Transport(), faultproxy.Config{Seed: seed, Rate: 0.2, RetryAfter: 1})
			start := time.Now()
			got, err := scanVia(t, p.Host, reg, http.DefaultTransport)
			if err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, strings.Join(p.Log(), "\n"))
			}
			if strings.Join(got.layers, "\n") != strings.Join(want.layers, "\n") || strings.Join(got.errs, "") != "" {
				t.Fatalf("seed %d: results differ from the fault-free run\nerrors: %q\nproxy log:\n%s", seed, got.errs, strings.Join(p.Log(), "\n"))
			}
			t.Logf("seed %d: %d requests, faults %v, %s", seed, p.Requests(), p.Faults(), time.Since(start).Round(time.Millisecond))
		}
	})

	t.Run("permanent fault on one blob", func(t *testing.T) {
		src, err := fetch.Open(context.Background(), reg.Host+"/app:1", fetch.WithTransport(reg.Transport()), fetch.WithBasicAuth(reg.Username, reg.Password))
		if err != nil {
			t.Fatal(err)
		}
		bad := src.Images[0].Layers[1].Digest
		src.Close()
		for _, f := range []faultproxy.Fault{faultproxy.Status500, faultproxy.ResetMidBody, faultproxy.Truncate} {
			p := faultproxy.Start(t, upstream, reg.Transport(), faultproxy.Config{Permanent: map[string]faultproxy.Fault{"/blobs/" + bad.String(): f}})
			start := time.Now()
			got, err := scanVia(t, p.Host, reg, http.DefaultTransport)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for i, e := range got.errs {
				if (i == 1) != (e != "") {
					t.Errorf("%s: layer %d error %q (only layer 1 must fail)", f, i, e)
				}
				if i != 1 && got.layers[i] != want.layers[i] {
					t.Errorf("%s: layer %d differs from the fault-free run", f, i)
				}
			}
			if d := time.Since(start); d > 90*time.Second {
				t.Errorf("%s: took %s: retries not bounded", f, d)
			}
			if n := p.Requests(); n > 40 {
				t.Errorf("%s: %d requests: retries not bounded", f, n)
			}
			t.Logf("%s: %q after %d requests in %s", f, got.errs[1], p.Requests(), time.Since(start).Round(time.Millisecond))
		}
	})

	t.Run("stalls end at the timeout", func(t *testing.T) {
		src, err := fetch.Open(context.Background(), reg.Host+"/app:1", fetch.WithTransport(reg.Transport()), fetch.WithBasicAuth(reg.Username, reg.Password))
		if err != nil {
			t.Fatal(err)
		}
		img := src.Images[0]
		src.Close()
		for _, f := range []faultproxy.Fault{faultproxy.Stall, faultproxy.StallMidBody} {
			// A stalled layer fails alone; a stalled config fails the image.
			for _, target := range []string{img.Layers[1].Digest.String(), img.ConfigDigest.String()} {
				p := faultproxy.Start(t, upstream, reg.Transport(), faultproxy.Config{Permanent: map[string]faultproxy.Fault{target: f}, StallFor: time.Minute})
				start := time.Now()
				got, err := scanVia(t, p.Host, reg, http.DefaultTransport, fetch.WithTimeout(300*time.Millisecond))
				d := time.Since(start)
				switch {
				case target == img.ConfigDigest.String():
					if err == nil || !strings.Contains(err.Error(), "--timeout") {
						t.Errorf("%s config: err %v, want the --timeout", f, err)
					}
				case err != nil:
					t.Errorf("%s layer: %v", f, err)
				default:
					for i, e := range got.errs {
						if (i == 1) != (e != "") {
							t.Errorf("%s: layer %d error %q (only layer 1 must fail)", f, i, e)
						}
					}
				}
				if d > 30*time.Second {
					t.Errorf("%s: took %s with --timeout 300ms", f, d)
				}
				t.Logf("%s on %.19s: err %v, layer errors %q, %s", f, target, err, got.errs, d.Round(time.Millisecond))
			}
		}
	})
}
