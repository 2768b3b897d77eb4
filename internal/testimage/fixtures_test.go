package testimage

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// testdataDir is where go generate writes the fixtures.
const testdataDir = "../../testdata/images"

// hashTree returns relative slash path -> sha256 of every regular file under
// root, skipping the hand-written README.md and .gitattributes at the top.
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "README.md" || rel == ".gitattributes" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffTrees(a, b map[string]string) []string {
	var diffs []string
	for k, v := range a {
		switch w, ok := b[k]; {
		case !ok:
			diffs = append(diffs, "only in generated output: "+k)
		case v != w:
			diffs = append(diffs, "differs: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, "only in testdata (stale): "+k)
		}
	}
	sort.Strings(diffs)
	return diffs
}

// TestGeneratedImagesUpToDate fails when testdata/images is not what the
// generator produces now.
func TestGeneratedImagesUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := WriteFixtures(tmp); err != nil {
		t.Fatal(err)
	}
	if diffs := diffTrees(hashTree(t, tmp), hashTree(t, testdataDir)); len(diffs) > 0 {
		t.Fatalf("testdata/images is out of date; run `go generate ./internal/testimage/`:\n  %s",
			strings.Join(diffs, "\n  "))
	}
}

func TestWriteFixturesDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := WriteFixtures(a); err != nil {
		t.Fatal(err)
	}
	// Write twice into b: the second run must replace, not accumulate.
	for i := 0; i < 2; i++ {
		if err := WriteFixtures(b); err != nil {
			t.Fatal(err)
		}
	}
	if diffs := diffTrees(hashTree(t, a), hashTree(t, b)); len(diffs) > 0 {
		t.Fatalf("two runs differ:\n  %s", strings.Join(diffs, "\n  "))
	}
	var total int64
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	if total > 300<<10 {
		t.Errorf("fixtures take %d bytes, budget is 300 KiB", total)
	}
}

// fixtureImages returns the fixture's images keyed by platform ("" for a
// single image).
func fixtureImages(t *testing.T, f Fixture) map[string]v1.Image {
	t.Helper()
	if f.Image != nil {
		return map[string]v1.Image{"": f.Image}
	}
	im, err := f.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]v1.Image{}
	for _, d := range im.Manifests {
		img, err := f.Index.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Platform.String()] = img
	}
	return out
}

type tarFile struct {
	hdr  *tar.Header
	body string
}

func layerFiles(t *testing.T, l v1.Layer) []tarFile {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []tarFile
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarFile{h, string(b)})
	}
}

func absPath(name string) string { return path.Clean("/" + name) }

// TestSecretsDetectedByGitleaks runs gitleaks' default rules over every file
// of every fixture layer and checks that exactly the expected findings come
// out: right path, layer, line and rule, and nothing in the clean parts.
func TestSecretsDetectedByGitleaks(t *testing.T) {
	fixtures, err := Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	key := func(platform, p string, layer int, rule string, line int, secret string) string {
		return fmt.Sprintf("%s %s layer=%d rule=%s line=%d secret=%s", platform, p, layer, rule, line, secret)
	}
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			want := map[string]bool{}
			for _, fd := range f.Findings {
				want[key(fd.Platform, fd.Path, fd.Layer, fd.Rule, fd.Line, fd.Secret)] = true
			}
			got := map[string]bool{}
			for platform, img := range fixtureImages(t, f) {
				layers, err := img.Layers()
				if err != nil {
					t.Fatal(err)
				}
				for i, l := range layers {
					for _, tf := range layerFiles(t, l) {
						if tf.body == "" {
							continue
						}
						for _, g := range d.DetectString(tf.body) {
							// gitleaks counts lines from 0 in DetectString.
							got[key(platform, absPath(tf.hdr.Name), i, g.RuleID, g.StartLine+1, g.Secret)] = true
						}
					}
				}
			}
			for k := range want {
				if !got[k] {
					t.Errorf("expected finding not detected: %s", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("unexpected finding: %s", k)
				}
			}
		})
	}
	for _, s := range []fakeSecret{secAWS, secGitHub, secGitLab, secStripe, secSlack, secNPM} {
		fs := d.DetectString(envFile(s))
		if len(fs) != 1 || fs[0].RuleID != s.RuleID || fs[0].Secret != s.Value {
			t.Errorf("%s: gitleaks found %+v, want exactly one %s", s.Env, fs, s.RuleID)
		}
	}
}

