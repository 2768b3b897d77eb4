package testimage

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Status is what became of a secret in the final filesystem of an image.
type Status string

const (
	// StatusPresent: the secret's content is reachable in the final image.
	StatusPresent Status = "present"
	// StatusDeleted: a later layer removed it (whiteout, a whiteout of a
	// parent directory, or an opaque directory marker).
	StatusDeleted Status = "deleted"
	// StatusOverwritten: a later layer wrote another file at the same path.
	StatusOverwritten Status = "overwritten"
)

// Finding is a secret that a scanner should report in a fixture.
type Finding struct {
	// Platform is "os/arch[/variant]" for fixtures that are an index, and
	// "" for single images.
	Platform string
	// Path is the absolute path of the tar entry holding the secret's bytes.
	Path string
	// Line is the 1-based line of the secret in that file.
	Line int
	// Layer is the index (0-based, manifest order) of the layer holding the
	// entry.
	Layer int
	// History is the index into the config's history of the entry that
	// the empty_layer flags assign to Layer, or -1 when there is none
	// (no history, or history shorter than the layers).
	History int
	// Rule is the gitleaks rule ID that detects the secret.
	Rule string
	// Secret is the secret value.
	Secret string
	// Status is what became of the secret.
	Status Status
	// RemovedBy is the index of the layer that deleted or overwrote the
	// secret, or -1 when Status is present.
	RemovedBy int
	// Links are other absolute paths, in the final filesystem, of hard
	// links to the same content.
	Links []string
	// Note explains anything unusual.
	Note string
}

// Fixture is one image (or index) under testdata/images.
type Fixture struct {
	// Name is the directory under testdata/images (an OCI layout) and the
	// stem of the archives.
	Name string
	// Description says what the fixture is for.
	Description string
	// Image is the fixture's image; nil when Index is set.
	Image v1.Image
	// Index is the fixture's image index; nil when Image is set.
	Index v1.ImageIndex
	// DockerArchive: also write NAME.docker.tar (docker save format, tagged
	// [FixtureRef](Name)).
	DockerArchive bool
	// OCIArchive: also write NAME.oci.tar (a tar of the OCI layout).
	OCIArchive bool
	// Findings is what a scanner should report, in no particular order.
	Findings []Finding
}

// RefName is the org.opencontainers.image.ref.name annotation of the single
// entry in each fixture's index.json, so "oci:DIR:latest" works as well as
// "oci:DIR".
const RefName = "latest"

// FixtureRef is the tag of a fixture's image in its docker archive.
func FixtureRef(fixture string) string {
	return "layerscan.test/fixtures/" + fixture + ":" + RefName
}

