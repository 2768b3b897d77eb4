package scan_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/walk"
)

// TestEngineEqualOnImages: layerscan's findings on an image are the same
// with the keyword-window engine (pkg/detect/fast.go) as with plain
// gitleaks Detect (detect.Options.NoWindows), at decoding depth 2, with
// binaries read as strings and nested archives opened. Images: the
// external Docker/BuildKit images, the buildah corpus (when built), and a
// generated image of real text and binaries from this machine with
// secrets planted in it (plain, encoded, in a binary, in archives, deleted
// by a whiteout, in the config).
//
// Two comparisons per image: the complete reports (every finding field
// that reaches the user, as sorted lists; layers, warnings, errors and
// counters), and every chunk the walk hands over, run through both
// detectors and compared on every detect.Hit field (column, end line
// and entropy do not reach the report).
func TestEngineEqualOnImages(t *testing.T) {
	start := time.Now()
	fastDet, err := detect.New(detect.Options{MaxDecodeDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	plainDet, err := detect.New(detect.Options{MaxDecodeDepth: 2, NoWindows: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := scan.Options{Binaries: walk.BinaryStrings, Key: testKey} // ArchiveDepth 0: walk.DefaultArchiveDepth
	eng := engines{
		fast: scan.New(fastDet, opts), plain: scan.New(plainDet, opts),
		fastDet: fastDet, plainDet: plainDet,
	}
	defer func() { t.Logf("total %s", time.Since(start).Round(time.Millisecond)) }()

	t.Run("external", func(t *testing.T) {
		dir := externalDir(t)
		names, err := filepath.Glob(filepath.Join(dir, "*.tar"))
		if err != nil || len(names) == 0 {
			t.Fatalf("no external images in %s: %v", dir, err)
		}
		for _, p := range names {
			name := filepath.Base(p)
			t.Run(name, func(t *testing.T) {
				src := openSource(t, p, fetch.WithPlatform("all"))
				for _, img := range src.Images {
					eng.compare(t, img, externalPlanted[name])
				}
			})
		}
	})

	t.Run("buildah", func(t *testing.T) {
		dir := buildahImages(t)
		cases, err := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "buildah", "cases", "*", "expected.json"))
		if err != nil || len(cases) == 0 {
			t.Fatalf("no buildah cases: %v", err)
		}
		for _, exp := range cases {
			name := filepath.Base(filepath.Dir(exp))
			t.Run(name, func(t *testing.T) {
				p := filepath.Join(dir, name+".oci.tar")
				if _, err := os.Stat(p); err != nil {
					if os.Getenv(testenv.RequireToolsEnv) == "1" {
						t.Fatalf("buildah image %s: %v (%s=1)", name, err, testenv.RequireToolsEnv)
					}
					t.Skipf("buildah image not built: %v (scripts/build-test-images.sh %s)", err, dir)
				}
				want := buildahPlanted(t, exp)
				src := openSource(t, "oci-archive:"+p)
				if len(src.Images) != 1 {
					t.Fatalf("%d images", len(src.Images))
				}
				eng.compare(t, src.Images[0], want)
			})
		}
	})

	t.Run("generated", func(t *testing.T) {
		t0 := time.Now()
		img, want := realisticImage(t)
		t.Logf("image built in %s", time.Since(t0).Round(time.Millisecond))
		eng.compare(t, img, want)
	})
}

// engines are the two scanners under comparison and their detectors.
type engines struct {
	fast, plain       *scan.Scanner
	fastDet, plainDet *detect.Detector
}

// planted is a finding a scan must report (a "file" finding unless source
// says otherwise); encoding, status and chain are checked when set.
type planted struct {
	source, rule, path string
	encoding, status   string
	chain              []string
}

func (p planted) String() string {
	src := p.source
	if src == "" {
		src = "file"
	}
	s := src + " " + p.rule
	if p.path != "" {
		s += " " + p.path
	}
	if len(p.chain) > 0 {
		s += "!/" + strings.Join(p.chain, "!/")
	}
	if p.encoding != "" {
		s += " encoding " + p.encoding
	}
	if p.status != "" {
		s += " " + p.status
	}
	return s
}

func (p planted) matches(f report.Finding) bool {
	src := p.source
	if src == "" {
		src = "file"
	}
	return f.Source == src && f.Rule == p.rule && f.Path == p.path &&
		(p.encoding == "" || f.Encoding == p.encoding) &&
		(p.status == "" || f.Status == p.status) &&
		(p.chain == nil || slices.Equal(f.ArchivePath, p.chain))
}

// externalPlanted: what the external images hold (see their README): the
// ggshield image's ENV secrets, in the config and in the history.
var externalPlanted = map[string][]planted{
	"ggshield-docker-example.tar": {
		{source: "config", rule: "generic-api-key"},
		{source: "history", rule: "generic-api-key"},
	},
}

// compare scans img with both engines and fails on any difference.
func (e engines) compare(t *testing.T, img *fetch.Image, want []planted) {
	t.Helper()
	t0 := time.Now()
	fastRep := scanImage(t, e.fast, img)
	t1 := time.Now()
	plainRep := scanImage(t, e.plain, img)
	t2 := time.Now()

	diffSorted(t, "findings", findingLines(fastRep), findingLines(plainRep))
	diffSorted(t, "report (findings aside)", restLines(t, fastRep), restLines(t, plainRep))
	for _, w := range want {
		for _, r := range []struct {
			engine string
			rep    *report.Image
		}{{"fast", fastRep}, {"plain", plainRep}} {
			if !slices.ContainsFunc(r.rep.Findings, w.matches) {
				t.Errorf("%s engine: planted finding missing: %s", r.engine, w)
			}
		}
	}
	if len(want) > 0 && len(fastRep.Findings) == 0 {
		t.Errorf("no findings at all")
	}

	chunks, dets := e.compareChunks(t, img)
	t.Logf("%d findings compared (%d planted); %d chunks, %d detector findings compared; %d MiB; fast scan %s, plain scan %s, chunks %s",
		len(fastRep.Findings), len(want), chunks, dets, fastRep.Stats.Bytes>>20,
		t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
}

// findingLines are the report's findings, one line each: a summary to
// read, then every field as JSON.
func findingLines(rep *report.Image) []string {
	out := make([]string, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		b, err := json.Marshal(f)
		if err != nil {
			panic(err)
		}
		where := f.Path + f.Field
		if len(f.ArchivePath) > 0 {
			where += "!/" + strings.Join(f.ArchivePath, "!/")
		}
		out = append(out, fmt.Sprintf("%s layer %d %s line %d %s %s: %s", f.Source, f.Layer.Index, where, f.Line, f.Rule, f.Status, b))
	}
	sort.Strings(out)
	return out
}

// restLines is the report without its findings and duration, as JSON
// lines (layers hold history text the detector redacts).
func restLines(t *testing.T, rep *report.Image) []string {
	r := *rep
	r.Findings = nil
	r.Stats.DurationMS = 0
	b, err := json.MarshalIndent(&r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// diffSorted fails with the first differences between two lists compared
// as multisets.
func diffSorted(t *testing.T, what string, fast, plain []string) {
	t.Helper()
	n := map[string]int{}
	for _, s := range fast {
		n[s]++
	}
	for _, s := range plain {
		n[s]--
	}
	var onlyFast, onlyPlain []string
	for s, c := range n {
		for ; c > 0; c-- {
			onlyFast = append(onlyFast, s)
		}
		for ; c < 0; c++ {
			onlyPlain = append(onlyPlain, s)
		}
	}
	if len(onlyFast)+len(onlyPlain) == 0 {
		return
	}
	sort.Strings(onlyFast)
	sort.Strings(onlyPlain)
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "%s differ (fast %d, plain %d):\n", what, len(fast), len(plain))
	for _, side := range []struct {
		name  string
		lines []string
	}{{"only with the fast engine", onlyFast}, {"only with the plain engine (gitleaks Detect)", onlyPlain}} {
		fmt.Fprintf(&b, "  %s: %d\n", side.name, len(side.lines))
		for i, s := range side.lines {
			if i == show {
				fmt.Fprintf(&b, "    … %d more\n", len(side.lines)-show)
				break
			}
			fmt.Fprintf(&b, "    %s\n", s)
		}
	}
	t.Error(b.String())
}

// compareChunks walks img as the scanner does and runs every chunk through
// both detectors, comparing every field of their findings. It returns the
// number of chunks and of findings compared.
func (e engines) compareChunks(t *testing.T, img *fetch.Image) (chunks, findings int) {
	t.Helper()
	var mu sync.Mutex
	var diffs []string
	wopts := walk.Options{Archives: walk.ArchiveOptions{MaxDepth: walk.DefaultArchiveDepth}, Binaries: walk.BinaryStrings}
	_, err := walk.Walk(context.Background(), img.Layers, wopts, func(_ context.Context, c *walk.Chunk) error {
		p := c.Path
		if len(c.ArchivePath) > 0 {
			p += "!/" + strings.Join(c.ArchivePath, "!/")
		}
		var fast, plain []detect.Hit
		if c.Strings {
			fast, plain = e.fastDet.ScanBinary(p, c.Data), e.plainDet.ScanBinary(p, c.Data)
		} else {
			fast, plain = e.fastDet.Scan(p, c.Data, c.StartLine), e.plainDet.Scan(p, c.Data, c.StartLine)
		}
		a, b := detectLines(fast), detectLines(plain)
		mu.Lock()
		defer mu.Unlock()
		chunks++
		findings += len(plain)
		if !slices.Equal(a, b) {
			kind := "text"
			if c.Strings {
				kind = "binary strings"
			}
			diffs = append(diffs, fmt.Sprintf("layer %d %s (%s, %d bytes at offset %d, line %d):\n      fast:  %s\n      plain: %s",
				c.Layer, p, kind, len(c.Data), c.Offset, c.StartLine, strings.Join(a, "\n             "), strings.Join(b, "\n             ")))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		if len(diffs) > 10 {
			diffs = append(diffs[:10], fmt.Sprintf("… %d more", len(diffs)-10))
		}
		t.Errorf("detector findings differ in %d chunks:\n    %s", len(diffs), strings.Join(diffs, "\n    "))
	}
	return chunks, findings
}

// detectLines are detector findings, every field, sorted; the secret shown
// redacted and by hash.
func detectLines(fs []detect.Hit) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		h := sha256.Sum256([]byte(f.Secret))
		out[i] = fmt.Sprintf("line %d-%d col %d %s secret %s (%d bytes, sha256 %x) entropy %g severity %q encoding %q note %q description %q",
			f.Line, f.EndLine, f.Column, f.RuleID, detect.Redact(f.Secret), len(f.Secret), h[:6], f.Entropy, f.Severity, f.Encoding, f.Note, f.Description)
	}
	sort.Strings(out)
	return out
}

// buildahImages is the directory of the buildah corpus: with
// LAYERSCAN_REQUIRE_TOOLS=1 it is built (or brought up to date) as the
// command's tests do; otherwise what was built before is used.
func buildahImages(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LAYERSCAN_TEST_IMAGES")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), ".cache", "test-images")
	}
	if os.Getenv(testenv.RequireToolsEnv) == "1" {
		testenv.RequireTool(t, "buildah")
		testenv.RequireTool(t, "skopeo")
		// The script takes a lock and skips the cases that are up to date.
		out, err := exec.Command("bash", filepath.Join(repoRoot(t), "scripts", "build-test-images.sh"), dir).CombinedOutput()
		if err != nil {
			t.Fatalf("building the buildah corpus: %v\n%s", err, out)
		}
	}
	return dir
}

// buildahPlanted reads a case's expected.json.
func buildahPlanted(t *testing.T, path string) []planted {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var exp []struct {
		Path, Rule, Source, Status, Encoding string
		ArchivePath                          []string `json:"archive_path"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []planted
	for _, x := range exp {
		src := x.Source
		if src == "layer" {
			src = "file"
		}
		out = append(out, planted{source: src, rule: x.Rule, path: x.Path, encoding: x.Encoding, status: x.Status, chain: x.ArchivePath})
	}
	return out
}

// --- the generated image ---

// realFile is a file of this machine, named as in the image.
type realFile struct {
	name string // without the leading slash
	body []byte
}

// realFiles are regular files under root (lexical order) up to budget
// bytes, each at most 256 KiB, named at in the image (root's path when
// empty); gzip files count three times their size (the walk opens them).
// Unreadable or absent trees give what they give.
func realFiles(root, at string, budget int) []realFile {
	if at == "" {
		at = root
	}
	var out []realFile
	used := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if used >= budget {
			return fs.SkipAll
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() == 0 || info.Size() > 256<<10 {
			return nil
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		cost := len(body)
		if strings.HasSuffix(p, ".gz") {
			cost *= 3
		}
		used += cost
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil
		}
		out = append(out, realFile{name: strings.TrimPrefix(filepath.ToSlash(filepath.Join(at, rel)), "/"), body: body})
		return nil
	})
	return out
}

// spliceInto puts line into the middle of the first text file of files
// whose name ends with suffix and that has some lines, and returns its
// image path ("" if there is none).
func spliceInto(files []realFile, suffix, line string) string {
	for i, f := range files {
		if !strings.HasSuffix(f.name, suffix) || len(f.body) < 2048 || !utf8.Valid(f.body) || bytes.IndexByte(f.body, 0) >= 0 {
			continue
		}
		mid := bytes.IndexByte(f.body[len(f.body)/2:], '\n')
		if mid < 0 {
			continue
		}
		at := len(f.body)/2 + mid + 1
		body := append(append(slices.Clip(f.body[:at]), line+"\n"...), f.body[at:]...)
		files[i].body = body
		return "/" + f.name
	}
	return ""
}

// realisticImage builds an image of three layers (gzip, zstd, none) from
// about 10 MiB of real text and 2 MiB of real binaries of this machine,
// with testimage's fake secrets planted: in an .env file, spliced into real
// files, base64 in a docker config, percent-encoded in a URL, hex-encoded,
// in a binary, in a gzip file and a zip member, in a file a later layer's
// whiteout deletes, in the config's Env and in the history.
func realisticImage(t testing.TB) (*fetch.Image, []planted) {
	t.Helper()
	goroot := os.Getenv("GOROOT")
	if goroot == "" {
		goroot = "/usr/local/go"
	}
	// layerscan's allowlist skips /usr/share/doc and Go's test files
	// (pkg/detect/allowlist.toml): under those paths the rules would not
	// run at all, so the docs and Go sources move to /opt.
	docs := realFiles("/usr/share/doc", "/opt/doc", 4<<20)
	python := realFiles("/usr/lib/python3", "", 3<<20)
	perl := realFiles("/usr/share/perl", "", 3<<19)
	gosrc := append(realFiles(filepath.Join(goroot, "src", "crypto"), "/opt/go/src/crypto", 2<<20),
		realFiles(filepath.Join(goroot, "src", "net", "http"), "/opt/go/src/net/http", 1<<20)...)
	var bins []realFile
	binBytes := 0
	for _, name := range []string{"gzip", "grep", "sed", "ls", "tar", "find", "curl", "ssh", "openssl", "perl", "python3"} {
		p, err := filepath.EvalSymlinks(filepath.Join("/usr/bin", name))
		if err != nil {
			continue
		}
		body, err := os.ReadFile(p)
		if err != nil || !walk.IsBinary(body) || binBytes+len(body) > 2<<20 {
			continue
		}
		binBytes += len(body)
		bins = append(bins, realFile{name: "usr/bin/" + name, body: body})
	}
	if len(docs)+len(python)+len(perl)+len(gosrc) == 0 || len(bins) == 0 {
		t.Skip("no real text files or binaries on this machine (/usr/share/doc, /usr/lib/python3, /usr/share/perl, GOROOT/src, /usr/bin)")
	}

	want := []planted{
		{rule: testimage.RuleAWS, path: "/app/.env", status: "present"},
		{rule: testimage.RuleGitHub, path: "/app/.env"},
		{rule: testimage.RuleGitLab, path: "/app/.env"},
		{rule: testimage.RuleStripe, path: "/app/.env"},
		{rule: testimage.RuleSlack, path: "/app/.env"},
		{rule: testimage.RuleNPM, path: "/app/.env"},
		{rule: testimage.RuleStripe, path: "/app/deleted.env", status: "deleted"},
		{rule: testimage.RuleGitHub, path: "/root/.docker/config.json", encoding: "base64"},
		{rule: testimage.RuleGitHub, path: "/opt/app/clone-url.txt", encoding: "percent"},
		{rule: testimage.RuleGitLab, path: "/opt/app/token.hex", encoding: "hex"},
		{rule: testimage.RuleGitHub, path: "/usr/local/bin/deploy-tool"},
		{rule: testimage.RuleNPM, path: "/opt/app/backup/secrets.env.gz", chain: []string{"secrets.env"}},
		{rule: testimage.RuleStripe, path: "/opt/app/bundle.zip", chain: []string{"config/application.properties"}},
		{source: "config", rule: testimage.RuleNPM},
		{source: "history", rule: testimage.RuleSlack},
	}
	for _, s := range []struct {
		files        []realFile
		suffix, line string
		rule         string
	}{
		{docs, "copyright", "GITHUB_TOKEN=" + testimage.SecretGitHub, testimage.RuleGitHub},
		{python, ".py", "SLACK_BOT_TOKEN = \"" + testimage.SecretSlack + "\"", testimage.RuleSlack},
		{perl, ".pm", "my $npm_token = '" + testimage.SecretNPM + "';", testimage.RuleNPM},
		{gosrc, ".go", "const awsAccessKeyID = \"" + testimage.SecretAWS + "\"", testimage.RuleAWS},
	} {
		if p := spliceInto(s.files, s.suffix, s.line); p != "" {
			want = append(want, planted{rule: s.rule, path: p})
		}
	}

	// A file of several chunks (walk.DefaultChunkSize, overlapping): real
	// text with secrets at its start, across the first chunk border and at
	// its end.
	var big []byte
	for _, f := range slices.Concat(python, perl, gosrc) {
		if len(big) > 5<<19 {
			break
		}
		if utf8.Valid(f.body) {
			big = append(big, f.body...)
		}
	}
	if len(big) > walk.DefaultChunkSize+(64<<10) {
		for _, at := range []int{len(big), walk.DefaultChunkSize - 30, walk.DefaultChunkSize / 2, 0} {
			big = slices.Insert(big, at, []byte("\nSTRIPE_SECRET_KEY="+testimage.SecretStripe+"\n")...)
		}
		want = append(want, planted{rule: testimage.RuleStripe, path: "/srv/static/app.bundle.txt"})
	}
	// Runes whose case folding reaches ASCII (the fast engine's fallback).
	folds := "# \u212a\u017f\u0130 ſecret\nSLACK_BOT_TOKEN=" + testimage.SecretSlack + "\n"
	want = append(want, planted{rule: testimage.RuleSlack, path: "/srv/static/folds.txt"})

	env := "# fake credentials for layerscan tests\n" +
		"AWS_ACCESS_KEY_ID=" + testimage.SecretAWS + "\n" +
		"GITHUB_TOKEN=" + testimage.SecretGitHub + "\n" +
		"GITLAB_TOKEN=" + testimage.SecretGitLab + "\n" +
		"STRIPE_SECRET_KEY=" + testimage.SecretStripe + "\n" +
		"SLACK_BOT_TOKEN=" + testimage.SecretSlack + "\n" +
		"NPM_TOKEN=" + testimage.SecretNPM + "\n"
	dockerConfig := `{
	"auths": {
		"ghcr.io": {
			"auth": "` + base64.StdEncoding.EncodeToString([]byte("deploy:"+testimage.SecretGitHub)) + `"
		}
	}
}
`
	var pct strings.Builder
	for _, c := range []byte(testimage.SecretGitHub) {
		fmt.Fprintf(&pct, "%%%02X", c)
	}
	cloneURL := "# mirror\nremote = https://deploy:" + pct.String() + "@github.com/example/app.git\n"
	hexToken := "token_hex=" + hex.EncodeToString([]byte("GITLAB_TOKEN="+testimage.SecretGitLab)) + "\n"
	tool := slices.Clone(bins[0].body)
	tool = slices.Insert(tool, len(tool)/2, []byte("\x00GITHUB_TOKEN="+testimage.SecretGitHub+"\x00")...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("# backup\nNPM_TOKEN=" + testimage.SecretNPM + "\n"))
	zw.Close()
	bundle := zipOf(t,
		"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n",
		"config/application.properties", "server.port=8080\nstripe.key="+testimage.SecretStripe+"\n")

	entries := func(files []realFile) []testimage.Entry {
		out := make([]testimage.Entry, len(files))
		for i, f := range files {
			out[i] = testimage.Entry{Name: f.name, Body: string(f.body)}
		}
		return out
	}
	layer0 := append(entries(docs), entries(bins)...)
	layer0 = append(layer0,
		testimage.Entry{Name: "app/", Type: tar.TypeDir},
		testimage.Entry{Name: "app/.env", Body: env},
		testimage.Entry{Name: "app/deleted.env", Body: "# removed later\nSTRIPE_SECRET_KEY=" + testimage.SecretStripe + "\n"},
		testimage.Entry{Name: "root/.docker/config.json", Body: dockerConfig},
		testimage.Entry{Name: "usr/local/bin/deploy-tool", Body: string(tool), Mode: 0o755},
	)
	layer1 := append(entries(python), entries(perl)...)
	layer1 = append(layer1, entries(gosrc)...)
	layer1 = append(layer1,
		testimage.Entry{Name: "opt/app/clone-url.txt", Body: cloneURL},
		testimage.Entry{Name: "opt/app/token.hex", Body: hexToken},
		testimage.Entry{Name: "opt/app/backup/secrets.env.gz", Body: gz.String()},
		testimage.Entry{Name: "opt/app/bundle.zip", Body: string(bundle)},
		testimage.Entry{Name: "srv/static/app.bundle.txt", Body: string(big)},
		testimage.Entry{Name: "srv/static/folds.txt", Body: folds},
	)
	layer2 := []testimage.Entry{
		{Name: "app/.wh.deleted.env"},
		{Name: "etc/motd", Body: "welcome\n"},
	}
	v1img, err := testimage.Image([]testimage.Step{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:4f2a9c0d rootfs in / ", Layer: testimage.Layer(testimage.Gzip, layer0...)},
		{CreatedBy: "COPY src/ / # buildkit", Layer: testimage.Layer(testimage.Zstd, layer1...)},
		{CreatedBy: "ENV NPM_TOKEN=" + testimage.SecretNPM},
		{CreatedBy: "RUN /bin/sh -c rm /app/deleted.env && curl -H 'Authorization: Bearer " + testimage.SecretSlack + "' https://hooks.example.com # buildkit",
			Layer: testimage.Layer(testimage.None, layer2...)},
	}, testimage.WithEnv("PATH=/usr/local/bin:/usr/bin:/bin", "NPM_TOKEN="+testimage.SecretNPM))
	if err != nil {
		t.Fatal(err)
	}
	img := openLayout(t, v1img)
	size := func(fs ...[]realFile) (n int) {
		for _, f := range slices.Concat(fs...) {
			n += len(f.body)
		}
		return n
	}
	t.Logf("generated image: %d doc, %d python, %d perl, %d Go files (%.1f MiB) and %.1f MiB of text in a file of %d chunks; %d binaries (%.1f MiB); %d planted findings: %v",
		len(docs), len(python), len(perl), len(gosrc), float64(size(docs, python, perl, gosrc))/(1<<20),
		float64(len(big))/(1<<20), (len(big)+walk.DefaultChunkSize-1)/walk.DefaultChunkSize,
		len(bins), float64(size(bins))/(1<<20), len(want), want)
	return img, want
}
