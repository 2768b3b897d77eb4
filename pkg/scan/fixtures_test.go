package scan_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

// findingKey is what a user reads off a finding.
type findingKey struct {
	Path       string
	Layer      int
	Status     string
	RemovedBy  int
	Rule       string
	Line       int
	HardlinkTo string
}

func (k findingKey) String() string {
	s := fmt.Sprintf("%s layer %d line %d %s %s", k.Path, k.Layer, k.Line, k.Rule, k.Status)
	if k.RemovedBy >= 0 {
		s += fmt.Sprintf(" by %d", k.RemovedBy)
	}
	if k.HardlinkTo != "" {
		s += " hardlink_to " + k.HardlinkTo
	}
	return s
}

func keyOf(f report.Finding) findingKey {
	k := findingKey{Path: f.Path, Layer: f.Layer.Index, Status: f.Status, RemovedBy: -1, Rule: f.Rule, Line: f.Line, HardlinkTo: f.HardlinkTo}
	if f.RemovedBy != nil {
		k.RemovedBy = f.RemovedBy.Index
	}
	return k
}

func sortedKeys(ks []findingKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.String()
	}
	sort.Strings(out)
	return out
}

// pathFates are where the fate of a path differs from the fate of the
// secret the fixture describes. hardlink-survives: the whiteout deletes the
// name /data/key.env (so its finding says deleted by layer 1) while the
// content stays reachable through the hard link /data/copy.env, which is
// reported present with hardlink_to; TestSecretContentStatus checks that a
// present secret always has a present finding.
var pathFates = map[string]map[string]struct {
	status string
	by     int
}{
	"hardlink-survives": {"/data/key.env": {"deleted", 1}},
}

// expectedFindings turns a fixture's findings for one platform into the
// findings the report must hold: one per secret file, plus one per hard
// link to it (same layer, present, hardlink_to the file).
func expectedFindings(f testimage.Fixture, platform string) []findingKey {
	var out []findingKey
	for _, fd := range f.Findings {
		if fd.Platform != "" && fd.Platform != platform {
			continue
		}
		k := findingKey{Path: fd.Path, Layer: fd.Layer, Status: string(fd.Status), RemovedBy: fd.RemovedBy, Rule: fd.Rule, Line: fd.Line}
		if pf, ok := pathFates[f.Name][fd.Path]; ok {
			k.Status, k.RemovedBy = pf.status, pf.by
		}
		out = append(out, k)
		for _, l := range fd.Links {
			out = append(out, findingKey{Path: l, Layer: fd.Layer, Status: "present", RemovedBy: -1, Rule: fd.Rule, Line: fd.Line, HardlinkTo: fd.Path})
		}
	}
	return out
}

func fixtureRefs(t testing.TB, f testimage.Fixture) []string {
	dir := imagesDir(t)
	refs := []string{filepath.Join(dir, f.Name)}
	if f.DockerArchive {
		refs = append(refs, filepath.Join(dir, f.Name+".docker.tar"))
	}
	if f.OCIArchive {
		refs = append(refs, filepath.Join(dir, f.Name+".oci.tar"))
	}
	return refs
}

// TestFixtureFindings scans every fixture from every file it ships in:
// the findings (path, layer, status, removing layer, rule, line, hard
// link) must be exactly the fixture's, and every format must give the
// same report for layers and findings.
func TestFixtureFindings(t *testing.T) {
	fixtures, err := testimage.Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	s := newScanner(t, scan.Options{})
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			var first string
			for _, ref := range fixtureRefs(t, f) {
				reps := scanRef(t, s, ref)
				wantImages := 1
				if f.Index != nil {
					wantImages = 2
				}
				if len(reps) != wantImages {
					t.Fatalf("%s: %d images, want %d", ref, len(reps), wantImages)
				}
				for _, rep := range reps {
					checkReport(t, ref, f, rep)
				}
				// Same layers and findings whatever the format.
				type same struct {
					Platform string
					Layers   []report.Layer
					Findings []report.Finding
				}
				var all []same
				for _, rep := range reps {
					all = append(all, same{rep.Platform, rep.Layers, rep.Findings})
				}
				sort.Slice(all, func(i, j int) bool { return all[i].Platform < all[j].Platform })
				b, _ := json.MarshalIndent(all, "", " ")
				if first == "" {
					first = string(b)
				} else if string(b) != first {
					t.Errorf("%s: report differs from the OCI layout's:\n%s\nvs\n%s", ref, b, first)
				}
			}
		})
	}
}