// Fixtures builds the fixtures in memory, in a fixed order. Tests can use
// them directly instead of reading testdata/images.
func Fixtures() ([]Fixture, error) {
	builders := []func() (Fixture, error){
		lifecycleFixture,
		compressionFixture,
		noHistoryFixture,
		shortHistoryFixture,
		longHistoryFixture,
		multiarchFixture,
		cleanFixture,
		hardlinkSurvivesFixture,
	}
	out := make([]Fixture, 0, len(builders))
	for _, b := range builders {
		f, err := b()
		if err != nil {
			return nil, fmt.Errorf("fixture %s: %w", f.Name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// FixtureByName returns the fixture called name.
func FixtureByName(name string) (Fixture, error) {
	all, err := Fixtures()
	if err != nil {
		return Fixture{}, err
	}
	for _, f := range all {
		if f.Name == name {
			return f, nil
		}
	}
	return Fixture{}, fmt.Errorf("testimage: no fixture %q", name)
}

func dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir} }
func file(name, body string) Entry {
	return Entry{Name: name, Type: tar.TypeReg, Body: body}
}

func lifecycleFixture() (Fixture, error) {
	f := Fixture{
		Name: "lifecycle",
		Description: "every way a secret can end: deleted by a whiteout, by a parent-directory whiteout and by an " +
			"opaque marker placed after new content, overwritten, or still present (also via a symlink and a hard link); " +
			"an empty_layer ENV step shifts history indices against layer indices",
		DockerArchive: true,
		OCIArchive:    true,
	}
	layer0 := Layer(Gzip,
		dir("app/"),
		file("app/deleted.env", envFile(secGitHub)),
		file("app/overwritten.env", envFile(secGitLab)),
		file("app/present.env", envFile(secStripe)),
		dir("app/dir/"),
		file("app/dir/inner.env", envFile(secSlack)),
		dir("app/opaque/"),
		file("app/opaque/a.env", envFile(secNPM)),
		Entry{Name: "app/link", Type: tar.TypeSymlink, Linkname: "present.env"},
		Entry{Name: "app/hard.env", Type: tar.TypeLink, Linkname: "app/present.env"},
	)
	layer1 := Layer(Gzip,
		dir("app/"),
		file("app/.wh.deleted.env", ""),
		file("app/.wh.dir", ""),
	)
	layer2 := Layer(Gzip,
		dir("app/"),
		file("app/overwritten.env", "clean\n"),
	)
	layer3 := Layer(Gzip,
		dir("app/"),
		dir("app/opaque/"),
		file("app/opaque/b.txt", "b\n"),
		// The opaque marker comes after b.txt in the tar: it hides only the
		// lower layers' app/opaque/*, never this layer's own b.txt.
		file("app/opaque/.wh..wh..opq", ""),
	)
	img, err := Image([]Step{
		{CreatedBy: "/bin/sh -c #(nop) COPY file:abc in /app/", Layer: layer0},
		{CreatedBy: "/bin/sh -c #(nop)  ENV APP_MODE=prod"},
		{CreatedBy: "RUN /bin/sh -c rm -r /app/deleted.env /app/dir # buildkit", Layer: layer1, Comment: "buildkit.dockerfile.v0"},
		{CreatedBy: "/bin/sh -c echo clean > /app/overwritten.env", Layer: layer2},
		{CreatedBy: "RUN /bin/sh -c rm -rf /app/opaque && mkdir /app/opaque && echo b > /app/opaque/b.txt # buildkit", Layer: layer3, Comment: "buildkit.dockerfile.v0"},
	}, WithEnv("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_MODE=prod"))
	if err != nil {
		return f, err
	}
	f.Image = img
	f.Findings = []Finding{
		{Path: "/app/deleted.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleGitHub, Secret: SecretGitHub,
			Status: StatusDeleted, RemovedBy: 1, Note: "whiteout app/.wh.deleted.env"},
		{Path: "/app/overwritten.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleGitLab, Secret: SecretGitLab,
			Status: StatusOverwritten, RemovedBy: 2, Note: "layer 2 writes harmless content to the same path"},
		{Path: "/app/present.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleStripe, Secret: SecretStripe,
			Status: StatusPresent, RemovedBy: -1, Links: []string{"/app/hard.env"},
			Note: "/app/hard.env is a hard link to it (tar entry without a body); the symlink /app/link -> present.env also resolves to it"},
		{Path: "/app/dir/inner.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleSlack, Secret: SecretSlack,
			Status: StatusDeleted, RemovedBy: 1, Note: "whiteout of the parent directory, app/.wh.dir"},
		{Path: "/app/opaque/a.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleNPM, Secret: SecretNPM,
			Status: StatusDeleted, RemovedBy: 3, Note: "opaque marker app/opaque/.wh..wh..opq, written after app/opaque/b.txt in layer 3's tar"},
	}
	return f, nil
}

func compressionFixture() (Fixture, error) {
	f := Fixture{
		Name:          "compression",
		Description:   "the same kind of layer three times: gzip, zstd and uncompressed, each with its OCI media type",
		DockerArchive: true,
		OCIArchive:    true,
	}
	img, err := Image([]Step{
		{CreatedBy: "/bin/sh -c #(nop) COPY file:0a1b in /etc/app/gzip.env", Layer: Layer(Gzip,
			dir("etc/"), dir("etc/app/"), file("etc/app/gzip.env", envFile(secAWS)))},
		{CreatedBy: "/bin/sh -c #(nop) COPY file:2c3d in /etc/app/zstd.env", Layer: Layer(Zstd,
			dir("etc/"), dir("etc/app/"), file("etc/app/zstd.env", envFile(secGitHub)))},
		{CreatedBy: "/bin/sh -c #(nop) COPY file:4e5f in /etc/app/plain.env", Layer: Layer(None,
			dir("etc/"), dir("etc/app/"), file("etc/app/plain.env", envFile(secNPM)))},
	})
	if err != nil {
		return f, err
	}
	f.Image = img
	f.Findings = []Finding{
		{Path: "/etc/app/gzip.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleAWS, Secret: SecretAWS,
			Status: StatusPresent, RemovedBy: -1, Note: "layer media type application/vnd.oci.image.layer.v1.tar+gzip"},
		{Path: "/etc/app/zstd.env", Line: secretLine, Layer: 1, History: 1, Rule: RuleGitHub, Secret: SecretGitHub,
			Status: StatusPresent, RemovedBy: -1, Note: "layer media type application/vnd.oci.image.layer.v1.tar+zstd"},
		{Path: "/etc/app/plain.env", Line: secretLine, Layer: 2, History: 2, Rule: RuleNPM, Secret: SecretNPM,
			Status: StatusPresent, RemovedBy: -1, Note: "layer media type application/vnd.oci.image.layer.v1.tar"},
	}
	return f, nil
}

func noHistoryFixture() (Fixture, error) {
	f := Fixture{
		Name:        "nohistory",
		Description: "two layers with a secret each; the config has no history field at all",
	}
	img, err := Image([]Step{
		{CreatedBy: "ignored", Layer: Layer(Gzip,
			dir("opt/"), dir("opt/app/"), file("opt/app/.env", envFile(secGitLab)))},
		{CreatedBy: "ignored", Layer: Layer(Gzip,
			dir("opt/"), dir("opt/app/"), file("opt/app/extra.env", envFile(secSlack)))},
	}, WithoutHistory())
	if err != nil {
		return f, err
	}
	f.Image = img
	f.Findings = []Finding{
		{Path: "/opt/app/.env", Line: secretLine, Layer: 0, History: -1, Rule: RuleGitLab, Secret: SecretGitLab,
			Status: StatusPresent, RemovedBy: -1},
		{Path: "/opt/app/extra.env", Line: secretLine, Layer: 1, History: -1, Rule: RuleSlack, Secret: SecretSlack,
			Status: StatusPresent, RemovedBy: -1},
	}
	return f, nil
}

func shortHistoryFixture() (Fixture, error) {
	f := Fixture{
		Name: "shorthistory",
		Description: "three layers but a single (non-empty) history entry, as left by tools that add layers " +
			"without adding history; layers 1 and 2 have no history entry, and a secret is deleted in between",
	}
	img, err := Image([]Step{
		{Layer: Layer(Gzip,
			dir("srv/"), file("srv/README.md", "# srv\n\nNothing to see here.\n"), file("srv/app.env", envFile(secStripe)))},
		{Layer: Layer(Gzip,
			dir("srv/"), file("srv/build.env", envFile(secGitHub)))},
		{Layer: Layer(Gzip,
			dir("srv/"), file("srv/.wh.build.env", ""), file("srv/VERSION", "1.2.3\n"))},
	}, WithHistoryOverride([]v1.History{
		{Created: v1.Time{Time: StepTime(0)}, CreatedBy: "/bin/sh -c #(nop) ADD file:4a1f0c in /srv/ "},
	}))
	if err != nil {
		return f, err
	}
	f.Image = img
	f.Findings = []Finding{
		{Path: "/srv/app.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleStripe, Secret: SecretStripe,
			Status: StatusPresent, RemovedBy: -1},
		{Path: "/srv/build.env", Line: secretLine, Layer: 1, History: -1, Rule: RuleGitHub, Secret: SecretGitHub,
			Status: StatusDeleted, RemovedBy: 2, Note: "neither layer 1 nor layer 2 has a history entry"},
	}
	return f, nil
}

func longHistoryFixture() (Fixture, error) {
	f := Fixture{
		Name: "longhistory",
		Description: "one layer, four history entries, exactly one of them non-empty, but the flags are wrong: " +
			"the COPY that made the layer says empty_layer: true and the ENV after it has no empty_layer flag, " +
			"so the counts agree while flag-based attribution picks the ENV entry",
	}
	img, err := Image([]Step{
		{Layer: Layer(Gzip, dir("app/"), file("app/config.env", envFile(secAWS)))},
	}, WithHistoryOverride([]v1.History{
		{Created: v1.Time{Time: StepTime(0)}, CreatedBy: "/bin/sh -c #(nop) COPY file:9c2e in /app/config.env", EmptyLayer: true},
		{Created: v1.Time{Time: StepTime(1)}, CreatedBy: "/bin/sh -c #(nop)  ENV APP_ENV=production"},
		{Created: v1.Time{Time: StepTime(2)}, CreatedBy: "/bin/sh -c #(nop)  EXPOSE 8080/tcp", EmptyLayer: true},
		{Created: v1.Time{Time: StepTime(3)}, CreatedBy: "/bin/sh -c #(nop)  CMD [\"/app/run\"]", EmptyLayer: true},
	}))
	if err != nil {
		return f, err
	}
	f.Image = img
	f.Findings = []Finding{
		{Path: "/app/config.env", Line: secretLine, Layer: 0, History: 1, Rule: RuleAWS, Secret: SecretAWS,
			Status: StatusPresent, RemovedBy: -1,
			Note: "flags map layer 0 to history[1] (ENV APP_ENV=production); the step that really made it is history[0] (COPY)"},
	}
	return f, nil
}

func multiarchFixture() (Fixture, error) {
	f := Fixture{
		Name:        "multiarch",
		Description: "an OCI index with linux/amd64 and linux/arm64/v8 images, each with a different secret in /etc/app.conf",
		OCIArchive:  true,
	}
	build := func(s fakeSecret, osName, arch, variant string) (v1.Image, error) {
		return Image([]Step{
			{CreatedBy: "/bin/sh -c #(nop) COPY file:7d8e in /etc/app.conf", Layer: Layer(Gzip,
				dir("etc/"), file("etc/app.conf", envFile(s)))},
		}, WithPlatform(osName, arch, variant))
	}
	amd, err := build(secGitLab, "linux", "amd64", "")
	if err != nil {
		return f, err
	}
	arm, err := build(secNPM, "linux", "arm64", "v8")
	if err != nil {
		return f, err
	}
	idx, err := Index(map[string]v1.Image{"linux/amd64": amd, "linux/arm64/v8": arm})
	if err != nil {
		return f, err
	}
	f.Index = idx
	f.Findings = []Finding{
		{Platform: "linux/amd64", Path: "/etc/app.conf", Line: secretLine, Layer: 0, History: 0, Rule: RuleGitLab,
			Secret: SecretGitLab, Status: StatusPresent, RemovedBy: -1},
		{Platform: "linux/arm64/v8", Path: "/etc/app.conf", Line: secretLine, Layer: 0, History: 0, Rule: RuleNPM,
			Secret: SecretNPM, Status: StatusPresent, RemovedBy: -1},
	}
	return f, nil
}

func cleanFixture() (Fixture, error) {
	f := Fixture{
		Name:        "clean",
		Description: "negative control: two layers, no secrets",
	}
	img, err := Image([]Step{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:1f2e in / ", Layer: Layer(Gzip,
			dir("etc/"),
			file("etc/os-release", "NAME=\"Layerscan Test OS\"\nID=lstest\nVERSION_ID=1.0\n"),
			dir("app/"),
			Entry{Name: "app/main.sh", Body: "#!/bin/sh\necho hello\n", Mode: 0o755},
		)},
		{CreatedBy: "/bin/sh -c #(nop)  CMD [\"/app/main.sh\"]"},
		{CreatedBy: "/bin/sh -c #(nop) COPY file:3a4b in /app/", Layer: Layer(Gzip,
			dir("app/"),
			file("app/settings.conf", "PORT=8080\nLOG_LEVEL=info\nWORKERS=4\n"),
			file("app/README.md", "# app\n\nPrints hello.\n"),
		)},
	})
	if err != nil {
		return f, err
	}
	f.Image = img
	return f, nil
}

