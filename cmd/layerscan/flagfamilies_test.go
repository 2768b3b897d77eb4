package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
)

// familyImage is a two-layer OCI layout whose findings each depend on one
// flag family: a plain secret (deleted by layer 1), one only decoding
// finds, one only archive scanning finds, and in layer 1's history a build
// argument and a token in the instruction; layer 1 holds 30 more files
// (the bounds).
func familyImage(t *testing.T) string {
	t.Helper()
	var jar bytes.Buffer
	zw := zip.NewWriter(&jar)
	w, _ := zw.Create("BOOT-INF/classes/application.properties")
	fmt.Fprintf(w, "stripe.key=%s\n", testimage.SecretStripe)
	zw.Close()
	enc := base64.StdEncoding.EncodeToString([]byte("npm_token=" + testimage.SecretNPM + "\n"))
	layer0 := testimage.Tar(
		testimage.Entry{Name: "app/first.env", Body: "# planted\nTOKEN=" + testimage.SecretGitHub + "\n"},
		testimage.Entry{Name: "app/blob.txt", Body: "data: " + enc + "\n"},
		testimage.Entry{Name: "app/app.jar", Body: jar.String()},
	)
	filler := []testimage.Entry{{Name: "app/.wh.first.env"}}
	for i := range 30 {
		filler = append(filler, testimage.Entry{Name: fmt.Sprintf("data/f%02d", i), Body: strings.Repeat("x", 1500)})
	}
	return hostileImage{
		layers: []hostileLayer{{tar: layer0}, {tar: testimage.Tar(filler...)}},
		history: []map[string]any{
			{"created_by": "COPY . /app # buildkit"},
			{"created_by": "|1 GITLAB_TOKEN=" + testimage.SecretGitLab + " /bin/sh -c echo " + testimage.SecretSlack + " > /dev/null && rm /app/first.env"},
		},
	}.write(t)
}

// findingKey is what a user compares between commands: which rule, where,
// the file's fate and the secret as printed.
func familyKeys(t *testing.T, scanOut string) []string {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(scanOut), &rep); err != nil {
		t.Fatalf("scan JSON: %v\n%s", err, scanOut)
	}
	var keys []string
	for _, f := range rep.Images[0].Findings {
		keys = append(keys, strings.Join([]string{f.Rule, f.Source, f.Path, f.Status, f.Secret}, " "))
	}
	slices.Sort(keys)
	return keys
}

func historyKeys(t *testing.T, out string) []string {
	t.Helper()
	var doc report.History
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("history JSON: %v\n%s", err, out)
	}
	var keys []string
	add := func(fs []report.HistoryFinding) {
		for _, f := range fs {
			keys = append(keys, strings.Join([]string{f.Rule, f.Source, f.Path, f.Status, f.Secret}, " "))
		}
	}
	for _, e := range doc.Entries {
		add(e.Findings)
	}
	add(doc.ConfigFindings)
	slices.Sort(keys)
	return keys
}