func checkReport(t *testing.T, ref string, f testimage.Fixture, rep *report.Image) {
	t.Helper()
	if len(rep.Errors) != 0 {
		t.Errorf("%s: errors %+v", ref, rep.Errors)
	}
	if rep.Stats.LayersScanned != len(rep.Layers) || len(rep.Layers) == 0 {
		t.Errorf("%s: %d of %d layers scanned", ref, rep.Stats.LayersScanned, len(rep.Layers))
	}
	if rep.Platform == "" || rep.Digest == "" || rep.ConfigDigest == "" {
		t.Errorf("%s: platform %q digest %q config %q", ref, rep.Platform, rep.Digest, rep.ConfigDigest)
	}
	for i, l := range rep.Layers {
		if l.Index != i || !strings.HasPrefix(l.Digest, "sha256:") || !strings.HasPrefix(l.DiffID, "sha256:") || l.Size <= 0 {
			t.Errorf("%s: layer %d: %+v", ref, i, l)
		}
	}

	var got []findingKey
	for _, fd := range rep.Findings {
		got = append(got, keyOf(fd))
	}
	want := expectedFindings(f, rep.Platform)
	if g, w := sortedKeys(got), sortedKeys(want); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("%s %s: findings\n  %s\nwant\n  %s", ref, rep.Platform, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}

	// Every finding points at its layer and says how the layer was made.
	secrets := map[string]string{}
	for _, fd := range f.Findings {
		secrets[fd.Rule] = fd.Secret
		if fd.Platform != "" && fd.Platform != rep.Platform {
			continue
		}
		if got := rep.Layers[fd.Layer].HistoryIndex; got != fd.History {
			t.Errorf("%s: layer %d has history_index %d, want %d", ref, fd.Layer, got, fd.History)
		}
	}
	for _, fd := range rep.Findings {
		l := rep.Layers[fd.Layer.Index]
		if fd.Layer.Digest != l.Digest || fd.Layer.Instruction != l.Instruction || fd.Layer.CreatedBy != l.CreatedBy {
			t.Errorf("%s: %s: layer ref %+v does not match layer %+v", ref, fd.Path, fd.Layer, l)
		}
		if fd.RemovedBy != nil {
			by := rep.Layers[fd.RemovedBy.Index]
			if fd.RemovedBy.Instruction != by.Instruction || fd.RemovedBy.Digest != by.Digest {
				t.Errorf("%s: %s: removed_by %+v does not match layer %+v", ref, fd.Path, *fd.RemovedBy, by)
			}
		}
		if fd.Source != "file" || fd.Description == "" {
			t.Errorf("%s: %s: source %q description %q", ref, fd.Path, fd.Source, fd.Description)
		}
		secret := secrets[fd.Rule]
		if fd.Secret != detect.Redact(secret) {
			t.Errorf("%s: %s: secret shown as %q, want %q", ref, fd.Path, fd.Secret, detect.Redact(secret))
		}
		if fd.Fingerprint != testKey.Finding(fd.Rule, fd.Path, secret) || fd.SecretID != testKey.Secret(secret) {
			t.Errorf("%s: %s: fingerprint %q, secret id %q", ref, fd.Path, fd.Fingerprint, fd.SecretID)
		}
		if fd.Fingerprint == fingerprint.Legacy(fd.Rule, fd.Path, secret) {
			t.Errorf("%s: %s: the fingerprint is the unkeyed hash", ref, fd.Path)
		}
	}
}

// TestSecretContentStatus: a secret the fixture calls present has at
// least one present finding (whatever happened to its first name), and a
// secret it calls deleted or overwritten has none.
func TestSecretContentStatus(t *testing.T) {
	fixtures, err := testimage.Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	s := newScanner(t, scan.Options{ShowSecrets: true})
	for _, f := range fixtures {
		for _, rep := range scanRef(t, s, filepath.Join(imagesDir(t), f.Name)) {
			for _, fd := range f.Findings {
				if fd.Platform != "" && fd.Platform != rep.Platform {
					continue
				}
				var present []string
				for _, got := range rep.Findings {
					if got.Secret == fd.Secret && got.Status == "present" {
						present = append(present, got.Path)
					}
				}
				if (fd.Status == testimage.StatusPresent) != (len(present) > 0) {
					t.Errorf("%s: secret of %s is %s, but present findings are at %v", f.Name, fd.Path, fd.Status, present)
				}
			}
		}
	}
}

func scanFixture(t *testing.T, name string, opts scan.Options) *report.Image {
	t.Helper()
	reps := scanRef(t, newScanner(t, opts), filepath.Join(imagesDir(t), name))
	if len(reps) != 1 {
		t.Fatalf("%s: %d images", name, len(reps))
	}
	return reps[0]
}

