package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostile is what an image can put in a path or an instruction to attack
// an HTML report.
const hostile = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'&`

// dataBlock returns the content of the <script type="application/json">
// element with the id.
func dataBlock(t *testing.T, html []byte, id string) []byte {
	t.Helper()
	re := regexp.MustCompile(`(?s)<script type="application/json" id="` + id + `">(.*?)</script>`)
	m := re.FindSubmatch(html)
	if m == nil {
		t.Fatalf("no data block %s", id)
	}
	return m[1]
}

func writeHTML(t testing.TB, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHTMLDataBlockIsTheJSONReport: the report the page is built from is
// the layerscan/v1 report, the same as report.json.golden.
func TestHTMLDataBlockIsTheJSONReport(t *testing.T) {
	page := writeHTML(t, sample())
	var got, want any
	if err := json.Unmarshal(dataBlock(t, page, "layerscan-report"), &got); err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "report.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the HTML data block differs from report.json.golden:\n%s", dataBlock(t, page, "layerscan-report"))
	}
	var meta struct{ Repos []string }
	if err := json.Unmarshal(dataBlock(t, page, "layerscan-meta"), &meta); err != nil {
		t.Fatal(err)
	}
	if len(meta.Repos) != 1 || meta.Repos[0] != "app.oci.tar" {
		t.Errorf("meta repos %v", meta.Repos)
	}
}

func hostileReport() *Report {
	r := sample()
	im := r.Images[0]
	im.Ref = "registry.example.com/evil" + hostile + ":1"
	im.Platform = "linux/" + hostile
	im.Layers[0].Instruction = "COPY " + hostile + " /app/"
	im.Layers[0].CreatedBy = hostile
	im.Layers[1].Instruction = "RUN rm " + hostile
	for i := range im.Findings {
		f := &im.Findings[i]
		f.Path = "/app/" + hostile
		f.Layer.Instruction = "COPY " + hostile
		f.Rule = "rule-" + hostile
		f.Cause = "cause-" + hostile
		f.Remediation = hostile
		f.Secret = hostile
		f.Note = hostile
		f.ArchivePath = []string{hostile}
	}
	im.Warnings[0].Message = hostile
	r.Tool.Version = hostile
	two := *im
	two.Ref = "registry.example.com/other" + hostile + ":2"
	r.Images = append(r.Images, &two)
	return r
}

// TestHTMLEscapesHostileContent plants markup in every string the image
// controls: none of it may become markup.
func TestHTMLEscapesHostileContent(t *testing.T) {
	page := writeHTML(t, hostileReport())
	s := string(page)
	for _, bad := range []string{"<script>alert", "<img src=x", "onerror=alert(2)>"} {
		if strings.Contains(s, bad) {
			i := strings.Index(s, bad)
			t.Errorf("unescaped %q in the page: …%s…", bad, s[max(0, i-80):min(len(s), i+80)])
		}
	}
	if n := strings.Count(s, "<script"); n != 3 {
		t.Errorf("%d <script elements, want 3 (report, meta, code)", n)
	}
	if n := strings.Count(s, "</script"); n != 3 {
		t.Errorf("%d </script, want 3", n)
	}
	// The data block still holds the strings, intact once decoded.
	var r Report
	if err := json.Unmarshal(dataBlock(t, page, "layerscan-report"), &r); err != nil {
		t.Fatal(err)
	}
	if r.Images[0].Findings[0].Path != "/app/"+hostile || r.Images[0].Layers[0].Instruction != "COPY "+hostile+" /app/" {
		t.Errorf("hostile strings not kept: %q", r.Images[0].Findings[0].Path)
	}
}

