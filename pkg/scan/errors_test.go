package scan_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/scan"
)

// brokenMiddle is a three-layer image whose layer 1 is replaced by
// broken; layers 0 and 2 hold secrets, and layer 2 deletes one of layer
// 0's files.
func brokenMiddle(t *testing.T, broken func(good fetch.Layer, stored, plain []byte) fetch.Layer) *fetch.Image {
	t.Helper()
	img := memImage(t, []string{
		"COPY a.env b.env /app/ # buildkit",
		"COPY token.env /app/ # buildkit",
		"RUN /bin/sh -c rm /app/b.env && echo x > /app/c.env # buildkit",
	},
		testimage.Tar(testimage.Entry{Name: "app/a.env", Body: envFile("AWS_ACCESS_KEY_ID", testimage.SecretAWS)},
			testimage.Entry{Name: "app/b.env", Body: envFile("STRIPE_SECRET_KEY", testimage.SecretStripe)}),
		testimage.Tar(testimage.Entry{Name: "app/token.env", Body: envFile("GITHUB_TOKEN", testimage.SecretGitHub)}),
		testimage.Tar(testimage.Entry{Name: "app/.wh.b.env"}, testimage.Entry{Name: "app/c.env", Body: envFile("NPM_TOKEN", testimage.SecretNPM)}),
	)
	plain := testimage.Tar(testimage.Entry{Name: "app/token.env", Body: envFile("GITHUB_TOKEN", testimage.SecretGitHub)})
	img.Layers[1] = broken(img.Layers[1], gzipOf(plain), plain)
	return img
}

// TestBrokenLayer: a layer that cannot be read gives an error naming that
// layer; the other layers are still scanned and their findings and fates
// reported.
func TestBrokenLayer(t *testing.T) {
	tests := []struct {
		name   string
		broken func(good fetch.Layer, stored, plain []byte) fetch.Layer
		want   string
	}{
		{"garbage", func(good fetch.Layer, _, _ []byte) fetch.Layer {
			junk := []byte("this is not a layer at all")
			return bytesLayer(1, junk, sha(junk), good.DiffID)
		}, "tar"},
		{"truncated gzip", func(good fetch.Layer, stored, _ []byte) fetch.Layer {
			cut := stored[:len(stored)/2]
			return bytesLayer(1, cut, good.Digest, good.DiffID)
		}, "unexpected EOF"},
		{"corrupt gzip", func(good fetch.Layer, stored, _ []byte) fetch.Layer {
			bad := append([]byte(nil), stored...)
			for i := 20; i < len(bad)-8; i++ {
				bad[i] ^= 0x5a
			}
			return bytesLayer(1, bad, sha(bad), good.DiffID)
		}, ""},
		{"wrong digest", func(good fetch.Layer, stored, _ []byte) fetch.Layer {
			return bytesLayer(1, stored, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}, good.DiffID)
		}, "digest mismatch"},
		{"wrong diff_id", func(good fetch.Layer, stored, _ []byte) fetch.Layer {
			return bytesLayer(1, stored, good.Digest, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)})
		}, "diff_id mismatch"},
		{"cannot open", func(good fetch.Layer, _, _ []byte) fetch.Layer {
			return fetch.NewLayer(1, good.Digest, good.DiffID, good.Size, good.MediaType,
				func() (io.ReadCloser, error) { return nil, errors.New("blob went away") })
		}, "blob went away"},
		{"fails mid-read", func(good fetch.Layer, stored, _ []byte) fetch.Layer {
			return fetch.NewLayer(1, good.Digest, good.DiffID, good.Size, good.MediaType,
				func() (io.ReadCloser, error) {
					return io.NopCloser(io.MultiReader(strings.NewReader(string(stored[:len(stored)/2])), errReader{})), nil
				})
		}, "connection reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := brokenMiddle(t, tt.broken)
			rep := scanImage(t, newScanner(t, scan.Options{}), img)
			if len(rep.Errors) != 1 {
				t.Fatalf("errors %+v, want one for layer 1", rep.Errors)
			}
			e := rep.Errors[0]
			t.Logf("error: %s", e.Message)
			if e.Layer == nil || *e.Layer != 1 {
				t.Errorf("error %+v does not name layer 1", e)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("error %q does not say %q", e.Message, tt.want)
			}
			if rep.Stats.LayersScanned != 2 || len(rep.Layers) != 3 {
				t.Errorf("%d layers scanned of %d, want 2 of 3", rep.Stats.LayersScanned, len(rep.Layers))
			}
			a := findingAt(t, rep, "/app/a.env")
			if a.Layer.Index != 0 || a.Status != "present" || a.Rule != testimage.RuleAWS {
				t.Errorf("/app/a.env: %+v", a)
			}
			b := findingAt(t, rep, "/app/b.env")
			if b.Layer.Index != 0 || b.Status != "deleted" || b.RemovedBy == nil || b.RemovedBy.Index != 2 ||
				!strings.HasPrefix(b.RemovedBy.Instruction, "RUN rm /app/b.env") {
				t.Errorf("/app/b.env: %+v removed_by %+v", b, b.RemovedBy)
			}
			c := findingAt(t, rep, "/app/c.env")
			if c.Layer.Index != 2 || c.Status != "present" || c.Rule != testimage.RuleNPM {
				t.Errorf("/app/c.env: %+v", c)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) {
	return 0, errors.New("read tcp: connection reset by peer")
}

func TestCancelledScan(t *testing.T) {
	img := brokenMiddle(t, func(good fetch.Layer, _, _ []byte) fetch.Layer { return good })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newScanner(t, scan.Options{}).Image(ctx, img)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Image on a cancelled context: %v, want context.Canceled", err)
	}
}