// A reference model of the image filesystem, just enough to check the
// fixtures' Status and RemovedBy claims independently of the scanner.
type node struct {
	dir     bool
	content string
}

type rootfs map[string]node

func (r rootfs) removeTree(p string) {
	for k := range r {
		if k == p || strings.HasPrefix(k, p+"/") {
			delete(r, k)
		}
	}
}

// apply applies one layer: whiteouts and opaque markers first (they hide
// only lower layers, wherever they sit in the tar), then the entries in tar
// order. Hard links copy their target's content (the names share an inode,
// so removing one name leaves the content under the other).
func (r rootfs) apply(files []tarFile) {
	for _, tf := range files {
		p := absPath(tf.hdr.Name)
		dir, base := path.Split(p)
		dir = path.Clean(dir)
		switch {
		case base == ".wh..wh..opq":
			for k := range r {
				if strings.HasPrefix(k, strings.TrimSuffix(dir, "/")+"/") {
					delete(r, k)
				}
			}
		case strings.HasPrefix(base, ".wh."):
			r.removeTree(path.Join(dir, strings.TrimPrefix(base, ".wh.")))
		}
	}
	for _, tf := range files {
		p := absPath(tf.hdr.Name)
		if strings.HasPrefix(path.Base(p), ".wh.") {
			continue
		}
		switch tf.hdr.Typeflag {
		case tar.TypeDir:
			r[p] = node{dir: true}
		case tar.TypeLink:
			r[p] = r[absPath(tf.hdr.Linkname)]
		case tar.TypeSymlink:
			r[p] = node{} // no content of its own
		default:
			r.removeTree(p)
			r[p] = node{content: tf.body}
		}
	}
}

func (r rootfs) holding(secret string) []string {
	var out []string
	for p, n := range r {
		if strings.Contains(n.content, secret) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func TestFixtureStatuses(t *testing.T) {
	fixtures, err := Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			imgs := fixtureImages(t, f)
			for _, fd := range f.Findings {
				img := imgs[fd.Platform]
				if img == nil {
					t.Fatalf("%s: no image for platform %q", fd.Path, fd.Platform)
				}
				layers, err := img.Layers()
				if err != nil {
					t.Fatal(err)
				}
				// Filesystem after each layer.
				states := make([]rootfs, len(layers))
				r := rootfs{}
				for i, l := range layers {
					r.apply(layerFiles(t, l))
					states[i] = rootfs{}
					for k, v := range r {
						states[i][k] = v
					}
				}
				final := states[len(states)-1]

				if !strings.Contains(states[fd.Layer][fd.Path].content, fd.Secret) {
					t.Errorf("%s: secret not there after layer %d", fd.Path, fd.Layer)
				}
				removedBy := -1
				for k := fd.Layer + 1; k < len(states); k++ {
					if !strings.Contains(states[k][fd.Path].content, fd.Secret) {
						removedBy = k
						break
					}
				}
				holders := final.holding(fd.Secret)
				switch fd.Status {
				case StatusPresent:
					if len(holders) == 0 {
						t.Errorf("%s: present, but the final filesystem does not hold the secret", fd.Path)
					}
					for _, l := range fd.Links {
						if !strings.Contains(final[l].content, fd.Secret) {
							t.Errorf("%s: link %s does not hold the secret", fd.Path, l)
						}
					}
					if fd.RemovedBy != -1 {
						t.Errorf("%s: present with RemovedBy %d", fd.Path, fd.RemovedBy)
					}
				case StatusDeleted, StatusOverwritten:
					if len(holders) > 0 {
						t.Errorf("%s: %s, but the final filesystem holds it at %v", fd.Path, fd.Status, holders)
					}
					if removedBy != fd.RemovedBy {
						t.Errorf("%s: removed by layer %d, fixture says %d", fd.Path, removedBy, fd.RemovedBy)
					}
					if removedBy < 0 {
						break
					}
					_, exists := states[removedBy][fd.Path]
					if (fd.Status == StatusOverwritten) != exists {
						t.Errorf("%s: status %s, but path exists after layer %d: %v", fd.Path, fd.Status, removedBy, exists)
					}
				default:
					t.Errorf("%s: bad status %q", fd.Path, fd.Status)
				}

				// History: the index that empty_layer flags give to fd.Layer.
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				hist, n := -1, 0
				for i, h := range cf.History {
					if h.EmptyLayer {
						continue
					}
					if n == fd.Layer {
						hist = i
						break
					}
					n++
				}
				if hist != fd.History {
					t.Errorf("%s: layer %d maps to history %d, fixture says %d", fd.Path, fd.Layer, hist, fd.History)
				}
			}
		})
	}
}