// TestHTMLSelfContained: nothing is fetched (no src, no stylesheet link,
// no url() in the CSS), and a Content-Security-Policy forbids fetching
// and any script but the page's own.
func TestHTMLSelfContained(t *testing.T) {
	s := string(writeHTML(t, sample()))
	for _, re := range []string{`\ssrc=`, `<link[^>]+stylesheet`, `url\(`, `@import`, `https?://`} {
		if m := regexp.MustCompile(re).FindString(s); m != "" {
			t.Errorf("the page may fetch something: %q", m)
		}
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(s)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	policy := html.UnescapeString(csp[1])
	if !strings.HasPrefix(policy, "default-src 'none'; script-src 'sha256-") || strings.Contains(policy, "unsafe") {
		t.Errorf("policy %q", policy)
	}
	if !strings.Contains(policy, cspHash(htmlJS)) || !strings.Contains(policy, cspHash(htmlCSS)) {
		t.Error("the policy does not allow the page's own script and style by hash")
	}
	if !strings.Contains(s, "<script>"+htmlJS+"</script>") || !strings.Contains(s, "<style>"+htmlCSS+"</style>") {
		t.Error("the script or style sheet is not inlined verbatim (the CSP hashes would not match)")
	}
	if !strings.Contains(s, "@media print") {
		t.Error("no print style sheet")
	}
}

func TestRepository(t *testing.T) {
	for ref, want := range map[string]string{
		"registry.example.com/team/app:1.4":        "registry.example.com/team/app",
		"registry.example.com:5000/app@sha256:abc": "registry.example.com:5000/app",
		"localhost:5000/app:latest":                "localhost:5000/app",
		"alpine":                                   "alpine",
		"docker.io/library/nginx:1.25":             "docker.io/library/nginx",
		"oci-archive:app.oci.tar:latest":           "app.oci.tar",
		"oci:testdata/images/lifecycle:latest":     "testdata/images/lifecycle",
		"oci:layout":                               "layout",
		"./app.tar":                                "./app.tar",
		"/abs/app.docker.tar:latest":               "/abs/app.docker.tar",
	} {
		if got := Repository(ref); got != want {
			t.Errorf("Repository(%q) = %q, want %q", ref, got, want)
		}
	}
}

// sweepReport makes a report of n images the way a registry sweep would:
// repositories of several tags, built on a few base images, the first of
// which carries a secret in a layer.
func sweepReport(n int) *Report {
	r := &Report{Schema: Schema, Tool: Tool{Name: "layerscan", Version: "test"}}
	digest := func(s string) string { return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))) }
	bases := 5
	for i := range n {
		repo := fmt.Sprintf("team-%02d/service-%03d", (i/5)%17, i/5)
		base := i % bases
		im := &Image{Ref: fmt.Sprintf("registry.example.com/%s:v%d", repo, i%5), Digest: digest(fmt.Sprintf("image%d", i)),
			Platform: "linux/amd64", Errors: []Problem{}, Findings: []Finding{},
			Stats: ImageStats{LayersScanned: 6, FilesScanned: 400, Bytes: 40 << 20, DurationMS: 900}}
		im.Base = &BaseImage{Name: fmt.Sprintf("registry.example.com/base/debian-%d:12", base), Layers: 2, Source: "annotation"}
		for l := range 6 {
			d := digest(fmt.Sprintf("image%d-layer%d", i, l))
			instr := fmt.Sprintf("RUN make step-%d", l)
			if l < 2 {
				d = digest(fmt.Sprintf("base%d-layer%d", base, l))
				instr = fmt.Sprintf("ADD file:base%d in /", base)
				if l == 1 {
					instr = "RUN apt-get install -y ca-certificates curl"
				}
			}
			im.Layers = append(im.Layers, Layer{Index: l, Digest: d, DiffID: d, Size: int64(1000 << (l * 2)), HistoryIndex: l, CreatedBy: instr, Instruction: instr})
		}
		add := func(rule, sev, path string, layer int, status string, removedBy int, cause string) {
			f := Finding{Rule: rule, Description: "A " + rule, Severity: sev, Source: "file", Path: path, Line: 2,
				Layer:  LayerRef{Index: layer, Digest: im.Layers[layer].Digest, Instruction: im.Layers[layer].Instruction},
				Status: status, Secret: "ghp_****", Fingerprint: fmt.Sprintf("%x", len(im.Findings)+i*10),
				Cause: cause, Remediation: "Rotate the secret.", New: i%97 == 0}
			if removedBy >= 0 {
				f.RemovedBy = &Removal{Index: removedBy, Digest: im.Layers[removedBy].Digest, Instruction: im.Layers[removedBy].Instruction}
			}
			im.Findings = append(im.Findings, f)
		}
		if base == 0 {
			add("private-key", "critical", "/etc/ssl/private/build.key", 1, "present", -1, "inherited-from-base-image")
		}
		switch i % 4 {
		case 0:
			add("github-pat", "high", "/app/.env", 2, "deleted", 4, "removed-in-later-layer")
			add("aws-access-token", "high", "/root/.aws/credentials", 3, "overwritten", 5, "overwritten-in-later-layer")
		case 1:
			add("generic-api-key", "medium", "/app/config/settings.yaml", 3, "present", -1, "copied-into-image")
		case 2:
			add("slack-bot-token", "low", "/srv/notify.sh", 5, "present", -1, "copied-into-image")
		}
		r.Images = append(r.Images, im)
	}
	return r
}

