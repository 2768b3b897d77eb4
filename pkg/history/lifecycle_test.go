package history

import (
	"testing"

	"github.com/layerscan/layerscan/pkg/walk"
)

func reg(p string) walk.Entry { return walk.Entry{Path: p, Kind: walk.Regular, Size: 1} }
func dir(p string) walk.Entry { return walk.Entry{Path: p, Kind: walk.Dir} }
func wh(target string) walk.Entry {
	return walk.Entry{Path: "/.wh", Kind: walk.Whiteout, Target: target}
}
func opq(d string) walk.Entry {
	return walk.Entry{Path: d + "/.wh..wh..opq", Kind: walk.Opaque, Target: d}
}
func link(p, target string) walk.Entry {
	return walk.Entry{Path: p, Kind: walk.Hardlink, Linkname: target}
}

func TestLifecycle(t *testing.T) {
	layers := [][]walk.Entry{
		{dir("/app"), reg("/app/deleted"), reg("/app/over"), reg("/app/keep"), reg("/app/conf/a"), reg("/app/conf/b"),
			reg("/app/opq/x"), reg("/app/file-then-dir"), link("/app/hard", "/app/keep")},
		{wh("/app/deleted"), wh("/app/conf"), reg("/app/over"), opq("/app/opq"), reg("/app/opq/y"),
			reg("/app/file-then-dir/child")},
		// A whiteout does not hide an entry of its own layer, wherever it sits.
		{reg("/new"), wh("/new"), wh("/never-existed")},
		{dir("/app"), reg("/app/conf/a")},
	}
	lc := NewLifecycle(layers)
	fate := func(layer int, path string) Fate { return lc.Fate(layer, find(t, layers[layer], path)) }
	tests := []struct {
		layer int
		path  string
		want  Fate
	}{
		{0, "/app/deleted", Fate{Deleted, 1}},
		{0, "/app/over", Fate{Overwritten, 1}},
		{0, "/app/keep", Fate{Present, -1}},
		{0, "/app/hard", Fate{Present, -1}},
		{0, "/app/conf/a", Fate{Deleted, 1}},
		{0, "/app/conf/b", Fate{Deleted, 1}},
		{0, "/app/opq/x", Fate{Deleted, 1}},
		{0, "/app/file-then-dir", Fate{Overwritten, 1}},
		{1, "/app/over", Fate{Present, -1}},
		{1, "/app/opq/y", Fate{Present, -1}},
		{2, "/new", Fate{Present, -1}},
		{3, "/app/conf/a", Fate{Present, -1}},
	}
	for _, tt := range tests {
		if got := fate(tt.layer, tt.path); got != tt.want {
			t.Errorf("Fate(%d, %s) = %+v, want %+v", tt.layer, tt.path, got, tt.want)
		}
	}
	if al := lc.Aliases(0, find(t, layers[0], "/app/keep")); len(al) != 1 || al[0] != (Alias{0, 8, "/app/hard"}) {
		t.Errorf("Aliases(0, /app/keep) = %+v", al)
	}
}

func TestOpaqueMarkerAfterEntriesInTarOrder(t *testing.T) {
	lc := NewLifecycle([][]walk.Entry{
		{reg("/d/old")},
		{reg("/d/new"), opq("/d")},
	})
	if f := lc.Fate(0, 0); f != (Fate{Deleted, 1}) {
		t.Errorf("old = %+v", f)
	}
	if f := lc.Fate(1, 0); f.Status != Present {
		t.Errorf("new = %+v: an opaque marker must not hide its own layer", f)
	}
}

func TestHardlinkOutlivesWhiteoutOfTarget(t *testing.T) {
	lc := NewLifecycle([][]walk.Entry{
		{reg("/data/key.env"), link("/data/copy.env", "/data/key.env")},
		{wh("/data/key.env")},
	})
	if f := lc.Fate(0, 0); f != (Fate{Deleted, 1}) {
		t.Errorf("key.env = %+v", f)
	}
	if f := lc.Fate(0, 1); f.Status != Present {
		t.Errorf("copy.env = %+v: the hardlink keeps the content reachable", f)
	}
	if al := lc.Aliases(0, 0); len(al) != 1 || al[0].Path != "/data/copy.env" {
		t.Errorf("aliases = %+v", al)
	}
}

func TestDuplicateInOneLayerLastWins(t *testing.T) {
	lc := NewLifecycle([][]walk.Entry{{reg("/x"), reg("/x")}})
	if f := lc.Fate(0, 0); f.Status != Overwritten || f.By != 0 {
		t.Errorf("first copy = %+v, want overwritten by its own layer", f)
	}
	if f := lc.Fate(0, 1); f.Status != Present {
		t.Errorf("second copy = %+v, want present", f)
	}
	if len(lc.Warnings) != 1 {
		t.Errorf("want a warning for the duplicate, got %v", lc.Warnings)
	}
}

func find(t *testing.T, entries []walk.Entry, path string) int {
	t.Helper()
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Path == path {
			return i
		}
	}
	t.Fatalf("no entry %s", path)
	return -1
}