func hardlinkSurvivesFixture() (Fixture, error) {
	f := Fixture{
		Name: "hardlink-survives",
		Description: "a hard link keeps a secret reachable after its original name is whited out: " +
			"a scanner must not call it deleted",
		DockerArchive: true,
	}
	img, err := Image([]Step{
		{CreatedBy: "/bin/sh -c #(nop) COPY dir:5b6c in /data/", Layer: Layer(Gzip,
			dir("data/"),
			file("data/key.env", envFile(secAWS)),
			Entry{Name: "data/copy.env", Type: tar.TypeLink, Linkname: "data/key.env"},
		)},
		{CreatedBy: "RUN /bin/sh -c rm /data/key.env # buildkit", Comment: "buildkit.dockerfile.v0", Layer: Layer(Gzip,
			dir("data/"),
			file("data/.wh.key.env", ""),
		)},
	})
	if err != nil {
		return f, err
	}
	f.Image = img
	f.Findings = []Finding{
		{Path: "/data/key.env", Line: secretLine, Layer: 0, History: 0, Rule: RuleAWS, Secret: SecretAWS,
			Status: StatusPresent, RemovedBy: -1, Links: []string{"/data/copy.env"},
			Note: "the name /data/key.env is whited out by layer 1, but the content stays reachable as /data/copy.env"},
	}
	return f, nil
}