func TestHTMLOverview(t *testing.T) {
	r := sweepReport(40)
	v, err := htmlViewOf(r)
	if err != nil {
		t.Fatal(err)
	}
	ov := v.Overview
	if ov == nil || ov.Registry != "registry.example.com" {
		t.Fatalf("overview %+v", ov)
	}
	if len(ov.Repos) != 8 || len(ov.Repos[0].Images) != 5 {
		t.Errorf("%d repositories, the first with %d images", len(ov.Repos), len(ov.Repos[0].Images))
	}
	total := 0
	for _, rp := range ov.Repos {
		for _, n := range rp.Counts {
			total += n
		}
	}
	if total != r.FindingCount() {
		t.Errorf("repositories count %d findings, the report has %d", total, r.FindingCount())
	}
	// The first base's layer 1 carries a finding in every image built on
	// it: the most shared layer with findings.
	if len(ov.Shared) == 0 || ov.Shared[0].Images != 8 || ov.Shared[0].Worst != "critical" || !ov.Shared[0].InBase {
		t.Fatalf("shared layers %+v", ov.Shared)
	}
	if ov.New != 3 || !v.AnyNew { // image 0: three findings, all new
		t.Errorf("new findings %d", ov.New)
	}
	page := string(writeHTML(t, r))
	for _, want := range []string{`id="overview"`, `href="#img-0-l-1"`, `data-layer-filter="` + ov.Shared[0].Digest + `"`, `<option value="team-00/service-000">`, "3 new"} {
		if !strings.Contains(page, want) {
			t.Errorf("page without %q", want)
		}
	}
	// One image: no overview.
	if v, _ := htmlViewOf(sample()); v.Overview != nil {
		t.Error("overview for one image")
	}
	if strings.Contains(string(writeHTML(t, &Report{})), `id="overview"`) {
		t.Error("overview for no image")
	}
}

// TestHTMLLarge writes a 2,000-image report: the file stays a few kB per
// image (image sections are built in the browser when opened).
func TestHTMLLarge(t *testing.T) {
	r := sweepReport(2000)
	start := time.Now()
	page := writeHTML(t, r)
	var js bytes.Buffer
	WriteJSON(&js, r)
	t.Logf("2,000 images, %d findings: HTML %.1f MB in %s (JSON report %.1f MB)", r.FindingCount(),
		float64(len(page))/1e6, time.Since(start).Round(time.Millisecond), float64(js.Len())/1e6)
	if len(page) > 2*js.Len()+1<<20 {
		t.Errorf("HTML of %d bytes for a JSON report of %d", len(page), js.Len())
	}
	if n := strings.Count(string(page), `<details class="image"`); n != 2000 {
		t.Errorf("%d image sections", n)
	}
	if strings.Contains(string(page), `class="tl"`) {
		t.Error("timelines are in the HTML: they should be built on first open")
	}
}
