package evidence_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/walk"
)

func image(t *testing.T, name string) *fetch.Image {
	t.Helper()
	src, err := fetch.Open(context.Background(), "oci:"+filepath.Join("..", "..", "testdata", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if len(src.Images) != 1 {
		t.Fatalf("%d images", len(src.Images))
	}
	return src.Images[0]
}

func extract(t *testing.T, img *fetch.Image, layer int, path string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	err := evidence.Extract(context.Background(), img.Layers[layer], path, &buf, evidence.Options{})
	return buf.String(), err
}

func TestExtractHiddenFiles(t *testing.T) {
	img := image(t, "lifecycle")
	for _, tc := range []struct {
		layer      int
		path, want string
	}{
		{0, "/app/deleted.env", "ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV"},
		{0, "app/overwritten.env", "glpat-Xq8Jk2mVxP3nR7tLw9Zc"},
		{0, "/app/dir/../dir/inner.env", "xoxb-"},
		{0, "/app/hard.env", "sk_live_"}, // hardlink → /app/present.env
		{2, "/app/overwritten.env", "clean"},
	} {
		got, err := extract(t, img, tc.layer, tc.path)
		if err != nil {
			t.Errorf("layer %d %s: %v", tc.layer, tc.path, err)
			continue
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("layer %d %s = %q, want it to hold %q", tc.layer, tc.path, got, tc.want)
		}
	}
	hard, _ := extract(t, img, 0, "/app/hard.env")
	present, _ := extract(t, img, 0, "/app/present.env")
	if hard != present || hard == "" {
		t.Errorf("hardlink content %q differs from its target %q", hard, present)
	}
}

func TestExtractErrors(t *testing.T) {
	img := image(t, "lifecycle")
	_, err := extract(t, img, 1, "/app/deleted.env")
	if !errors.Is(err, evidence.ErrNotFound) || !strings.Contains(err.Error(), "/app/deleted.env is not in layer 1") {
		t.Errorf("missing path: %v", err)
	}
	for _, p := range []string{"/app/link", "/app", "/app/.wh.deleted.env"} {
		layer := 0
		if strings.Contains(p, ".wh.") {
			layer = 1
		}
		out, err := extract(t, img, layer, p)
		if !errors.Is(err, evidence.ErrNotRegular) || out != "" {
			t.Errorf("%s: %q, %v", p, out, err)
		}
	}
}

func TestExtractHardlinkSurvives(t *testing.T) {
	img := image(t, "hardlink-survives")
	got, err := extract(t, img, 0, "/data/copy.env")
	if err != nil || !strings.Contains(got, "AKIAZ7QH3LMNX4TR2KWP") {
		t.Fatalf("%q, %v", got, err)
	}
}

func TestList(t *testing.T) {
	img := image(t, "lifecycle")
	l, err := evidence.List(context.Background(), img.Layers, evidence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Layers) != 4 {
		t.Fatalf("%d layers", len(l.Layers))
	}
	type fate struct {
		layer int
		st    history.Status
		by    int
	}
	got := map[string]fate{}
	for _, e := range l.Entries {
		if e.Kind == walk.Regular || e.Kind == walk.Hardlink || e.Kind == walk.Symlink {
			got[e.Path+"@"+string(rune('0'+e.Layer))] = fate{e.Layer, e.Fate.Status, e.Fate.By}
		}
	}
	want := map[string]fate{
		"/app/deleted.env@0":     {0, history.Deleted, 1},
		"/app/overwritten.env@0": {0, history.Overwritten, 2},
		"/app/present.env@0":     {0, history.Present, -1},
		"/app/dir/inner.env@0":   {0, history.Deleted, 1},
		"/app/opaque/a.env@0":    {0, history.Deleted, 3},
		"/app/link@0":            {0, history.Present, -1},
		"/app/hard.env@0":        {0, history.Present, -1},
		"/app/overwritten.env@2": {2, history.Present, -1},
		"/app/opaque/b.txt@3":    {3, history.Present, -1},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
	if l.Layers[0].HiddenFiles != 4 || l.Layers[0].HiddenBytes == 0 {
		t.Errorf("layer 0 hidden: %d files %d bytes, want 4 files", l.Layers[0].HiddenFiles, l.Layers[0].HiddenBytes)
	}
	for i, li := range l.Layers {
		if li.Err != nil || li.Bytes == 0 || li.Digest != img.Layers[i].Digest {
			t.Errorf("layer %d: %+v", i, li)
		}
	}
}

func TestListHardlinkKeepsContentVisible(t *testing.T) {
	img := image(t, "hardlink-survives")
	l, err := evidence.List(context.Background(), img.Layers, evidence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Entries {
		if e.Path == "/data/key.env" && e.Layer == 0 {
			if e.Fate.Status != history.Deleted || e.Hidden || len(e.Aliases) != 1 {
				t.Errorf("key.env: %+v", e)
			}
		}
	}
	if l.Layers[0].HiddenFiles != 0 {
		t.Errorf("hidden files %d, want 0 (content reachable through copy.env)", l.Layers[0].HiddenFiles)
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		ref, path string
		layer     int
		want      string
	}{
		{"oci-archive:./a.oci.tar", "/app/secrets.txt", 1, `layerscan extract 'oci-archive:./a.oci.tar' --layer 1 '/app/secrets.txt' -o 'secrets.txt'`},
		{"reg/app:1", "/it's here/x y", 0, `layerscan extract 'reg/app:1' --layer 0 '/it'\''s here/x y' -o 'x y'`},
		{"r", "/a/-", 2, `layerscan extract 'r' --layer 2 '/a/-' -o './-'`},
		{"r", "/", 2, `layerscan extract 'r' --layer 2 '/' -o 'extracted'`},
		{"r", "/$(rm -rf ~)`x`", 0, "layerscan extract 'r' --layer 0 '/$(rm -rf ~)`x`' -o '$(rm -rf ~)`x`'"},
	} {
		if got := evidence.Command(tc.ref, "", tc.layer, tc.path); got != tc.want {
			t.Errorf("Command(%q, %d, %q) =\n %s\nwant\n %s", tc.ref, tc.layer, tc.path, got, tc.want)
		}
	}
}