func findingAt(t *testing.T, rep *report.Image, path string) report.Finding {
	t.Helper()
	var out []report.Finding
	for _, f := range rep.Findings {
		if f.Path == path {
			out = append(out, f)
		}
	}
	if len(out) != 1 {
		t.Fatalf("want one finding at %s, got %+v", path, out)
	}
	return out[0]
}

func TestLifecycleInstructions(t *testing.T) {
	rep := scanFixture(t, "lifecycle", scan.Options{})
	wantHistory := []int{0, 2, 3, 4}
	wantInstr := []string{"COPY file:abc", "RUN rm -r /app/deleted.env /app/dir", "RUN echo clean > /app/overwritten.env", "RUN rm -rf /app/opaque"}
	for i, l := range rep.Layers {
		if l.HistoryIndex != wantHistory[i] {
			t.Errorf("layer %d: history_index %d, want %d", i, l.HistoryIndex, wantHistory[i])
		}
		if !strings.HasPrefix(l.Instruction, wantInstr[i]) {
			t.Errorf("layer %d: instruction %q, want it to start with %q", i, l.Instruction, wantInstr[i])
		}
	}
	if !strings.HasPrefix(rep.Layers[1].Instruction, "RUN rm") {
		t.Errorf("layer 1 instruction %q", rep.Layers[1].Instruction)
	}
	if !strings.Contains(rep.Layers[1].CreatedBy, "rm -r /app/deleted.env") {
		t.Errorf("layer 1 created_by %q", rep.Layers[1].CreatedBy)
	}
	del := findingAt(t, rep, "/app/deleted.env")
	if del.RemovedBy == nil || !strings.HasPrefix(del.RemovedBy.Instruction, "RUN rm -r /app/deleted.env") {
		t.Errorf("/app/deleted.env removed_by %+v", del.RemovedBy)
	}
	if !strings.HasPrefix(del.Layer.Instruction, "COPY file:abc") {
		t.Errorf("/app/deleted.env layer instruction %q", del.Layer.Instruction)
	}
	opq := findingAt(t, rep, "/app/opaque/a.env")
	if opq.RemovedBy == nil || opq.RemovedBy.Index != 3 || !strings.Contains(opq.RemovedBy.Instruction, "rm -rf /app/opaque") {
		t.Errorf("/app/opaque/a.env removed_by %+v", opq.RemovedBy)
	}
	hard := findingAt(t, rep, "/app/hard.env")
	if hard.HardlinkTo != "/app/present.env" || hard.Status != "present" || hard.RemovedBy != nil {
		t.Errorf("/app/hard.env: %+v", hard)
	}
	// The symlink /app/link has no content of its own: no finding there.
	for _, f := range rep.Findings {
		if f.Path == "/app/link" {
			t.Errorf("finding at the symlink: %+v", f)
		}
	}
}

func TestHardlinkSurvivesWhiteout(t *testing.T) {
	for _, ref := range []string{"hardlink-survives", "hardlink-survives.docker.tar"} {
		reps := scanRef(t, newScanner(t, scan.Options{}), filepath.Join(imagesDir(t), ref))
		rep := reps[0]
		link := findingAt(t, rep, "/data/copy.env")
		if link.Status != "present" || link.RemovedBy != nil || link.HardlinkTo != "/data/key.env" ||
			link.Layer.Index != 0 || link.Rule != testimage.RuleAWS || link.Line != 2 {
			t.Errorf("%s: /data/copy.env: %+v; want present, hardlink_to /data/key.env, layer 0", ref, link)
		}
		orig := findingAt(t, rep, "/data/key.env")
		if orig.Status != "deleted" || orig.RemovedBy == nil || orig.RemovedBy.Index != 1 ||
			!strings.HasPrefix(orig.RemovedBy.Instruction, "RUN rm /data/key.env") {
			t.Errorf("%s: /data/key.env: %+v; want its name deleted by layer 1", ref, orig)
		}
	}
}