// TestSingleWorker: the result does not depend on concurrency.
func TestSingleWorker(t *testing.T) {
	img := brokenMiddle(t, func(good fetch.Layer, _, _ []byte) fetch.Layer { return good })
	many := scanImage(t, newScanner(t, scan.Options{}), img)
	one := scanImage(t, newScanner(t, scan.Options{Jobs: 1, Workers: 1}), img)
	if len(many.Findings) != 4 || len(many.Errors) != 0 || len(one.Findings) != 4 || len(one.Errors) != 0 {
		t.Fatalf("findings %+v and %+v, errors %+v and %+v", many.Findings, one.Findings, many.Errors, one.Errors)
	}
	var a, b []string
	for i := range many.Findings {
		a = append(a, keyOf(many.Findings[i]).String())
		b = append(b, keyOf(one.Findings[i]).String())
	}
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("Jobs/Workers 1 gives\n%s\nwant\n%s", b, a)
	}
}

// TestZeroLayerImage: an image without layers (valid OCI: metadata only)
// is read and scanned; its report lists no layers as an empty array, like
// findings and errors.
func TestZeroLayerImage(t *testing.T) {
	img, err := testimage.Image([]testimage.Step{
		{CreatedBy: "/bin/sh -c #(nop)  LABEL org.example.team=infra"},
		{CreatedBy: "/bin/sh -c #(nop)  CMD [\"/bin/true\"]"},
	})
	if err != nil {
		t.Fatal(err)
	}
	fi := openLayout(t, img)
	if len(fi.Layers) != 0 {
		t.Fatalf("layers %+v", fi.Layers)
	}
	rep := scanImage(t, newScanner(t, scan.Options{}), fi)
	if len(rep.Errors) != 0 || len(rep.Findings) != 0 || rep.Platform != "linux/amd64" {
		t.Errorf("errors %+v findings %+v platform %q", rep.Errors, rep.Findings, rep.Platform)
	}
	js := jsonOf(t, rep)
	for _, want := range []string{`"layers": []`, `"findings": []`, `"errors": []`} {
		if !strings.Contains(js, want) {
			t.Errorf("report lacks %s:\n%s", want, js)
		}
	}
}
