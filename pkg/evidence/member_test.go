package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

func TestExtractFromNestedArchives(t *testing.T) {
	props := []byte("gitlab.token=glpat-Xq8Jk2mVxP3nR7tLw9Zc\n")
	// inner.jar inside app.jar, and a tar.gz beside it.
	var inner bytes.Buffer
	zw := zip.NewWriter(&inner)
	w, _ := zw.Create("config/app.properties")
	w.Write(props)
	zw.Close()
	var outer bytes.Buffer
	zw = zip.NewWriter(&outer)
	w, _ = zw.Create("lib/inner.jar")
	w.Write(inner.Bytes())
	w, _ = zw.Create("README")
	w.Write([]byte("hello"))
	zw.Close()
	var tgz bytes.Buffer
	gw := gzip.NewWriter(&tgz)
	gw.Write(testimage.Tar(testimage.Entry{Name: "etc/app.env", Body: string(props)}))
	gw.Close()
	var gz bytes.Buffer
	gw = gzip.NewWriter(&gz)
	gw.Write(props)
	gw.Close()

	layerTar := testimage.Tar(
		testimage.Entry{Name: "app/app.jar", Body: outer.String()}, testimage.Entry{Name: "app/conf.tar.gz", Body: tgz.String()},
		testimage.Entry{Name: "app/notes.txt.gz", Body: gz.String()}, testimage.Entry{Name: "app/odd!name", Body: "bang"})
	sum := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(layerTar))}
	l := fetch.NewLayer(0, sum, sum, int64(len(layerTar)), "", func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	for _, tt := range []struct{ path, want string }{
		{"/app/app.jar!lib/inner.jar!config/app.properties", string(props)},
		{"/app/app.jar!README", "hello"},
		{"/app/conf.tar.gz!etc/app.env", string(props)},
		{"/app/notes.txt.gz!notes.txt", string(props)},
		{"/app/odd!name", "bang"},
	} {
		var b bytes.Buffer
		if err := Extract(context.Background(), l, tt.path, &b, Options{}); err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if b.String() != tt.want {
			t.Errorf("%s = %q, want %q", tt.path, b.String(), tt.want)
		}
	}
	var b bytes.Buffer
	err := Extract(context.Background(), l, "/app/app.jar!lib/missing.jar", &b, Options{})
	if err == nil || !strings.Contains(err.Error(), "lib/missing.jar") {
		t.Errorf("missing member: %v", err)
	}
}

func TestSplitJoinMember(t *testing.T) {
	p, chain := SplitMember("/a.jar!b/c.jar!d.txt")
	if p != "/a.jar" || len(chain) != 2 || JoinMember(p, chain) != "/a.jar!b/c.jar!d.txt" {
		t.Errorf("%s %v", p, chain)
	}
}