// TestFixturesOnDisk reads the checked-in files back with go-containerregistry.
func TestFixturesOnDisk(t *testing.T) {
	fixtures, err := Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			var want v1.Hash
			if f.Image != nil {
				want, err = f.Image.Digest()
			} else {
				want, err = f.Index.Digest()
			}
			if err != nil {
				t.Fatal(err)
			}
			idx, err := layout.ImageIndexFromPath(filepath.Join(testdataDir, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if len(im.Manifests) != 1 || im.Manifests[0].Digest != want ||
				im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != RefName {
				t.Fatalf("index.json: %+v, want one entry %s", im.Manifests, want)
			}
			if f.DockerArchive {
				img, err := tarball.ImageFromPath(filepath.Join(testdataDir, f.Name+".docker.tar"), nil)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := img.ConfigName()
				wantCfg, _ := f.Image.ConfigName()
				if got != wantCfg {
					t.Errorf("docker archive config %s, want %s", got, wantCfg)
				}
			}
			if f.OCIArchive {
				fh, err := os.Open(filepath.Join(testdataDir, f.Name+".oci.tar"))
				if err != nil {
					t.Fatal(err)
				}
				defer fh.Close()
				var names []string
				for _, h := range readTar(t, fh) {
					names = append(names, h.Name)
				}
				if !sort.StringsAreSorted(names) || names[len(names)-1] != "oci-layout" ||
					names[len(names)-2] != "index.json" || names[0] != "blobs/" {
					t.Errorf("oci archive entries: %v", names)
				}
			}
		})
	}
}

func TestFixtureByName(t *testing.T) {
	f, err := FixtureByName("lifecycle")
	if err != nil || f.Image == nil || len(f.Findings) != 5 {
		t.Fatalf("FixtureByName(lifecycle) = %+v, %v", f, err)
	}
	if _, err := FixtureByName("nope"); err == nil {
		t.Error("FixtureByName(nope) succeeded")
	}
}

// TestReadmeCoversFixtures keeps testdata/images/README.md in step with the
// fixture list (it is written by hand).
func TestReadmeCoversFixtures(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdataDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	fixtures, err := Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		if !strings.Contains(readme, "\n## "+f.Name+"\n") {
			t.Errorf("README.md has no section %q", f.Name)
		}
		for _, fd := range f.Findings {
			row := fmt.Sprintf("| %s | %s | %d |", fd.Path, fd.Rule, fd.Layer)
			if fd.Platform != "" {
				row = "| " + fd.Platform + " " + row
			}
			if !strings.Contains(readme, row) {
				t.Errorf("README.md has no row starting %q", row)
			}
		}
	}
}