func TestMissingHistory(t *testing.T) {
	t.Run("nohistory", func(t *testing.T) {
		rep := scanFixture(t, "nohistory", scan.Options{})
		wantWarning(t, rep, "no history")
		for _, l := range rep.Layers {
			wantNoHistory(t, l)
		}
		if len(rep.Findings) != 2 {
			t.Errorf("findings %+v", rep.Findings)
		}
		for _, f := range rep.Findings {
			if f.Layer.Instruction != history.MissingInstruction {
				t.Errorf("%s: instruction %q", f.Path, f.Layer.Instruction)
			}
		}
	})
	t.Run("shorthistory", func(t *testing.T) {
		rep := scanFixture(t, "shorthistory", scan.Options{})
		wantWarning(t, rep, "2 layers have no history entry")
		if l := rep.Layers[0]; l.HistoryIndex != 0 || !strings.HasPrefix(l.Instruction, "ADD file:4a1f0c") {
			t.Errorf("layer 0: %+v", l)
		}
		wantNoHistory(t, rep.Layers[1])
		wantNoHistory(t, rep.Layers[2])
		f := findingAt(t, rep, "/srv/build.env")
		if f.Layer.Instruction != history.MissingInstruction || f.RemovedBy == nil ||
			f.RemovedBy.Index != 2 || f.RemovedBy.Instruction != history.MissingInstruction {
			t.Errorf("/srv/build.env: %+v removed_by %+v", f, f.RemovedBy)
		}
	})
	t.Run("longhistory", func(t *testing.T) {
		// The empty_layer flags are wrong but their count agrees with the
		// layers: the flags are followed, and nothing breaks.
		rep := scanFixture(t, "longhistory", scan.Options{})
		if len(rep.Layers) != 1 {
			t.Fatalf("layers %+v", rep.Layers)
		}
		if l := rep.Layers[0]; l.HistoryIndex != 1 || !strings.Contains(l.Instruction, "ENV APP_ENV=production") {
			t.Errorf("layer 0: %+v", l)
		}
		f := findingAt(t, rep, "/app/config.env")
		if f.Status != "present" || f.Layer.Index != 0 {
			t.Errorf("/app/config.env: %+v", f)
		}
	})
}

func wantWarning(t *testing.T, rep *report.Image, text string) {
	t.Helper()
	for _, w := range rep.Warnings {
		if strings.Contains(w.Message, text) {
			return
		}
	}
	t.Errorf("no warning saying %q in %+v", text, rep.Warnings)
}

func wantNoHistory(t *testing.T, l report.Layer) {
	t.Helper()
	if l.HistoryIndex != -1 || l.Instruction != history.MissingInstruction || l.CreatedBy != "" {
		t.Errorf("layer %d: history_index %d instruction %q created_by %q; want -1, %q, empty",
			l.Index, l.HistoryIndex, l.Instruction, l.CreatedBy, history.MissingInstruction)
	}
}

func TestCompressions(t *testing.T) {
	for _, ref := range []string{"compression", "compression.docker.tar", "compression.oci.tar"} {
		reps := scanRef(t, newScanner(t, scan.Options{}), filepath.Join(imagesDir(t), ref))
		rep := reps[0]
		if rep.Stats.LayersScanned != 3 || rep.Stats.FilesScanned != 3 || len(rep.Errors) != 0 {
			t.Errorf("%s: stats %+v errors %+v", ref, rep.Stats, rep.Errors)
		}
		for i, path := range []string{"/etc/app/gzip.env", "/etc/app/zstd.env", "/etc/app/plain.env"} {
			if f := findingAt(t, rep, path); f.Layer.Index != i {
				t.Errorf("%s: %s in layer %d, want %d", ref, path, f.Layer.Index, i)
			}
		}
		// Only the uncompressed layer's blob is its tar.
		for i, l := range rep.Layers {
			if (l.Digest == l.DiffID) != (i == 2) {
				t.Errorf("%s: layer %d digest %s diff_id %s", ref, i, l.Digest, l.DiffID)
			}
		}
		if rep.Stats.StoredBytes >= rep.Stats.Bytes {
			t.Errorf("%s: stored %d bytes for %d uncompressed", ref, rep.Stats.StoredBytes, rep.Stats.Bytes)
		}
	}
}

func TestCleanImage(t *testing.T) {
	rep := scanFixture(t, "clean", scan.Options{})
	if len(rep.Findings) != 0 {
		t.Errorf("findings in the clean image: %+v", rep.Findings)
	}
	if len(rep.Errors) != 0 || rep.Stats.LayersScanned != 2 {
		t.Errorf("errors %+v, %d layers scanned", rep.Errors, rep.Stats.LayersScanned)
	}
	// The negative control means something only if the files were read.
	if rep.Stats.FilesScanned != 4 {
		t.Errorf("%d files scanned, want 4", rep.Stats.FilesScanned)
	}
	if js := jsonOf(t, rep); !strings.Contains(js, `"findings": []`) {
		t.Errorf("an image without findings must have \"findings\": [] in JSON:\n%s", js)
	}
}
