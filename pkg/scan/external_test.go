package scan_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/walk"
)

// replay walks img and replays its layers, as the scanner does, to check
// file fates where there are no secrets to report.
type replay struct {
	results []walk.Result
	lc      *history.Lifecycle
	infos   []history.LayerInfo
}

func replayImage(t *testing.T, img *fetch.Image) replay {
	t.Helper()
	res, err := walk.Walk(context.Background(), img.Layers, walk.Options{}, func(context.Context, *walk.Chunk) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	entries := make([][]walk.Entry, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("layer %d: %v", i, r.Err)
		}
		entries[i] = r.Entries
	}
	_, infos, _ := history.Map(img.Config, len(img.Layers))
	return replay{results: res, lc: history.NewLifecycle(entries), infos: infos}
}

// fate is the fate of the last entry for path in layer.
func (r replay) fate(t *testing.T, layer int, path string) history.Fate {
	t.Helper()
	entries := r.results[layer].Entries
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Path == path {
			return r.lc.Fate(layer, i)
		}
	}
	t.Fatalf("layer %d has no entry %s", layer, path)
	return history.Fate{}
}

type fateCase struct {
	layer int
	path  string
	want  history.Fate
}

func (r replay) check(t *testing.T, cases []fateCase) {
	t.Helper()
	for _, c := range cases {
		if got := r.fate(t, c.layer, c.path); got != c.want {
			t.Errorf("%s from layer %d: %s by %d, want %s by %d", c.path, c.layer, got.Status, got.By, c.want.Status, c.want.By)
		}
	}
}

func externalImage(t *testing.T, name string) *fetch.Image {
	t.Helper()
	src := openSource(t, filepath.Join(externalDir(t), name))
	if len(src.Images) != 1 {
		t.Fatalf("%s: %d images", name, len(src.Images))
	}
	return src.Images[0]
}

// TestDiveLifecycle: Docker's legacy builder copied, chmod-ed, moved and
// deleted files under /root (see the external images' README).
func TestDiveLifecycle(t *testing.T) {
	img := externalImage(t, "dive-test-docker-image.tar")
	if len(img.Layers) != 14 {
		t.Fatalf("%d layers", len(img.Layers))
	}
	r := replayImage(t, img)
	r.check(t, []fateCase{
		{1, "/somefile.txt", history.Fate{Status: history.Present, By: -1}},
		// cp, then chmod 444 copies the file up again, then rm -rf.
		{3, "/root/example/somefile1.txt", history.Fate{Status: history.Overwritten, By: 4}},
		{4, "/root/example/somefile1.txt", history.Fate{Status: history.Deleted, By: 9}},
		{5, "/root/example/somefile2.txt", history.Fate{Status: history.Deleted, By: 9}},
		// mv: a whiteout of the old name, the file at the new one.
		{6, "/root/example/somefile3.txt", history.Fate{Status: history.Deleted, By: 7}},
		{7, "/root/saved.txt", history.Fate{Status: history.Overwritten, By: 13}},
		{13, "/root/saved.txt", history.Fate{Status: history.Present, By: -1}},
		{8, "/root/.saved.txt", history.Fate{Status: history.Present, By: -1}},
		{11, "/tmp/saved.again1.txt", history.Fate{Status: history.Present, By: -1}},
		{12, "/root/.data/saved.again2.txt", history.Fate{Status: history.Present, By: -1}},
	})
	for layer, want := range map[int]string{
		4: "chmod 444 /root/example/somefile1.txt", 7: "mv /root/example/somefile3.txt /root/saved.txt",
		9: "rm -rf /root/example/", 13: "chmod +x /root/saved.txt",
	} {
		if !strings.Contains(r.infos[layer].Instruction, want) {
			t.Errorf("layer %d instruction %q, want %q", layer, r.infos[layer].Instruction, want)
		}
	}

	// The scanner reads the same image without trouble and ties the same
	// instructions to the layers.
	rep := scanImage(t, newScanner(t, scan.Options{}), img)
	if len(rep.Errors) != 0 || rep.Stats.LayersScanned != 14 {
		t.Fatalf("errors %+v, %d layers scanned", rep.Errors, rep.Stats.LayersScanned)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings in an image without secrets: %+v", rep.Findings)
	}
	for i, l := range rep.Layers {
		if l.Instruction != r.infos[i].Instruction || l.HistoryIndex != r.infos[i].Step {
			t.Errorf("layer %d: %q (history %d), want %q (history %d)", i, l.Instruction, l.HistoryIndex, r.infos[i].Instruction, r.infos[i].Step)
		}
		if l.DiffID != r.results[i].DiffID.String() || l.DiffID != img.Config.RootFS.DiffIDs[i].String() {
			t.Errorf("layer %d: diff_id %s", i, l.DiffID)
		}
	}
	if rep.Layers[9].HistoryIndex != 10 {
		t.Errorf("layer 9 history_index %d, want 10 (after the empty CMD of the base)", rep.Layers[9].HistoryIndex)
	}
}