// TestHistoryHonoursDetectionFlags: layerscan history reports exactly the
// findings scan reports, under every detection, archive and display flag.
func TestHistoryHonoursDetectionFlags(t *testing.T) {
	ref := "oci:" + familyImage(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	replace := write("replace.toml", "title = \"only acme\"\n[[rules]]\nid = \"acme-token\"\nregex = '''acme_[0-9a-f]{32}'''\n")
	extend := write("extend.toml", "[extend]\nuseDefault = true\n[[allowlists]]\npaths = ['''app/first\\.env''']\n")
	base := runCLI(t, nil, "--format", "json", "--exit-code", "0", ref)
	all := familyKeys(t, base.stdout)
	var rep report.Report
	json.Unmarshal([]byte(base.stdout), &rep)
	var ghFingerprint string
	for _, f := range rep.Images[0].Findings {
		if f.Rule == "github-pat" {
			ghFingerprint = f.Fingerprint
		}
	}
	ignore := write("ignore", ghFingerprint+" # the deleted token\n")
	baseline := write("baseline.json", base.stdout)

	for _, rule := range []string{"github-pat", "stripe-access-token", "npm-access-token", "gitlab-pat"} {
		if !strings.Contains(strings.Join(all, "\n"), rule+" ") {
			t.Fatalf("the default scan misses %s; the image is not what the test needs:\n%s", rule, strings.Join(all, "\n"))
		}
	}
	cases := []struct {
		name string
		args []string
		// drop and keep name rules whose presence the flag decides, so the
		// comparison cannot pass with both commands reporting nothing.
		drop, keep []string
	}{
		{"defaults", nil, nil, []string{"github-pat", "stripe-access-token", "npm-access-token", "gitlab-pat"}},
		{"--config replacing the rules", []string{"--config", replace}, []string{"github-pat", "stripe-access-token", "npm-access-token", "gitlab-pat"}, nil},
		{"--config extending with an allowlist", []string{"--config", extend}, []string{"github-pat"}, []string{"stripe-access-token"}},
		{"--max-decode-depth 0", []string{"--max-decode-depth", "0"}, []string{"npm-access-token"}, []string{"github-pat"}},
		{"--archive-depth 0", []string{"--archive-depth", "0"}, []string{"stripe-access-token"}, []string{"github-pat"}},
		{"--ignore", []string{"--ignore", ignore}, []string{"github-pat"}, []string{"stripe-access-token"}},
		{"--baseline", []string{"--baseline", baseline}, []string{"github-pat", "stripe-access-token", "npm-access-token", "gitlab-pat"}, nil},
		{"--max-file-size", []string{"--max-file-size", "12"}, []string{"github-pat", "npm-access-token"}, []string{"gitlab-pat"}},
		{"--show-secrets", []string{"--show-secrets"}, nil, []string{testimage.SecretGitHub, testimage.SecretGitLab, testimage.SecretSlack}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sr := runCLI(t, nil, append([]string{"--format", "json", "--exit-code", "0"}, append(c.args, ref)...)...)
			hr := runCLI(t, nil, append([]string{"history", "--format", "json"}, append(c.args, ref)...)...)
			if sr.code != 0 || hr.code != 0 {
				t.Fatalf("scan exit %d, history exit %d\n%s\n%s", sr.code, hr.code, sr.stderr, hr.stderr)
			}
			s, h := familyKeys(t, sr.stdout), historyKeys(t, hr.stdout)
			if !slices.Equal(s, h) {
				t.Errorf("history differs from scan:\nscan:\n%s\nhistory:\n%s", strings.Join(s, "\n"), strings.Join(h, "\n"))
			}
			joined := strings.Join(s, "\n")
			for _, r := range c.drop {
				if strings.Contains(joined, r) {
					t.Errorf("%s still reported:\n%s", r, joined)
				}
			}
			for _, r := range c.keep {
				if !strings.Contains(joined, r) {
					t.Errorf("%s not reported:\n%s", r, joined)
				}
			}
		})
	}
}