// WriteFixtures writes every fixture under outDir: an OCI layout directory
// outDir/NAME for each, plus outDir/NAME.docker.tar and outDir/NAME.oci.tar
// where the fixture asks for them. Existing outputs of the same names are
// removed first; other files in outDir (README.md) are left alone. The output is
// byte-for-byte reproducible.
func WriteFixtures(outDir string) error {
	fixtures, err := Fixtures()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for _, f := range fixtures {
		if err := writeFixture(outDir, f); err != nil {
			return fmt.Errorf("fixture %s: %w", f.Name, err)
		}
	}
	return nil
}

func writeFixture(outDir string, f Fixture) error {
	layoutDir := filepath.Join(outDir, f.Name)
	dockerTar := filepath.Join(outDir, f.Name+".docker.tar")
	ociTar := filepath.Join(outDir, f.Name+".oci.tar")
	for _, p := range []string{layoutDir, dockerTar, ociTar} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}

	p, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		return err
	}
	ann := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": RefName})
	switch {
	case f.Index != nil:
		err = p.AppendIndex(f.Index, ann)
	case f.Image != nil:
		err = p.AppendImage(f.Image, ann)
	default:
		err = fmt.Errorf("neither image nor index")
	}
	if err != nil {
		return err
	}
	// layout writes files with os.ModePerm; make them plain 0644 files.
	if err := normalizeModes(layoutDir); err != nil {
		return err
	}

	if f.DockerArchive {
		if f.Image == nil {
			return fmt.Errorf("docker archive needs an image")
		}
		ref, err := name.NewTag(FixtureRef(f.Name))
		if err != nil {
			return err
		}
		if err := tarball.WriteToFile(dockerTar, ref, f.Image); err != nil {
			return err
		}
		if err := os.Chmod(dockerTar, 0o644); err != nil {
			return err
		}
	}
	if f.OCIArchive {
		if err := writeDirTar(layoutDir, ociTar); err != nil {
			return err
		}
		if err := os.Chmod(ociTar, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func normalizeModes(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	})
}

// writeDirTar writes the tree under root to the tar file out: names relative
// to root, sorted, directories first with a trailing slash, fixed metadata.
func writeDirTar(root, out string) (err error) {
	type item struct {
		name string
		path string
		dir  bool
	}
	var items []item
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		n := filepath.ToSlash(rel)
		if d.IsDir() {
			n += "/"
		}
		items = append(items, item{name: n, path: p, dir: d.IsDir()})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })

	fh, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(fh)
	for _, it := range items {
		hdr := &tar.Header{Name: it.name, ModTime: Epoch, Format: tar.FormatUSTAR}
		if it.dir {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		st, err := os.Stat(it.path)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, st.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		src, err := os.Open(it.path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}