// TestSnykNodeRemoved: BuildKit's COPY then RUN rm, from an OCI archive.
func TestSnykNodeRemoved(t *testing.T) {
	img := externalImage(t, "snyk-node-removed-oci-archive.tar")
	r := replayImage(t, img)
	r.check(t, []fateCase{
		{1, "/node", history.Fate{Status: history.Deleted, By: 2}},
	})
	rep := scanImage(t, newScanner(t, scan.Options{}), img)
	if len(rep.Errors) != 0 || rep.Stats.LayersScanned != 3 {
		t.Fatalf("errors %+v, %d layers scanned", rep.Errors, rep.Stats.LayersScanned)
	}
	if !strings.HasPrefix(rep.Layers[1].Instruction, "COPY node /") || !strings.HasPrefix(rep.Layers[2].Instruction, "RUN rm /node") {
		t.Errorf("instructions %q, %q", rep.Layers[1].Instruction, rep.Layers[2].Instruction)
	}
	for i, l := range rep.Layers {
		// gzip layers: the blob is not the tar.
		if l.Digest == l.DiffID || l.Digest != img.Layers[i].Digest.String() || l.DiffID != r.results[i].DiffID.String() {
			t.Errorf("layer %d: digest %s diff_id %s", i, l.Digest, l.DiffID)
		}
	}
}

// TestDockleSymbolic: layer 8's layer.tar is a symlink to layer 6's in
// the archive; it is read like any other and has the same diff_id.
func TestDockleSymbolic(t *testing.T) {
	img := externalImage(t, "dockle-symbolic.tar")
	rep := scanImage(t, newScanner(t, scan.Options{}), img)
	if len(rep.Errors) != 0 || len(rep.Layers) != 9 || rep.Stats.LayersScanned != 9 {
		t.Fatalf("errors %+v, %d of %d layers scanned", rep.Errors, rep.Stats.LayersScanned, len(rep.Layers))
	}
	if rep.Layers[8].DiffID != rep.Layers[6].DiffID || rep.Layers[8].Size != rep.Layers[6].Size {
		t.Errorf("layer 8 %+v, layer 6 %+v: want the same diff_id and size", rep.Layers[8], rep.Layers[6])
	}
	if !strings.Contains(rep.Layers[8].Instruction, "chmod u-s /app/once-suid.txt") {
		t.Errorf("layer 8 instruction %q", rep.Layers[8].Instruction)
	}
	r := replayImage(t, img)
	if r.results[8].DiffID != r.results[6].DiffID || len(r.results[8].Entries) == 0 {
		t.Errorf("layer 8 read as %s with %d entries", r.results[8].DiffID, len(r.results[8].Entries))
	}
	r.check(t, []fateCase{
		{6, "/app/once-suid.txt", history.Fate{Status: history.Overwritten, By: 7}},
		{7, "/app/once-suid.txt", history.Fate{Status: history.Overwritten, By: 8}},
		{8, "/app/once-suid.txt", history.Fate{Status: history.Present, By: -1}},
		{1, "/app/credentials.json", history.Fate{Status: history.Present, By: -1}},
		{2, "/app/suid.txt", history.Fate{Status: history.Overwritten, By: 3}},
	})
}

// TestDocker25Layouts: both Docker 25 archives scan without errors; the
// npm image's "PRIVATE KEY" strings sit in binaries and are not findings.
func TestDocker25Layouts(t *testing.T) {
	for _, tt := range []struct {
		file   string
		layers int
	}{
		{"snyk-npm7-with-package-lock-file.tar", 4},
		{"ggcr-hello-world-v25.tar", 1},
	} {
		img := externalImage(t, tt.file)
		rep := scanImage(t, newScanner(t, scan.Options{}), img)
		if len(rep.Errors) != 0 || len(rep.Layers) != tt.layers || rep.Stats.LayersScanned != tt.layers {
			t.Errorf("%s: errors %+v, %d of %d layers scanned", tt.file, rep.Errors, rep.Stats.LayersScanned, len(rep.Layers))
		}
		if len(rep.Findings) != 0 {
			t.Errorf("%s: findings %+v", tt.file, rep.Findings)
		}
		for i, l := range rep.Layers {
			if l.Digest != img.Layers[i].Digest.String() || l.DiffID != img.Config.RootFS.DiffIDs[i].String() {
				t.Errorf("%s: layer %d digest %s diff_id %s", tt.file, i, l.Digest, l.DiffID)
			}
		}
	}
}