// TestLsRedactsAsScan: ls hides the token in an instruction unless
// --show-secrets, and every forensic command refuses a broken --config as
// scan does.
func TestLsRedactsAsScan(t *testing.T) {
	ref := "oci:" + familyImage(t)
	res := runCLI(t, nil, "ls", ref)
	if res.code != 0 || strings.Contains(res.stdout, testimage.SecretSlack) || !strings.Contains(res.stdout, "RUN echo xoxb") {
		t.Errorf("ls: exit %d, the token in the instruction is not redacted:\n%s", res.code, res.stdout)
	}
	res = runCLI(t, nil, "ls", "--show-secrets", ref)
	if res.code != 0 || !strings.Contains(res.stdout, "RUN echo "+testimage.SecretSlack) {
		t.Errorf("ls --show-secrets: exit %d, the token is not shown:\n%s", res.code, res.stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n"), 0o644)
	for _, cmd := range [][]string{{"ls", ref}, {"history", ref}, {"extract", ref, "--layer", "0", "/app/first.env", "-o", "-"}, {ref}} {
		res := runCLI(t, nil, append(append([]string{}, cmd...), "--config", bad)...)
		if res.code != 2 || !strings.Contains(res.stderr, "bad.toml") {
			t.Errorf("%v with a broken --config: exit %d, stderr %q; want 2 naming the file, as scan", cmd, res.code, res.stderr)
		}
	}
}

// TestForensicCommandsHonourBounds: every bound flag crossed through each
// command: the same flag named, the same exit status as scan.
func TestForensicCommandsHonourBounds(t *testing.T) {
	ref := "oci:" + familyImage(t)
	cases := []struct {
		flag []string
		code int    // scan, history and ls
		want string // in scan's layer error, history's warnings, ls's and extract's stderr
	}{
		{[]string{"--max-entries", "10"}, 3, "--max-entries"},
		{[]string{"--max-layer-size", "8192"}, 3, "--max-layer-size"},
		{[]string{"--max-image-size", "20000", "--jobs", "1"}, 3, "--max-image-size"},
	}
	for _, c := range cases {
		t.Run(c.flag[0], func(t *testing.T) {
			sr := runCLI(t, nil, append([]string{"--format", "json", "--exit-code", "0"}, append(c.flag, ref)...)...)
			hr := runCLI(t, nil, append([]string{"history", "--format", "json"}, append(c.flag, ref)...)...)
			lr := runCLI(t, nil, append([]string{"ls"}, append(c.flag, ref)...)...)
			if sr.code != c.code || hr.code != c.code || lr.code != c.code {
				t.Fatalf("exit: scan %d, history %d, ls %d; want %d\n%s\n%s\n%s", sr.code, hr.code, lr.code, c.code, sr.stderr, hr.stderr, lr.stderr)
			}
			if !strings.Contains(sr.stdout, c.want) || !strings.Contains(hr.stdout, c.want) || !strings.Contains(lr.stdout+lr.stderr, c.want) {
				t.Errorf("not every command names %s:\nscan: %s\nhistory: %s\nls: %s%s", c.want, sr.stdout, hr.stdout, lr.stdout, lr.stderr)
			}
			// The secret in layer 0 is found by both, whatever the bound did to layer 1.
			if s, h := familyKeys(t, sr.stdout), historyKeys(t, hr.stdout); !slices.Equal(s, h) || len(s) == 0 {
				t.Errorf("history differs from scan:\n%v\n%v", s, h)
			}
			// extract reads layer 1 under the same bound: the file past it is refused.
			er := runCLI(t, nil, append([]string{"extract", ref, "--layer", "1", "/data/f29", "-o", "-"}, c.flag...)...)
			if er.code != 2 || !strings.Contains(er.stderr, c.want) {
				t.Errorf("extract past %s: exit %d, stderr %q", c.want, er.code, er.stderr)
			}
		})
	}
	t.Run("--max-layers", func(t *testing.T) {
		for _, cmd := range [][]string{{ref}, {"history", ref}, {"ls", ref}, {"extract", ref, "--layer", "0", "/app/first.env", "-o", "-"}} {
			res := runCLI(t, nil, append(append([]string{}, cmd...), "--max-layers", "1")...)
			assertUsageError(t, res, "more than the 1 allowed")
		}
	})
	t.Run("extract within the bounds", func(t *testing.T) {
		res := runCLI(t, nil, "extract", ref, "--layer", "0", "/app/first.env", "-o", "-", "--max-entries", "10")
		if res.code != 0 || !strings.Contains(res.stdout, testimage.SecretGitHub) {
			t.Errorf("extract of a layer within --max-entries: exit %d\n%s", res.code, res.stderr)
		}
	})
}

// TestEachLayerReadOnce: scan, history, ls and extract download each layer
// blob they need once (README: one read per layer), from a registry that
// counts the requests.
func TestEachLayerReadOnce(t *testing.T) {
	idx, err := layout.ImageIndexFromPath(familyImage(t))
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	gets := map[string]int{}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			mu.Lock()
			gets[path.Base(r.URL.Path)]++
			mu.Unlock()
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/family:1"
	dst, _ := name.ParseReference(ref, name.Insecure)
	if err := remote.Write(dst, img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	var digests []string
	for _, l := range layers {
		d, _ := l.Digest()
		digests = append(digests, d.String())
	}
	for _, c := range []struct {
		args []string
		read []int // the layers the command needs
	}{
		{[]string{"--exit-code", "0", ref}, []int{0, 1}},
		{[]string{"history", ref}, []int{0, 1}},
		{[]string{"ls", ref}, []int{0, 1}},
		{[]string{"extract", ref, "--layer", "0", "/app/first.env", "-o", "-"}, []int{0}},
	} {
		mu.Lock()
		clear(gets)
		mu.Unlock()
		res := runCLI(t, nil, append([]string{"--insecure"}, c.args...)...)
		if res.code != 0 {
			t.Fatalf("%v: exit %d\n%s", c.args, res.code, res.stderr)
		}
		mu.Lock()
		t.Logf("%v: blob downloads %v", c.args[0], gets)
		for i, d := range digests {
			want := 0
			if slices.Contains(c.read, i) {
				want = 1
			}
			if gets[d] != want {
				t.Errorf("%v: layer %d downloaded %d times, want %d", c.args[0], i, gets[d], want)
			}
		}
		mu.Unlock()
	}
}
